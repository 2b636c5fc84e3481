using Spectre.Console;

namespace Faultsim.Host.Output;

/// <summary>A Spectre console on a writer: colours and width from the terminal, plain and wide when redirected.</summary>
internal static class Terminal
{
    public static IAnsiConsole On(TextWriter writer)
    {
        var interactive = ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!interactive)
            console.Profile.Width = 140;
        return console;
    }
}

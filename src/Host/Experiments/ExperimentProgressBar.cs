using System.Globalization;
using Spectre.Console;

namespace Faultsim.Host.Experiments;

/// <summary>
/// An experiment's progress — runs done of all, the point finished last, the time left — as a bar on standard error,
/// shown only on a terminal: with either output redirected (or not the console) the runs go on with no bar.
/// </summary>
internal static class ExperimentProgressBar
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(250);

    public static T Run<T>(ExperimentProgress progress, TextWriter error, Func<T> work)
    {
        if (!ReferenceEquals(error, Console.Error) || Console.IsErrorRedirected || Console.IsOutputRedirected)
            return work();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return console.Progress().AutoClear(true).HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var bar = context.AddTask(Describe(progress), maxValue: Math.Max(1, progress.Total));
                var running = Task.Factory.StartNew(work, TaskCreationOptions.LongRunning);
                while (!running.Wait(Refresh))
                {
                    bar.Value = progress.Done;
                    bar.Description = Describe(progress);
                }
                bar.Value = bar.MaxValue;
                return running.GetAwaiter().GetResult();
            });
    }

    private static string Describe(ExperimentProgress progress) =>
        Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"{progress.Done}/{progress.Total} runs{(progress.Last is { } last ? $", last: point {last.Index} ({last})" : "")}"));
}

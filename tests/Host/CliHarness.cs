using Faultsim.Host.Cli;

namespace Faultsim.Tests.Host;

/// <summary>The command line run in-process, as a user's shell would run it: its exit code, standard output and standard error.</summary>
internal static class CliHarness
{
    public static (int Exit, string Out, string Err) Cli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = FaultsimCli.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }
}

using System.CommandLine;
using Faultsim.Host.Configuration;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Cli;

/// <summary>
/// The faultsim command line. Bad input of any kind (arguments, config, workload) ends with one
/// line on stderr naming where it is and how to fix it, and exit code 2 — never a stack trace.
/// </summary>
public static class FaultsimCli
{
    /// <summary>Folds a parser message (some list choices on lines of their own) onto one line.</summary>
    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("faultsim: an actor-based simulator of how a multiprocessor OS handles page faults.")
        {
            RunCommand.Create(output, error),
            ScenarioCommands.List(output),
            ScenarioCommands.Explore(output, error),
            ScenarioCommands.Replay(output, error),
            BenchCommand.Create(output),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var command = parse.CommandResult.Command.Name;
            var messages = parse.Errors.Select(e => OneLine(e.Message)).Distinct();
            error.WriteLine($"faultsim: {string.Join("; ", messages)} (see 'faultsim {(command == root.Name ? "" : command + " ")}--help')");
            return ExitCodes.BadInput;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (ConfigException e)
        {
            error.WriteLine($"faultsim: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (WorkloadException e)
        {
            error.WriteLine($"faultsim: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (Faultsim.Actors.Machine.SimulationException e)
        {
            error.WriteLine($"faultsim: {Running.Runner.CrashOf(e.Message)}");
            return ExitCodes.InternalError;
        }
        catch (IOException e)
        {
            error.WriteLine($"faultsim: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (UnauthorizedAccessException e)
        {
            error.WriteLine($"faultsim: {e.Message}");
            return ExitCodes.BadInput;
        }
    }
}

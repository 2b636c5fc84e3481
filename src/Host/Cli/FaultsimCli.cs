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
    /// <summary>The environment variable that, set to 1, shows the stack trace of an unexpected error (as --verbose does).</summary>
    public const string DebugVariable = "FAULTSIM_DEBUG";

    /// <summary>Folds a parser message (some list choices on lines of their own) onto one line.</summary>
    private static string OneLine(string message) =>
        string.Join(' ', message.Split(['\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    public static int Run(string[] args, TextWriter output, TextWriter error) =>
        Run(args, output, error, Environment.GetEnvironmentVariable);

    /// <param name="environment">Reads an environment variable (FAULTSIM_DEBUG); the process's own by default.</param>
    /// <param name="interrupt">Cancelled when the user interrupts (the process's SIGINT): the command stops, reports what it did, and exits 130.</param>
    public static int Run(string[] args, TextWriter output, TextWriter error, Func<string, string?> environment, CancellationToken interrupt = default)
    {
        var verbose = new Option<bool>("--verbose")
        {
            Description = $"Show the stack trace of an unexpected error (as {DebugVariable}=1 does)",
            Recursive = true,
        };
        var cli = new CliContext(output, error, environment, interrupt);
        var root = new RootCommand("faultsim: an actor-based simulator of how a multiprocessor OS handles page faults.")
        {
            RunCommand.Create(cli),
            ScenarioCommands.List(cli),
            ScenarioCommands.Explore(cli),
            ScenarioCommands.Replay(cli),
            BenchCommand.Create(cli),
            ExperimentCommands.List(cli),
            ExperimentCommands.Run(cli),
            ClusterCommands.Node(cli),
            ClusterCommands.Cluster(cli),
            KernelCheckCommand.Create(cli),
        };
        root.Options.Add(verbose);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var command = parse.CommandResult.Command.Name;
            var messages = parse.Errors.Select(e => OneLine(e.Message)).Distinct();
            return Fail(error, $"{string.Join("; ", messages)} (see 'faultsim {(command == root.Name ? "" : command + " ")}--help')", ExitCodes.BadInput);
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (ConfigException e)
        {
            return Fail(error, e.Message, ExitCodes.BadInput);
        }
        catch (WorkloadException e)
        {
            return Fail(error, e.Message, ExitCodes.BadInput);
        }
        catch (Cluster.ClusterUnavailableException e)
        {
            return Fail(error, e.Message, ExitCodes.Unavailable);
        }
        catch (Faultsim.Actors.Machine.SimulationException e)
        {
            return Fail(error, Running.Runner.CrashOf(e.Message), ExitCodes.InternalError);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(error, e.Message, ExitCodes.BadInput);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var command = parse.CommandResult.Command.Name;
            var methods = new System.Diagnostics.StackTrace(e).GetFrames().Select(f => f.GetMethod()).Where(m => m?.DeclaringType is not null).ToList();
            var where = methods.FirstOrDefault(m => m!.DeclaringType!.Namespace?.StartsWith("Faultsim", StringComparison.Ordinal) == true) ?? methods.FirstOrDefault();
            var site = where is null ? "" : $" in {where.DeclaringType!.Name}.{where.Name}";
            var debug = parse.GetValue(verbose) || environment(DebugVariable) is "1" or "true";
            Fail(error, $"internal error: {(command == root.Name ? "faultsim" : command)} failed{site}: {e.GetType().Name}: {OneLine(e.Message)}"
                + (debug ? "" : $"; rerun with --verbose (or {DebugVariable}=1) for the stack trace, and report it"), ExitCodes.InternalError);
            if (debug)
                error.WriteLine(e.ToString());
            return ExitCodes.InternalError;
        }
    }

    /// <summary>Writes the one line of an error, every control character in it escaped (input may be binary), and returns <paramref name="exit"/>.</summary>
    internal static int Fail(TextWriter error, string message, int exit)
    {
        error.WriteLine($"faultsim: {Printable(message)}");
        return exit;
    }

    /// <summary><paramref name="text"/> with control characters (C0, DEL, C1, line and paragraph separators, bidirectional overrides) written as \uXXXX.</summary>
    public static string Printable(string text)
    {
        if (!text.Any(IsUnprintable))
            return text;
        var sb = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (IsUnprintable(c))
                sb.Append(c < 0x100 ? $"\\x{(int)c:x2}" : $"\\u{(int)c:x4}");
            else
                sb.Append(c);
        }
        return sb.ToString();
    }

    private static bool IsUnprintable(char c) =>
        char.IsControl(c) || c is '\u2028' or '\u2029' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069') or '\u200e' or '\u200f';
}

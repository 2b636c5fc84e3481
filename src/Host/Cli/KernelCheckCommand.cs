using System.Collections.Immutable;
using System.CommandLine;
using Faultsim.Host.Configuration;
using Faultsim.Host.KernelCheck;
using Faultsim.Host.Output;

namespace Faultsim.Host.Cli;

/// <summary>
/// faultsim kernel-check: runs each access pattern on this machine's Linux kernel (a C helper built with the system's
/// C compiler) and in faultsim on both engines with the host's settings, and prints the counts side by side.
/// Exit 0 when every pattern that does not depend on the host agrees, 1 when one does not, 2 without a C compiler.
/// </summary>
internal static class KernelCheckCommand
{
    public static Command Create(CliContext cli)
    {
        var json = CommonOptions.Json();
        var cc = new Option<string?>("--cc") { Description = "The C compiler that builds the native helper (default: $CC, else cc or gcc on PATH)", HelpName = "PATH" };
        var names = new Argument<string[]>("pattern")
        {
            Description = $"Patterns to run (default: all): {string.Join(", ", KernelPatterns.All.Select(p => p.Name))}",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("kernel-check", "Measure the page faults of access patterns on this machine's Linux kernel beside faultsim's counts of the same patterns")
        {
            json, cc, names,
        };
        command.SetAction(parse =>
        {
            OutputPaths.Check([("--json", parse.GetValue(json))], []);
            var wanted = parse.GetValue(names) ?? [];
            foreach (var name in wanted)
                if (KernelPatterns.All.All(p => p.Name != name))
                    throw new ConfigException(name, null, $"is not a kernel-check pattern; use one of: {string.Join(", ", KernelPatterns.All.Select(p => p.Name))}");
            var patterns = wanted.Length == 0 ? KernelPatterns.All : [.. KernelPatterns.All.Where(p => wanted.Contains(p.Name))];
            var compiler = NativeHelper.Compiler(parse.GetValue(cc), cli.Environment);
            ImmutableArray<CheckRow> rows;
            HostSettings host;
            try
            {
                var native = NativeHelper.Run(compiler, [.. patterns.Select(p => p.Name)]);
                host = HostSettings.From(native.Host);
                rows = KernelChecker.Check(host, native, patterns, cli.Interrupt);
            }
            catch (KernelCheckException e)
            {
                return FaultsimCli.Fail(cli.Error, $"kernel-check failed: {e.Message}", ExitCodes.InternalError);
            }
            catch (OperationCanceledException) when (cli.Interrupt.IsCancellationRequested)
            {
                return FaultsimCli.Fail(cli.Error, "kernel-check interrupted (SIGINT)", ExitCodes.Interrupted);
            }
            CommonOptions.Report(parse.GetValue(json), cli.Output, () => KernelCheckReport.Write(cli.Output, host, rows), () => KernelCheckReport.Json(host, rows));
            return rows.Any(r => r.Agree == false) ? ExitCodes.Violation : ExitCodes.Ok;
        });
        return command;
    }
}

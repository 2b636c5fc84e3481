using System.Collections.Immutable;
using System.Globalization;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Configuration;
using Faultsim.Host.Running;
using Faultsim.Model.Machine;

namespace Faultsim.Host.KernelCheck;

/// <summary>Runs each pattern's parts on the reference machine and the actor engine (deterministic, seed 1) with the host's settings, beside Linux's counts.</summary>
internal static class KernelChecker
{
    private const ulong Seed = 1;

    public static ImmutableArray<CheckRow> Check(HostSettings host, NativeRun native, IReadOnlyList<KernelPattern> patterns, CancellationToken interrupt)
    {
        using var engine = new DeterministicEngine();
        var rows = ImmutableArray.CreateBuilder<CheckRow>();
        foreach (var pattern in patterns)
        {
            var cuts = new Dictionary<(int Lines, string Engine), RunResult?>();
            RunResult? Cut(int lines, string engineName)
            {
                if (!cuts.TryGetValue((lines, engineName), out var result))
                    cuts[(lines, engineName)] = result = Run(pattern, lines, engineName, host, engine, interrupt);
                return result;
            }
            native.Skipped.TryGetValue(pattern.Name, out var skipped);
            native.HostDependent.TryGetValue(pattern.Name, out var note);
            foreach (var part in pattern.Parts)
            {
                interrupt.ThrowIfCancellationRequested();
                var reference = Count(Cut(part.Before, ReferenceMachine.EngineName), Cut(part.Through, ReferenceMachine.EngineName), part.Process);
                var actors = Count(Cut(part.Before, MachineActor.EngineName), Cut(part.Through, MachineActor.EngineName), part.Process);
                PartCount? linux = native.Counts.TryGetValue((pattern.Name, part.Name), out var n) ? new PartCount(n.Minor, n.Major, n.Copies, n.Signal) : null;
                var reason = skipped ?? note ?? (linux is null ? "the native helper printed no result for this part" : null);
                var agree = reason is null ? linux!.Matches(reference) && linux.Matches(actors) : (bool?)null;
                rows.Add(new CheckRow(pattern.Name, part.Name, pattern.What, linux, reference, actors, agree, reason));
            }
        }
        return rows.ToImmutable();
    }

    private static RunResult Run(KernelPattern pattern, int lines, string engineName, HostSettings host, DeterministicEngine engine, CancellationToken interrupt)
    {
        var settings = SimSettings.From(ConfigLoader.LoadText(
            [($"kernel-check pattern {pattern.Name}", pattern.Config(lines)), ("kernel-check host settings", host.Config)], [$"engine={engineName}", $"seed={Seed}"]));
        var report = Runner.Run(settings, settings.Workload, Seed, engine, interrupt: interrupt);
        if (report.Interrupted)
            throw new OperationCanceledException(interrupt);
        if (report.Result is not { } result || report.Failed || report.Crash is not null)
            throw new KernelCheckException($"pattern {pattern.Name} did not run to its end on the {engineName} engine: {report.Crash ?? report.Violation?.ToString() ?? "no result"}");
        return result;
    }

    /// <summary><paramref name="process"/>'s counts in <paramref name="after"/> less those in <paramref name="before"/> (nothing when it did not exist yet).</summary>
    private static PartCount Count(RunResult? before, RunResult? after, string process)
    {
        var end = after!.Processes.FirstOrDefault(p => p.Name == process)
                  ?? throw new KernelCheckException($"no process {process} in the run");
        var start = before!.Processes.FirstOrDefault(p => p.Name == process)?.Counters;
        var signal = end.Fate switch
        {
            ProcessFate.KilledBySigSegv => "sigsegv",
            ProcessFate.KilledBySigBus => "sigbus",
            _ => null,
        };
        if (before.Processes.FirstOrDefault(p => p.Name == process) is { Fate: ProcessFate.KilledBySigSegv or ProcessFate.KilledBySigBus })
            signal = null;
        if (after.Panic is not null && before.Panic is null)
            signal = "oops";
        return new PartCount(end.Counters.Minor - (start?.Minor ?? 0), end.Counters.Major - (start?.Major ?? 0),
            end.Counters.PagesCopied - (start?.PagesCopied ?? 0), signal);
    }
}

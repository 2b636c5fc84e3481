using Akka.Actor;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Monitoring;
using Faultsim.Actors.Scheduling;
using Faultsim.Model.Common;
using Faultsim.Model.Machine;

namespace Faultsim.Host.Bench;

/// <summary>
/// An engine to time: the reference machine, the actors live on a long-lived system, or the actors on the deterministic
/// driver, with the engine settings its runs take; for the actors, Akka.NET's own ceiling in the same mode.
/// </summary>
public sealed record BenchRunner(string Engine, string? Mode, EngineSettings Settings, ActorSystem? Live = null, DeterministicEngine? Deterministic = null)
{
    /// <summary>Akka.NET's request/response ceiling in this runner's mode; null for the reference machine.</summary>
    public AkkaCeiling? Ceiling { get; init; }

    /// <summary>
    /// Runs once. With <paramref name="measureMemory"/> the actors keep their event log, as `faultsim run` does (the monitor,
    /// the hash and the bounded tail), and <paramref name="bytesPerPage"/> is the managed memory the run holds when it has
    /// finished, its actors and log still alive, per page it made resident (0 where not measured). Without it a run keeps
    /// no event log: its speed, not its check, is timed.
    /// </summary>
    /// <param name="interrupt">The user's Ctrl-C: the run stops at once and <see cref="OperationCanceledException"/> is thrown.</param>
    public RunResult RunOnce(BenchCase bench, out double bytesPerPage, bool measureMemory = true, CancellationToken interrupt = default)
    {
        long before = 0, held = 0;
        if (measureMemory)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            before = GC.GetTotalMemory(forceFullCollection: true);
        }
        void Measure() => held = GC.GetTotalMemory(forceFullCollection: true) - before;
        RunResult result;
        if (Deterministic is { } engine)
        {
            var run = engine.Run(bench.Workload, Settings, seed: 1, new RandomWalkStrategy(new SimRandom(1)),
                measureMemory ? EventLogOptions.Default : EventLogOptions.Off, stopped: measureMemory ? Measure : null, interrupt: interrupt);
            interrupt.ThrowIfCancellationRequested();
            result = run.Result ?? throw new SimulationException(
                $"benchmark {bench.Name} did not finish deterministically: {run.Violation?.ToString() ?? run.Outcome.ToString()}");
        }
        else if (Live is { } system)
        {
            var settings = Settings;
            if (measureMemory)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                settings = settings with { Run = settings.Run with { Events = new EventLog(() => (long)clock.Elapsed.TotalNanoseconds) } };
            }
            result = ActorEngine.Run(system, bench.Workload, settings, seed: 1, Running.Runner.LiveTimeout, captureMemory: false,
                keepAlive: measureMemory ? _ => Measure() : null, interrupt: interrupt);
        }
        else
        {
            result = ReferenceMachine.Run(bench.Workload, seed: 1, captureMemory: false, interrupt);
            interrupt.ThrowIfCancellationRequested();
        }
        var pages = result.Totals.PagesZeroed + result.Totals.PagesCopied + result.Totals.Major;
        bytesPerPage = held == 0 || pages == 0 ? 0 : held / (double)pages;
        return result;
    }

    /// <summary>Checks a warm-up run took the faults the benchmark is built for.</summary>
    public void Check(BenchCase bench, RunResult warm)
    {
        if (warm.Totals.Total != bench.Faults)
            throw new SimulationException($"benchmark {bench.Name} took {warm.Totals.Total} faults on {Engine} {Mode}, not the {bench.Faults} it is built for");
    }
}

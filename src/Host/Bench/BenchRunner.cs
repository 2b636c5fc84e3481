using Akka.Actor;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Model.Common;
using Faultsim.Model.Machine;

namespace Faultsim.Host.Bench;

/// <summary>
/// An engine to time: the reference machine, the actors live on a long-lived system, or the actors on the deterministic
/// driver, with the engine settings its runs take.
/// </summary>
public sealed record BenchRunner(string Engine, string? Mode, EngineSettings Settings, ActorSystem? Live = null, DeterministicEngine? Deterministic = null)
{
    /// <summary>
    /// Runs once; <paramref name="bytesPerPage"/> is the managed memory a finished live run still holds per page it made
    /// resident (0 where not measured). A deterministic run keeps no event log here: its speed, not its check, is timed.
    /// </summary>
    public RunResult RunOnce(BenchCase bench, out double bytesPerPage, bool measureMemory = true)
    {
        long before = 0, held = 0;
        if (measureMemory)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            before = GC.GetTotalMemory(forceFullCollection: true);
        }
        RunResult result;
        if (Deterministic is { } engine)
        {
            var run = engine.Run(bench.Workload, Settings, seed: 1, new RandomWalkStrategy(new SimRandom(1)), logEvents: false);
            result = run.Result ?? throw new InvalidOperationException($"benchmark {bench.Name} did not finish deterministically: {run.Outcome}");
        }
        else if (Live is { } system)
        {
            result = ActorEngine.Run(system, bench.Workload, Settings, seed: 1, Running.Runner.LiveTimeout, captureMemory: false,
                keepAlive: measureMemory ? _ => held = GC.GetTotalMemory(forceFullCollection: true) - before : null);
        }
        else
        {
            result = ReferenceMachine.Run(bench.Workload, seed: 1, captureMemory: false);
        }
        var pages = result.Totals.PagesZeroed + result.Totals.PagesCopied + result.Totals.Major;
        bytesPerPage = held == 0 || pages == 0 ? 0 : held / (double)pages;
        return result;
    }

    /// <summary>Checks a warm-up run took the faults the benchmark is built for.</summary>
    public void Check(BenchCase bench, RunResult warm)
    {
        if (warm.Totals.Total != bench.Faults)
            throw new InvalidOperationException($"benchmark {bench.Name} took {warm.Totals.Total} faults on {Engine} {Mode}, not the {bench.Faults} it is built for");
    }
}

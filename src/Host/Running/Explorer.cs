using System.Diagnostics;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Configuration;

namespace Faultsim.Host.Running;

/// <summary>What exploring found: the lowest failing seed's run (null if none failed), how many seeds ran, how fast.</summary>
public sealed record ExploreOutcome(RunReport? Failure, long SeedsRun, TimeSpan Elapsed)
{
    public double SeedsPerSecond => SeedsRun / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// Runs a scenario over seeds 1..N, each a deterministic run under explore's step limit, on one engine per core
/// (seeds are independent), until a run violates an invariant, stops making progress or reaches the limit. The
/// report is always the lowest such seed's, so the answer does not depend on which thread got there first.
/// </summary>
public static class Explorer
{
    public static ExploreOutcome Explore(SimSettings settings, int seeds, int threads, Action<long>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        settings = settings with { StepLimit = settings.Explore.LimitFor(settings.Workload) };
        RunReport? failure = null;
        long lowestFailure = long.MaxValue, run = 0;
        var gate = new object();
        var workers = Enumerable.Range(0, Math.Max(1, Math.Min(threads, seeds))).Select(t => new Thread(() =>
        {
            using var engine = new DeterministicEngine();
            for (long seed = 1 + t; seed <= seeds; seed += threads)
            {
                lock (gate)
                {
                    if (seed > lowestFailure)
                        return; // a lower seed already failed
                }
                var report = Runner.Run(settings, settings.Workload, (ulong)seed, engine);
                lock (gate)
                {
                    run++;
                    if (report.Unfinished && seed < lowestFailure)
                        (lowestFailure, failure) = (seed, report);
                }
                progress?.Invoke(Interlocked.Read(ref run));
            }
        })).ToList();
        foreach (var worker in workers)
            worker.Start();
        foreach (var worker in workers)
            worker.Join();
        return new ExploreOutcome(failure, run, clock.Elapsed);
    }
}

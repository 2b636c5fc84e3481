using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Configuration;

namespace Faultsim.Host.Running;

/// <summary>What exploring found: the lowest failing seed's run (null if none failed), how many seeds ran, how fast.</summary>
public sealed record ExploreOutcome(RunReport? Failure, long SeedsRun, TimeSpan Elapsed)
{
    public double SeedsPerSecond => SeedsRun / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>The steps (mailbox runs, one message each) the seeds that finished took, all together.</summary>
    public long Steps { get; init; }

    public double StepsPerSecond => Steps / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>How many seeds ran and how fast: "N seeds in S s (R seeds/s, M steps/s)".</summary>
    public string Speed => $"{SeedsRun:N0} seeds in {Elapsed.TotalSeconds:F1} s ({SeedsPerSecond:N0} seeds/s, {StepsPerSecond:N0} steps/s)";

    /// <summary>The settings the failing seed ran with (its own draw, under --swarm); null if none failed.</summary>
    public SimSettings? FailureSettings { get; init; }

    /// <summary>Whether the user interrupted the search (Ctrl-C): the seeds that finished are <see cref="SeedsRun"/>.</summary>
    public bool Interrupted { get; init; }

    /// <summary>Seeds 1 to this all finished (held every invariant, unless one is <see cref="Failure"/>); 0 if seed 1 did not.</summary>
    public long PassedThrough { get; init; }

    /// <summary>What the seeds that finished touched of the protocols.</summary>
    public ExploreCoverage Coverage { get; init; } = new();
}

/// <summary>
/// Runs seeds 1..N, each a deterministic run under explore's step limit, on one engine per core (seeds are
/// independent), until a run violates an invariant, stops making progress or reaches the limit. Each seed runs the
/// settings it is given — one scenario's for every seed, or a swarm draw of its own — and the report is always the
/// lowest such seed's, so the answer does not depend on which thread got there first. Bad input met on the way (a
/// draw a loader refuses) is thrown on the caller's thread, the lowest seed's.
/// </summary>
public static class Explorer
{
    /// <summary>One scenario over seeds 1..<paramref name="seeds"/>.</summary>
    public static ExploreOutcome Explore(SimSettings settings, int seeds, int threads, Action<long>? progress = null, CancellationToken interrupt = default) =>
        Explore(_ => settings, seeds, threads, progress, interrupt);

    /// <summary>Seeds 1..<paramref name="seeds"/>, each with the settings <paramref name="settingsOf"/> gives it, bounded by their explore step limit.</summary>
    /// <param name="interrupt">The user's Ctrl-C: every thread stops at once, the seed it was running not counted.</param>
    public static ExploreOutcome Explore(Func<ulong, SimSettings> settingsOf, int seeds, int threads, Action<long>? progress = null,
        CancellationToken interrupt = default)
    {
        var clock = Stopwatch.StartNew();
        RunReport? failure = null;
        SimSettings? failureSettings = null;
        (long Seed, ExceptionDispatchInfo Error)? thrown = null;
        long lowestFailure = long.MaxValue, run = 0, passedThrough = 0, steps = 0;
        var finishedAbove = new HashSet<long>(); // seeds finished above passedThrough + 1, which a slower thread still holds
        var gate = new object();
        var coverage = new ExploreCoverage();
        var workers = Enumerable.Range(0, Math.Max(1, Math.Min(threads, seeds))).Select(t => new Thread(() =>
        {
            using var engine = new DeterministicEngine();
            var touched = new ExploreCoverage();
            try
            {
                Seeds(t, engine, touched);
            }
            finally
            {
                lock (gate)
                    coverage.Add(touched);
            }
        })).ToList();

        void Seeds(int t, DeterministicEngine engine, ExploreCoverage touched)
        {
            // A scenario's seeds share its settings: its limit and its settings for explore are worked out once.
            (SimSettings? Of, SimSettings? Explored) last = (null, null);
            var handled = new Faultsim.Actors.Monitoring.ProtocolCoverage(); // the thread's, cleared for each seed
            for (long seed = 1 + t; seed <= seeds; seed += threads)
            {
                lock (gate)
                {
                    if (seed > lowestFailure || interrupt.IsCancellationRequested)
                        return; // a lower seed already failed, or the user stopped the search
                }
                try
                {
                    var settings = settingsOf((ulong)seed);
                    if (!ReferenceEquals(settings, last.Of))
                        last = (settings, settings with
                        {
                            StepLimit = settings.Explore.LimitFor(settings.Workload),
                            Actors = settings.Actors with { Run = settings.Actors.Run with { Coverage = handled } },
                        });
                    handled.Clear();
                    settings = last.Explored!;
                    var report = RunOrRefuse(settings, (ulong)seed, engine, interrupt);
                    if (report.Interrupted)
                        return;
                    touched.Add(seed, handled, report.Log?.Tally.Resolutions ?? []);
                    lock (gate)
                    {
                        run++;
                        steps += report.Steps;
                        finishedAbove.Add(seed);
                        while (finishedAbove.Remove(passedThrough + 1))
                            passedThrough++;
                        if (report.Unfinished && seed < lowestFailure)
                            (lowestFailure, failure, failureSettings, thrown) = (seed, report, settings, null);
                    }
                }
                catch (Exception e) when (e is ConfigException or Faultsim.Model.Workloads.WorkloadException)
                {
                    lock (gate)
                    {
                        if (seed < lowestFailure)
                            (lowestFailure, failure, failureSettings, thrown) = (seed, null, null, (seed, ExceptionDispatchInfo.Capture(e)));
                    }
                }
                progress?.Invoke(Interlocked.Read(ref run));
            }
        }
        foreach (var worker in workers)
            worker.Start();
        foreach (var worker in workers)
            worker.Join();
        thrown?.Error.Throw();
        return new ExploreOutcome(failure, run, clock.Elapsed)
        {
            Steps = steps,
            FailureSettings = failureSettings,
            Interrupted = interrupt.IsCancellationRequested,
            PassedThrough = Math.Min(passedThrough, lowestFailure - 1),
            Coverage = coverage,
        };
    }

    /// <summary>A seed's run; a workload the run finds bad (it deadlocks) is bad input at its line of the workload's file.</summary>
    private static RunReport RunOrRefuse(SimSettings settings, ulong seed, DeterministicEngine engine, CancellationToken interrupt)
    {
        try
        {
            return Runner.Run(settings, settings.Workload, seed, engine, interrupt: interrupt);
        }
        catch (Faultsim.Model.Workloads.WorkloadException e)
        {
            throw settings.ErrorIn(e, $"seed {seed}");
        }
    }
}

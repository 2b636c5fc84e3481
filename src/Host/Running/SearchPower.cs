using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Configuration;
using Faultsim.Host.Scenarios;
using Faultsim.Host.Swarm;

namespace Faultsim.Host.Running;

/// <summary>A way of searching: a schedule strategy on a bug's scenario, or swarm draws with no scenario.</summary>
/// <param name="PctDepth">PCT's depth d; 0 for the random walk and for swarm.</param>
public sealed record SearchStrategy(string Name, bool Swarm, int PctDepth)
{
    public static readonly IReadOnlyList<SearchStrategy> All =
    [
        new("random", false, 0), new("pct d=1", false, 1), new("pct d=2", false, 2), new("pct d=3", false, 3), new("swarm", true, 0),
    ];
}

/// <summary>
/// How hard one planted bug was to find by one strategy: for each of the independent seed ranges, the seeds it took to
/// the first run that caught the bug (null: none within the range), and PCT's n and k (the actors of the scenario's run
/// and the steps its change points are drawn over) for the guarantee.
/// </summary>
public sealed record PowerRow(string Bug, string? Scenario, SearchStrategy Strategy, IReadOnlyList<long?> SeedsToCatch, long MaxSeeds, int Actors, long PctSteps)
{
    public int Caught => SeedsToCatch.Count(s => s is not null);

    /// <summary>The seeds to the first catch at <paramref name="quantile"/> over the ranges (a range that never caught counts as more than any); null: beyond <see cref="MaxSeeds"/>.</summary>
    public long? Quantile(double quantile)
    {
        var sorted = SeedsToCatch.Select(s => s ?? long.MaxValue).Order().ToList();
        var value = sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(quantile * sorted.Count) - 1)];
        return value == long.MaxValue ? null : value;
    }

    /// <summary>Runs that caught the bug per run made (each range runs to its first catch): the measured rate.</summary>
    public double MeasuredRate => Caught / (double)SeedsToCatch.Sum(s => s ?? MaxSeeds);

    /// <summary>PCT's guarantee for a bug of depth d: a run catches it with probability at least 1 / (n · k^(d−1)); 0 for the others.</summary>
    public double PredictedRate => Strategy.PctDepth == 0 || Actors == 0 ? 0 : 1 / (Actors * Math.Pow(PctSteps, Strategy.PctDepth - 1));
}

/// <summary>
/// `explore --power`: for every planted bug and every strategy — the random walk, PCT of depth 1 to 3 on the scenario
/// whose description names the bug, and swarm draws with no scenario — the seeds to the first run that catches it, in
/// each of several independent seed ranges (range r is seeds r·1,000,000 + 1 …). Each run is explore's: the bug on,
/// every invariant checked, explore's step limit; a run that violates an invariant or crashes the simulation caught it.
/// </summary>
public static partial class SearchPower
{
    /// <summary>The gap between the first seeds of two ranges: wider than any range runs.</summary>
    public const long RangeStride = 1_000_000;

    [GeneratedRegex(@"planted bugs? ([a-z0-9-]+(?:, [a-z0-9-]+)*)$")]
    private static partial Regex NamedBugs();

    /// <summary>
    /// The scenario each planted bug is reproduced by: of those whose description names it, the one that names the fewest
    /// bugs (the scenario written for it), the first in name order among equals.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ScenarioOf()
    {
        var named = ScenarioCatalog.Names
            .Select(name => (Name: name, Match: NamedBugs().Match(ScenarioCatalog.Load(name, []).Description)))
            .Where(s => s.Match.Success)
            .Select(s => (s.Name, Bugs: s.Match.Groups[1].Value.Split(", ")))
            .OrderBy(s => s.Bugs.Length).ThenBy(s => s.Name, StringComparer.Ordinal);
        var scenarios = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, bugs) in named)
        {
            foreach (var bug in bugs)
                scenarios.TryAdd(bug, name);
        }
        return scenarios;
    }

    /// <param name="bugs">The planted bugs to measure (faultsim.bugs.NAME).</param>
    /// <param name="ranges">Independent seed ranges per (bug, strategy).</param>
    /// <param name="maxSeeds">Seeds a range runs at most.</param>
    /// <param name="progress">Told each finished (bug, strategy, range).</param>
    public static IReadOnlyList<PowerRow> Measure(IReadOnlyList<string> bugs, int ranges, long maxSeeds, int threads, IReadOnlyList<string> overrides,
        Action<int, int>? progress = null, CancellationToken interrupt = default)
    {
        var scenarios = ScenarioOf();
        var rows = bugs.SelectMany(bug => SearchStrategy.All
                .Where(strategy => strategy.Swarm || scenarios.ContainsKey(bug))
                .Select(strategy => (Bug: bug, Scenario: strategy.Swarm ? null : scenarios[bug], Strategy: strategy)))
            .ToList();
        var jobs = new ConcurrentQueue<(int Row, int Range)>(rows.SelectMany((_, row) => Enumerable.Range(0, ranges).Select(range => (row, range))));
        var found = rows.Select(_ => new long?[ranges]).ToList();
        var shape = new (int Actors, long Steps)[rows.Count];
        var done = 0;
        var total = jobs.Count;
        var workers = Enumerable.Range(0, Math.Max(1, Math.Min(threads, total))).Select(_ => new Thread(() =>
        {
            using var engine = new DeterministicEngine();
            var sources = new Dictionary<int, Func<ulong, SimSettings>>();
            while (!interrupt.IsCancellationRequested && jobs.TryDequeue(out var job))
            {
                var (bug, scenario, strategy) = rows[job.Row];
                if (!sources.TryGetValue(job.Row, out var settingsOf))
                    sources[job.Row] = settingsOf = Source(bug, scenario, strategy, overrides);
                var first = job.Range * RangeStride + 1;
                for (var seed = first; seed < first + maxSeeds && !interrupt.IsCancellationRequested; seed++)
                {
                    RunReport report;
                    SimSettings settings;
                    try
                    {
                        settings = settingsOf((ulong)seed);
                        settings = settings with { StepLimit = settings.Explore.LimitFor(settings.Workload) };
                        report = Runner.Run(settings, settings.Workload, (ulong)seed, engine, interrupt: interrupt);
                    }
                    catch (Exception e) when (e is ConfigException or Faultsim.Model.Workloads.WorkloadException)
                    {
                        continue; // a draw that deadlocks by itself catches nothing (explore reports it as bad input)
                    }
                    if (seed == first && job.Range == 0)
                        shape[job.Row] = (report.Mailboxes, settings.Explore.PctSteps);
                    if (report.Failed)
                    {
                        found[job.Row][job.Range] = seed - first + 1;
                        break;
                    }
                }
                progress?.Invoke(Interlocked.Increment(ref done), total);
            }
        })).ToList();
        foreach (var worker in workers)
            worker.Start();
        foreach (var worker in workers)
            worker.Join();
        return [.. rows.Select((r, i) => new PowerRow(r.Bug, r.Scenario, r.Strategy, found[i], maxSeeds, shape[i].Actors, shape[i].Steps))];
    }

    /// <summary>The settings of each seed's run: the bug's scenario under the strategy, or the seed's swarm draw, with the bug on.</summary>
    private static Func<ulong, SimSettings> Source(string bug, string? scenario, SearchStrategy strategy, IReadOnlyList<string> overrides)
    {
        List<string> sets = [.. overrides, $"bugs.{bug}=true"];
        if (strategy.Swarm)
        {
            var swarm = new SwarmSource(sets);
            return swarm.Load;
        }
        sets.Add($"explore.strategy={(strategy.PctDepth == 0 ? "random" : "pct")}");
        if (strategy.PctDepth > 0)
            sets.Add($"explore.pct-depth={strategy.PctDepth}");
        var settings = ScenarioCatalog.Load(scenario!, sets);
        return _ => settings;
    }
}

using System.Collections.Immutable;
using System.Globalization;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Configuration;
using Faultsim.Host.Running;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Shrinking;

/// <summary>The sizes a reproducer is measured by: its script lines, the machine's CPUs, the events of its failing run.</summary>
public readonly record struct ShrinkSizes(int Lines, int Cpus, long Events)
{
    public override string ToString() => $"{Lines} script lines, {Cpus} CPUs, {Events.ToString("N0", CultureInfo.InvariantCulture)} events";
}

/// <summary>What shrinking gave: the reproducer's shape and its run, the sizes before and after, and the runs it took.</summary>
public sealed record ShrinkResult(ScenarioShape Shape, RunReport Report, ShrinkSizes Before, ShrinkSizes After, int Runs);

/// <summary>
/// Shrinks a failing run to a smaller one that fails the same way (delta debugging): it removes CPUs, processes, barriers,
/// script lines (ddmin), regions and files, lowers knobs towards their defaults, and — for a failure a step limit
/// found (invariant 8) — lowers the limit. A candidate is kept only if it breaks the same invariant (or crashes, if the
/// original crashed) in no more events than the original; one that is bad config, or a workload that deadlocks on the
/// reference machine, is rejected. Each candidate runs as `replay --scenario FILE --seed S` runs its file, so the
/// reproducer is exactly what that command runs. At most <c>maxRuns</c> candidates run (faultsim.explore.shrink.max-runs).
/// </summary>
public sealed class Shrinker
{
    // Knobs LowerKnobs leaves alone: the seed and description, the step limits (Schedule lowers them) and the CPUs
    // (LowerCpus lowers them to what the scripts use; the default may be more).
    private static readonly string[] Kept =
        ["faultsim.seed", "faultsim.scenario.description", "faultsim.max-steps", "faultsim.explore.max-steps", "faultsim.machine.cpus"];
    private readonly ulong _seed;
    private readonly int _maxRuns;
    private readonly DeterministicEngine _engine;
    private readonly string _failure;
    private readonly long _events;
    private ScenarioShape _shape;
    private RunReport _report;

    private Shrinker(ulong seed, int maxRuns, DeterministicEngine engine, ScenarioShape shape, RunReport report)
    {
        (_seed, _maxRuns, _engine, _shape, _report) = (seed, maxRuns, engine, shape, report);
        _failure = FailureOf(report)!;
        _events = report.Log?.Count ?? 0;
    }

    public int Runs { get; private set; }

    /// <summary>The name a failure is filed under: invariant-N, or crash; null for a run that did not fail.</summary>
    public static string? FailureOf(RunReport report) =>
        report.Violation is { } v ? $"invariant-{v.Invariant}" : report.Crash is not null ? "crash" : null;

    /// <summary>
    /// The run of <paramref name="shape"/> at <paramref name="seed"/> as replay runs its file (explore's step limit when the
    /// file sets none); null if it is bad config or a workload that deadlocks on the reference machine.
    /// </summary>
    public static RunReport? Run(ScenarioShape shape, ulong seed, DeterministicEngine engine)
    {
        try
        {
            var settings = SimSettings.From(ConfigLoader.LoadText(("shrink candidate", shape.Write([])), [])) with { Seed = seed };
            settings = settings with { StepLimit = settings.StepLimit ?? settings.Explore.LimitFor(settings.Workload) };
            return Runner.Run(settings, settings.Workload, seed, engine);
        }
        catch (Exception e) when (e is ConfigException or WorkloadException)
        {
            return null;
        }
    }

    /// <summary>Shrinks <paramref name="shape"/>, whose run at <paramref name="seed"/> is <paramref name="report"/> (a failed run).</summary>
    /// <returns>Null if the shape itself does not fail the same way (nothing to shrink from).</returns>
    public static ShrinkResult? Shrink(ScenarioShape shape, ulong seed, RunReport report, int maxRuns)
    {
        using var engine = new DeterministicEngine();
        if (report.StoppedAt is { } limit)
            shape = Limited(shape, limit.Steps);
        if (Run(shape, seed, engine) is not { } first || FailureOf(first) != FailureOf(report))
            return null;
        var shrinker = new Shrinker(seed, maxRuns, engine, shape, first) { Runs = 1 };
        var before = shrinker.Sizes(shape, first);
        shrinker.Schedule();
        bool changed;
        do
        {
            changed = shrinker.RemoveCpus() | shrinker.RemoveProcesses() | shrinker.RemoveBarriers() | shrinker.RemoveLines()
                      | shrinker.RemoveRegions() | shrinker.RemoveFiles() | shrinker.LowerKnobs() | shrinker.LowerCpus();
        }
        while (changed && shrinker.Runs < maxRuns);
        shrinker.Schedule();
        return new ShrinkResult(shrinker._shape, shrinker._report, before, shrinker.Sizes(shrinker._shape, shrinker._report), shrinker.Runs);
    }

    /// <summary>A shape whose runs (replay's and explore's) stop after <paramref name="steps"/> messages.</summary>
    private static ScenarioShape Limited(ScenarioShape shape, long steps) =>
        shape.WithKnob("faultsim.max-steps", steps.ToString(CultureInfo.InvariantCulture)).WithKnob("faultsim.explore.max-steps", steps.ToString(CultureInfo.InvariantCulture));

    private ShrinkSizes Sizes(ScenarioShape shape, RunReport report) =>
        new(shape.Lines, CpusOf(shape), report.Log?.Count ?? 0);

    private static int CpusOf(ScenarioShape shape) =>
        int.TryParse(shape.Knob("faultsim.machine.cpus"), out var cpus) ? cpus : (int)(DefaultInt("faultsim.machine.cpus") ?? 0);

    /// <summary>Keeps <paramref name="candidate"/> if it fails the same way in no more events than the original.</summary>
    private bool Try(ScenarioShape candidate)
    {
        if (Runs >= _maxRuns)
            return false;
        Runs++;
        if (Run(candidate, _seed, _engine) is not { } report || FailureOf(report) != _failure || (report.Log?.Count ?? 0) > _events)
            return false;
        (_shape, _report) = (candidate, report);
        return true;
    }

    private bool RemoveCpus()
    {
        var changed = false;
        foreach (var cpu in _shape.Scripts.Keys.Reverse().ToList())
            changed |= _shape.Scripts.Count > 1 && Try(_shape with { Scripts = _shape.Scripts.Remove(cpu) });
        return changed;
    }

    private bool RemoveProcesses()
    {
        var changed = false;
        foreach (var name in _shape.Processes.Select(p => p.Name).ToList())
            changed |= Try(_shape with { Processes = _shape.Processes.RemoveAll(p => p.Name == name) });
        return changed;
    }

    /// <summary>A barrier is removed from every script at once: removed from one alone, its CPUs would wait forever.</summary>
    private bool RemoveBarriers()
    {
        var changed = false;
        foreach (var barrier in _shape.Scripts.Values.SelectMany(s => s).Where(l => l.StartsWith("barrier ", StringComparison.Ordinal)).Distinct().ToList())
            changed |= Try(_shape with { Scripts = _shape.Scripts.ToImmutableSortedDictionary(kv => kv.Key, kv => kv.Value.RemoveAll(l => l == barrier)) });
        return changed;
    }

    /// <summary>ddmin over every script line of every CPU: removes chunks ever smaller while the failure stays.</summary>
    private bool RemoveLines()
    {
        var lines = _shape.Scripts.SelectMany(kv => kv.Value.Select((_, i) => (Cpu: kv.Key, Index: i))).ToList();
        var changed = false;
        var n = 2;
        while (lines.Count > 0 && Runs < _maxRuns)
        {
            var size = (lines.Count + n - 1) / n;
            var reduced = false;
            for (var start = 0; start < lines.Count; start += size)
            {
                var kept = lines.Take(start).Concat(lines.Skip(start + size)).ToList();
                if (Try(WithLines(kept)))
                {
                    (lines, reduced, changed) = (Renumbered(kept), true, true);
                    n = Math.Max(n - 1, 2);
                    break;
                }
            }
            if (!reduced)
            {
                if (size == 1)
                    break;
                n = Math.Min(n * 2, lines.Count);
            }
        }
        return changed;
    }

    /// <summary>The current shape's lines, as (CPU, index) after the shape was replaced by one with <paramref name="kept"/> only.</summary>
    private static List<(int Cpu, int Index)> Renumbered(List<(int Cpu, int Index)> kept) =>
        [.. kept.GroupBy(l => l.Cpu).SelectMany(g => g.Select((l, i) => (l.Cpu, i)))];

    private ScenarioShape WithLines(List<(int Cpu, int Index)> kept)
    {
        var keep = kept.ToHashSet();
        return _shape with
        {
            Scripts = _shape.Scripts.ToImmutableSortedDictionary(kv => kv.Key, kv => kv.Value.Where((_, i) => keep.Contains((kv.Key, i))).ToImmutableArray()),
        };
    }

    private bool RemoveRegions()
    {
        var changed = false;
        foreach (var (process, region) in _shape.Processes.SelectMany(p => p.Regions.Select(r => (p.Name, r.Name))).ToList())
            changed |= Try(_shape with
            {
                Processes = _shape.Processes.Select(p => p.Name != process ? p : p with { Regions = p.Regions.RemoveAll(r => r.Name == region) }).ToImmutableArray(),
            });
        return changed;
    }

    private bool RemoveFiles()
    {
        var changed = false;
        foreach (var name in _shape.Files.Select(f => f.Name).ToList())
            changed |= Try(_shape with { Files = _shape.Files.RemoveAll(f => f.Name == name) });
        return changed;
    }

    /// <summary>Each knob back to its default (removed), else a whole number halfway towards it, while the failure stays.</summary>
    private bool LowerKnobs()
    {
        var changed = false;
        foreach (var knob in _shape.Knobs.Where(k => !Kept.Contains(k.Key)).ToList())
        {
            if (Try(_shape.WithKnob(knob.Key, null)))
            {
                changed = true;
                continue;
            }
            if (!long.TryParse(knob.Value, CultureInfo.InvariantCulture, out var value) || DefaultInt(knob.Key) is not { } target)
                continue;
            for (var next = target + (value - target) / 2; next != value && Try(_shape.WithKnob(knob.Key, next.ToString(CultureInfo.InvariantCulture))); next = target + (value - target) / 2)
            {
                value = next;
                changed = true;
            }
        }
        return changed;
    }

    /// <summary>The scripts renumbered onto CPUs 0.., and the machine down to the CPUs they use.</summary>
    private bool LowerCpus()
    {
        var changed = false;
        var compact = _shape.Scripts.Select((kv, i) => (i, kv.Value)).ToImmutableSortedDictionary(s => s.i, s => s.Value);
        if (!compact.Keys.SequenceEqual(_shape.Scripts.Keys))
            changed |= Try(_shape with { Scripts = compact });
        var used = _shape.Scripts.Keys.DefaultIfEmpty(0).Max() + 1;
        if (used < CpusOf(_shape))
            changed |= Try(_shape.WithKnob("faultsim.machine.cpus", used.ToString(CultureInfo.InvariantCulture)));
        return changed;
    }

    /// <summary>For a failure found at a step limit: the least limit (bisected) at which it is still found.</summary>
    private void Schedule()
    {
        if (_report.StoppedAt is not { } stopped)
            return;
        var (low, high) = (1000L, stopped.Steps);
        while (low < high && Runs < _maxRuns)
        {
            var mid = low + (high - low) / 2;
            if (Try(Limited(_shape, mid)))
                high = mid;
            else
                low = mid + 1;
        }
    }

    private static long? DefaultInt(string key)
    {
        var defaults = Defaults.Value;
        return defaults.HasPath(key) && long.TryParse(defaults.GetString(key), CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    private static readonly Lazy<Akka.Configuration.Config> Defaults = new(() => ConfigLoader.LoadText(((string, string?)?)null, []).Merged);
}

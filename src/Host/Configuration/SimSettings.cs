using System.Collections.Immutable;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Model.Shootdowns;
using Faultsim.Actors.Telemetry;
using Faultsim.Host.Running;
using Faultsim.Host.Telemetry;
using Faultsim.Model.Faults;
using Faultsim.Model.Addressing;
using Faultsim.Model.Machine;
using Faultsim.Model.Memory;
using Faultsim.Model.Replacement;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Configuration;

/// <summary>Everything a run needs, read once from the config into immutable values.</summary>
/// <param name="Deterministic">Whether the actor engine runs under the deterministic scheduler (faultsim.mode).</param>
/// <param name="Telemetry">Where traces and metrics go (faultsim.telemetry and OpenTelemetry's environment variables).</param>
/// <param name="StepLimit">The most messages a deterministic run may deliver (faultsim.max-steps; null: no limit). Explore
/// runs each seed under its own limit instead (<see cref="ExploreSettings.LimitFor"/>).</param>
/// <param name="EventTail">Events of a run's log kept in memory for the report of a violation (faultsim.event-log.tail).</param>
public sealed record SimSettings(string Engine, ulong Seed, Workload Workload, string WorkloadOrigin, EngineSettings Actors,
    bool Deterministic, ExploreSettings Explore, CheckSettings Checks, string Description, TelemetrySettings Telemetry,
    StepLimit? StepLimit, int EventTail)
{
    public static readonly string[] Engines = [MachineActor.EngineName, ReferenceMachine.EngineName];
    public static readonly string[] Modes = ["deterministic", "live"];

    /// <summary>A workload error found while running (a script's, a generator's), as bad config pointing into the workload's file.</summary>
    public ConfigException ErrorIn(WorkloadException error, string? context = null) =>
        new(WorkloadOrigin, error.Line, context is null ? error.Message : $"{context}: {error.Message}");

    /// <param name="environment">Reads an environment variable (OTEL_*); the process's own by default.</param>
    public static SimSettings From(LoadedConfig loaded, Func<string, string?>? environment = null)
    {
        var root = new ConfigReader(loaded, loaded.Merged, "").Section(ConfigSchema.Root);
        var engine = root.Choice("engine", Engines);
        var seed = root.Seed("seed");
        var machine = ReadMachine(root);
        var workload = new WorkloadReader(new ConfigReader(loaded, loaded.Workload, ConfigSchema.WorkloadPath), machine, seed).Read();
        var actors = new EngineSettings(
            root.Int("actors.quantum", 1, 1 << 16),
            root.Int("machine.disk.queue-depth", 1, 1 << 16),
            root.String("actors.threads").Equals("auto", StringComparison.OrdinalIgnoreCase) ? 0 : root.Int("actors.threads", 1, 256))
        {
            DiskLatency = root.Duration("machine.disk.latency"),
            DiskBandwidth = root.Size("machine.disk.bandwidth") is var bandwidth and > 0 ? bandwidth
                : throw root.Error("machine.disk.bandwidth", "must be more than 0 bytes per second"),
            TimedDisk = root.Bool("actors.timed-disk"),
            WaitBound = WaitBound(root),
            Run = new RunContext(ReadLatencies(root.Section("latency")), ReadBugs(root.Section("bugs")), root.Fraction("chaos.loader-crash-rate"), null),
        };
        var explore = new ExploreSettings(
            Enum.Parse<StrategyKind>(root.Choice("explore.strategy", "random", "pct"), ignoreCase: true),
            root.Int("explore.pct-depth", 1, 100), root.Int("explore.pct-steps", 1, int.MaxValue),
            root.Int("explore.seeds", 1, int.MaxValue), root.CountOr("explore.max-steps", "auto", 1000))
        {
            ShrinkMaxRuns = root.Int("explore.shrink.max-runs", 0, int.MaxValue),
        };
        var stepLimit = root.CountOr("max-steps", "off", 1000) is { } steps ? new StepLimit(steps, StepLimit.RunKey) : null;
        var checks = new CheckSettings(root.Bool("checks.counts-match-reference"), [.. root.Strings("checks.unchanged-files")]);
        foreach (var file in checks.UnchangedFiles.Where(f => !workload.Files.Any(w => w.Name == f)))
            throw root.Error("checks.unchanged-files", $"names file '{file}', which is not in the workload's files");
        var telemetry = TelemetrySettings.From(root, environment ?? Environment.GetEnvironmentVariable);
        return new SimSettings(engine, seed, workload, loaded.WorkloadSource.Origin, actors,
            root.Choice("mode", Modes) == "deterministic", explore, checks, root.String("scenario.description"), telemetry,
            stepLimit, root.Int("event-log.tail", 1, 10_000_000))
            .WithTraceRatio(telemetry.TraceRatio);
    }

    /// <summary>These settings with <paramref name="ratio"/> of the faults traced, sampled by the run's seed.</summary>
    public SimSettings WithTraceRatio(double ratio) => this with
    {
        Telemetry = Telemetry with { TraceRatio = ratio },
        Actors = Actors with { Run = Actors.Run with { Tracing = TraceSettings.Sampling(ratio) } },
    };

    /// <summary>faultsim.actors.wait-bound: a duration above zero, or off.</summary>
    private static TimeSpan? WaitBound(ConfigReader root)
    {
        if (root.String("actors.wait-bound").Trim().Equals("off", StringComparison.OrdinalIgnoreCase))
            return null;
        var bound = root.Duration("actors.wait-bound", ConfigReader.MaxWallNanos);
        return bound > TimeSpan.Zero ? bound : throw root.Error("actors.wait-bound", "must be more than 0 (or off, for no bound)");
    }

    private static Latencies ReadLatencies(ConfigReader l) => new(
        l.DurationNanos("tlb-hit"), l.DurationNanos("page-walk"), l.DurationNanos("fault-entry"), l.DurationNanos("fault-exit"),
        l.DurationNanos("ipi"), l.DurationNanos("page-zero"), l.DurationNanos("page-copy"), l.Fraction("jitter"))
    {
        CrashRetry = l.DurationNanos("crash-retry"),
        ReclaimThrottle = l.DurationNanos("reclaim-throttle"),
    };

    /// <summary>The keys of faultsim.bugs, in the order of <see cref="PlantedBugs"/>' fields.</summary>
    public static readonly IReadOnlyList<string> BugKeys =
    [
        "wake-before-pte", "free-before-acks", "no-leader-election", "cow-ignore-refcount", "skip-one-invalidation",
        "lose-waiter-on-restart", "publish-before-flush", "map-over-present", "skip-vma-recheck", "forced-write-in-page-cache",
        "ack-before-drain", "wake-late-follower",
    ];

    private static PlantedBugs ReadBugs(ConfigReader b) => new(
        b.Bool(BugKeys[0]), b.Bool(BugKeys[1]), b.Bool(BugKeys[2]), b.Bool(BugKeys[3]), b.Bool(BugKeys[4]),
        b.Bool(BugKeys[5]), b.Bool(BugKeys[6]), b.Bool(BugKeys[7]), b.Bool(BugKeys[8]), b.Bool(BugKeys[9]),
        b.Bool(BugKeys[10]), b.Bool(BugKeys[11]));

    private static MachineSpec ReadMachine(ConfigReader root)
    {
        var m = root.Section("machine");
        var entries = m.Int("tlb.entries", 1, 1 << 20);
        if ((entries & (entries - 1)) != 0)
            throw m.Error("tlb.entries", $"is {entries}; use a power of two such as 64");
        var ways = m.Int("tlb.ways", 1, entries);
        if (entries % ways != 0)
            throw m.Error("tlb.ways", $"is {ways}; use a number that divides tlb.entries ({entries})");
        return new MachineSpec
        {
            Cpus = m.Int("cpus", 1, 1024),
            Frames = m.Int("frames", 0, 1 << 28),
            Policy = Enum.Parse<ReplacementPolicyKind>(m.Choice("policy", "fifo", "lru", "clock", "opt"), ignoreCase: true),
            ZeroPage = m.Bool("zero-page"),
            Smap = m.Bool("smap"),
            WordsPerPage = m.Int("words-per-page", 1, 512),
            TlbEntries = entries,
            TlbWays = ways,
            Stack = new StackRules(m.Size("stack.limit"), m.Size("stack.guard-gap"), m.SizeOrOff("stack.sp-window")),
            Interleaving = root.Choice("interleaving", "round-robin", "random", "sequential") switch
            {
                "random" => Interleaving.Random,
                "sequential" => Interleaving.Sequential,
                _ => Interleaving.RoundRobin,
            },
            Disk = new DiskFailures(m.Fraction("disk.read-error-rate"), [.. m.Strings("disk.bad-pages").Select(p => BadPage(m, p))]),
            Shootdown = Enum.Parse<ShootdownMode>(root.Choice("shootdown", "eager", "batched", "lazy"), ignoreCase: true),
            Readahead = ReadReadahead(m),
        };
    }

    /// <summary>machine.fault-around and machine.readahead.{window,max}, in pages.</summary>
    private static ReadaheadRules ReadReadahead(ConfigReader m)
    {
        const ulong page = VirtualAddress.PageSize;
        var around = m.SizeOrOff("fault-around") ?? 0;
        if (around != 0 && (around < page || around > ReadaheadRules.MaxFaultAroundPages * page || (around & (around - 1)) != 0))
            throw m.Error("fault-around", $"is {around} bytes; use a power of two from 4K to 2M (Linux's fault_around_bytes), or 0 or off for none");
        var window = m.SizeOrOff("readahead.window") ?? 0;
        if (window % page != 0 || window > (1UL << 30))
            throw m.Error("readahead.window", $"is {window} bytes; use a multiple of 4K up to 1G, such as 128K, or 0 or off for none");
        var max = m.Size("readahead.max");
        if (max % page != 0 || max > (1UL << 30))
            throw m.Error("readahead.max", $"is {max} bytes; use a multiple of 4K up to 1G, at least readahead.window ({window} bytes)");
        if (window > max)
            throw m.Error("readahead.window", $"is {window} bytes, more than readahead.max ({max} bytes); raise readahead.max with it, or lower the window");
        return new ReadaheadRules((int)(around / page), (int)(window / page), (int)(max / page));
    }

    private static (string File, ulong Page) BadPage(ConfigReader m, string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !ulong.TryParse(text[(colon + 1)..], out var page))
            throw m.Error("disk.bad-pages", $"entry '{text}' is not FILE:PAGE, e.g. \"table:3\"");
        return (text[..colon], page);
    }
}

/// <summary>How `faultsim explore` searches: the strategy, PCT's depth and step range, the seeds, and the step bound of a run.</summary>
/// <param name="MaxSteps">The step bound of each seed's run (faultsim.explore.max-steps); null: auto, scaled to the workload.</param>
public sealed record ExploreSettings(StrategyKind Strategy, int PctDepth, int PctSteps, int Seeds, long? MaxSteps)
{
    /// <summary>The most candidate runs shrinking a failing seed may take (faultsim.explore.shrink.max-runs).</summary>
    public int ShrinkMaxRuns { get; init; } = 1000;

    public SchedulingStrategy StrategyFor(ulong seed) => SchedulingStrategy.Create(Strategy, seed, PctDepth, PctSteps);

    /// <summary>The step limit of each of explore's runs of <paramref name="workload"/>: the key's, or auto (<see cref="StepLimit.Auto"/>).</summary>
    public StepLimit LimitFor(Workload workload) =>
        MaxSteps is { } steps ? new StepLimit(steps, StepLimit.ExploreKey) : StepLimit.Auto(workload);
}

/// <summary>Checks a workload switches on when they fit it: counts against the reference machine, files no run may change.</summary>
public sealed record CheckSettings(bool CountsMatchReference, ImmutableArray<string> UnchangedFiles);

using Faultsim.Host.Configuration;

namespace Faultsim.Host.Swarm;

/// <summary>
/// The knobs a swarm draw takes as --set gave them instead of drawing them (null: drawn). Read with the same bounds as
/// the run's settings, so that a pinned value a run would refuse is refused here, at its --set.
/// </summary>
public sealed record SwarmPins
{
    public int? Cpus { get; init; }
    public int? Frames { get; init; }
    public string? Policy { get; init; }
    public bool? ZeroPage { get; init; }
    public int? TlbEntries { get; init; }
    public int? TlbWays { get; init; }
    public string? Shootdown { get; init; }
    public int? Quantum { get; init; }
    public double? Jitter { get; init; }
    public double? CrashRate { get; init; }
    public double? ReadErrorRate { get; init; }

    public static readonly SwarmPins None = new();

    /// <summary>The config keys of the knobs a draw sets, each of which --set pins.</summary>
    public static readonly IReadOnlyList<string> Keys =
    [
        "machine.cpus", "machine.frames", "machine.policy", "machine.zero-page", "machine.tlb.entries", "machine.tlb.ways",
        "shootdown", "actors.quantum", "latency.jitter", "chaos.loader-crash-rate", "machine.disk.read-error-rate",
    ];

    /// <param name="loaded">The default config under <paramref name="overrides"/>.</param>
    /// <param name="overrides">The --set arguments: a knob among them is pinned.</param>
    public static SwarmPins From(LoadedConfig loaded, IReadOnlyList<string> overrides)
    {
        var set = overrides.Select(KeyOf).ToHashSet(StringComparer.Ordinal);
        var root = new ConfigReader(loaded, loaded.Merged, "").Section(ConfigSchema.Root);
        bool Pinned(string key) => set.Contains(key);
        return new SwarmPins
        {
            Cpus = Pinned("machine.cpus") ? root.Int("machine.cpus", 1, 1024) : null,
            Frames = Pinned("machine.frames") ? root.Int("machine.frames", 0, 1 << 28) : null,
            Policy = Pinned("machine.policy") ? root.Choice("machine.policy", "fifo", "lru", "clock", "opt") : null,
            ZeroPage = Pinned("machine.zero-page") ? root.Bool("machine.zero-page") : null,
            TlbEntries = Pinned("machine.tlb.entries") ? root.Int("machine.tlb.entries", 1, 1 << 20) : null,
            TlbWays = Pinned("machine.tlb.ways") ? root.Int("machine.tlb.ways", 1, 1 << 20) : null,
            Shootdown = Pinned("shootdown") ? root.Choice("shootdown", "eager", "batched", "lazy") : null,
            Quantum = Pinned("actors.quantum") ? root.Int("actors.quantum", 1, 1 << 16) : null,
            Jitter = Pinned("latency.jitter") ? root.Fraction("latency.jitter") : null,
            CrashRate = Pinned("chaos.loader-crash-rate") ? root.Fraction("chaos.loader-crash-rate") : null,
            ReadErrorRate = Pinned("machine.disk.read-error-rate") ? root.Fraction("machine.disk.read-error-rate") : null,
        };
    }

    /// <summary>The key of a --set argument without its "faultsim." (what <see cref="Keys"/> lists).</summary>
    private static string KeyOf(string assignment)
    {
        var eq = assignment.IndexOf('=', StringComparison.Ordinal);
        var key = (eq < 0 ? assignment : assignment[..eq]).Trim();
        return key.StartsWith(ConfigSchema.Root + ".", StringComparison.Ordinal) ? key[(ConfigSchema.Root.Length + 1)..] : key;
    }
}

namespace Faultsim.Host.Swarm;

/// <summary>The machine's knobs of a draw, each drawn or pinned by --set.</summary>
public sealed record SwarmKnobs(int Cpus, int Frames, string Policy, bool ZeroPage, int TlbEntries, int TlbWays, string Shootdown,
    int Quantum, double Jitter, double CrashRate, double ReadErrorRate);

/// <summary>A file of a draw's disk: its name, length in bytes (a last page may be partial), and its pages.</summary>
public sealed record SwarmFile(string Name, ulong Size)
{
    public int Pages => (int)((Size + 4095) / 4096);
}

/// <summary>What backs a region of a draw.</summary>
public enum SwarmRegionKind
{
    Anonymous,
    FilePrivate,
    FileShared,
    SharedAnonymous,
    Stack,
}

/// <summary>A region of a draw: one a process starts with, or one a script maps.</summary>
public sealed record SwarmRegion(string Name, SwarmRegionKind Kind, ulong Start, int Pages, string Prot, string? File, ulong Offset)
{
    public ulong Length => (ulong)Pages * 4096;
    public bool Shared => Kind is SwarmRegionKind.FileShared or SwarmRegionKind.SharedAnonymous;
    public bool Executable => Prot.Contains('x', StringComparison.Ordinal);
}

/// <summary>
/// A process of a draw: one the machine starts with (its own tree), or a child forked by a script (in its parent's tree),
/// with the regions a CPU running it surely knows (those it started with, or its parent knew at the fork).
/// </summary>
public sealed record SwarmProcess(string Name, int Tree, IReadOnlyList<SwarmRegion> Known, int BornInPhase);

/// <summary>
/// The whole of one draw before it is written out as a scenario file: with the shapes it took (<see cref="SwarmShapes"/>,
/// by their option names) and the settings they set beside the knobs (latencies: config key and value).
/// </summary>
public sealed record SwarmWorld(ulong Seed, SwarmKnobs Knobs, IReadOnlyList<SwarmFile> Files, IReadOnlyList<SwarmProcess> Roots,
    IReadOnlyList<string> Forks, IReadOnlyDictionary<int, IReadOnlyList<string>> Scripts, bool RaceFree, int Regions, int Phases,
    IReadOnlyList<string> Shapes, IReadOnlyList<(string Key, string Value)> Settings);

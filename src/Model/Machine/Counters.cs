using Faultsim.Model.Faults;

namespace Faultsim.Model.Machine;

/// <summary>
/// What a run counts, per process and in total. Minor and major follow getrusage: a fault that
/// needed disk I/O is major, any other handled fault minor, and a fault that ended in a signal,
/// EFAULT or an oops is neither.
/// </summary>
public sealed class Counters
{
    private static readonly int Resolutions = Enum.GetValues<ResolutionKind>().Length; // once: a quantum makes a Counters

    private readonly long[] _byResolution = new long[Resolutions];

    public long Minor { get; set; }
    public long Major { get; set; }
    public long Total => Minor + Major;

    /// <summary>Write faults on write-protected pages: COW breaks plus reuses.</summary>
    public long Cow => this[ResolutionKind.CowBreak] + this[ResolutionKind.CowReuse];
    public long Segv => this[ResolutionKind.SigSegv];
    public long Bus => this[ResolutionKind.SigBus];
    public long Efault => this[ResolutionKind.EfaultFixup];
    public long Oops => this[ResolutionKind.KernelOops];
    public long Spurious => this[ResolutionKind.Spurious];

    public long Accesses { get; set; }
    public long PagesZeroed { get; set; }
    public long PagesCopied { get; set; }
    public long PagesEvicted { get; set; }
    public long DiskReads { get; set; }
    public long DiskWrites { get; set; }
    public long TlbHits { get; set; }
    public long TlbMisses { get; set; }
    public long Shootdowns { get; set; }
    public long Ipis { get; set; }
    public long SyscallErrors { get; set; }

    /// <summary>Faults by how they ended.</summary>
    public long this[ResolutionKind kind]
    {
        get => _byResolution[(int)kind];
        set => _byResolution[(int)kind] = value;
    }

    /// <summary>Counts a shootdown round that sent <paramref name="ipis"/> IPIs; a round that sent none (all local, or lazy) is no shootdown.</summary>
    public void CountShootdown(int ipis)
    {
        if (ipis <= 0)
            return;
        Shootdowns++;
        Ipis += ipis;
    }

    /// <summary>Counts a finished fault by its final resolution, and as getrusage would (<see cref="IsHandled"/>).</summary>
    public void CountFault(ResolutionKind kind, bool major)
    {
        _byResolution[(int)kind]++;
        if (!IsHandled(kind))
            return;
        if (major)
            Major++;
        else
            Minor++;
    }

    /// <summary>Counts a fault that ended as <paramref name="resolution"/>, with no wait for another's read (<see cref="CountedAs"/>).</summary>
    public void CountFault(Resolution resolution)
    {
        var (kind, major) = CountedAs(resolution, waitedForRead: false);
        CountFault(kind, major);
    }

    /// <summary>Whether a fault that ended as <paramref name="kind"/> counts as minor or major: it was handled, not ended by a signal, EFAULT or an oops.</summary>
    public static bool IsHandled(ResolutionKind kind) =>
        kind is not (ResolutionKind.SigSegv or ResolutionKind.SigBus or ResolutionKind.EfaultFixup or ResolutionKind.KernelOops);

    /// <summary>
    /// How a fault resolved as <paramref name="resolution"/> is counted: its kind, and major when it needed disk I/O — a
    /// read of its own, or a wait for another fault's read of its page (<paramref name="waitedForRead"/>), which counts
    /// as a major fault, as Linux counts it.
    /// </summary>
    public static (ResolutionKind Kind, bool Major) CountedAs(Resolution resolution, bool waitedForRead) =>
        waitedForRead ? (ResolutionKind.Major, true) : (resolution.Kind, resolution is Resolution.Major);

    /// <summary>What memory counted for this process: pages zeroed, copied and evicted, disk writes, and the disk reads memory made for it.</summary>
    public void Add(Memory.MemoryTotals memory)
    {
        PagesZeroed += memory.Zeroed;
        PagesCopied += memory.Copied;
        PagesEvicted += memory.Evicted;
        DiskWrites += memory.DiskWrites;
        DiskReads += memory.DiskReads;
    }

    public void Add(Counters other)
    {
        for (var i = 0; i < _byResolution.Length; i++)
            _byResolution[i] += other._byResolution[i];
        Minor += other.Minor;
        Major += other.Major;
        Accesses += other.Accesses;
        PagesZeroed += other.PagesZeroed;
        PagesCopied += other.PagesCopied;
        PagesEvicted += other.PagesEvicted;
        DiskReads += other.DiskReads;
        DiskWrites += other.DiskWrites;
        TlbHits += other.TlbHits;
        TlbMisses += other.TlbMisses;
        Shootdowns += other.Shootdowns;
        Ipis += other.Ipis;
        SyscallErrors += other.SyscallErrors;
    }
}

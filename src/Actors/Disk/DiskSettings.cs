using System.Collections.Immutable;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Disk;

/// <summary>
/// The simulated disk: its files, how many requests it serves at once (the rest queue in order), how
/// long a page takes (latency plus the transfer at the bandwidth), whether that time is waited on the
/// scheduler's clock, and which reads fail — every read of a listed page, and any with the given probability.
/// </summary>
public sealed record DiskSettings(int QueueDepth, double ReadErrorRate,
    ImmutableHashSet<FilePage> BadPages, ulong Seed, TimeSpan Latency, ulong Bandwidth, bool Timed)
{
    /// <summary>The time one page takes: the latency, and 4 KiB at the bandwidth.</summary>
    public TimeSpan ServiceTime => Latency + TimeSpan.FromSeconds((double)VirtualAddress.PageSize / Bandwidth);
}

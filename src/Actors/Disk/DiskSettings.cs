using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Storage;

namespace Faultsim.Actors.Disk;

/// <summary>
/// The simulated disk: its files, how many requests it serves at once (the rest queue in order), how
/// long a page takes (latency plus the transfer at the bandwidth), whether that time is waited on the
/// scheduler's clock, and which reads fail (the model's <see cref="ReadErrors"/>).
/// </summary>
public sealed record DiskSettings(int QueueDepth, ReadErrors Errors, ulong Seed, TimeSpan Latency, ulong Bandwidth, bool Timed)
{
    /// <summary>The time one page takes: the latency, and 4 KiB at the bandwidth.</summary>
    public TimeSpan ServiceTime => ServiceTimeOf(1);

    /// <summary>The time a request of <paramref name="pages"/> pages takes (a readahead window is one): the latency once, and its bytes at the bandwidth.</summary>
    public TimeSpan ServiceTimeOf(int pages) => Latency + TimeSpan.FromSeconds((double)pages * VirtualAddress.PageSize / Bandwidth);
}

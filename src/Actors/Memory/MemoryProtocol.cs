using System.Collections.Immutable;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Faults;
using Faultsim.Model.Memory;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;

namespace Faultsim.Actors.Memory;

// Memory protocol. The memory actor owns the physical frames (reference counts, generations,
// reverse map, content), the page cache, the swap cache and swap space, and the replacement policy.
//   loader ──LookUp──▶ memory ──LookedUp──▶ loader          frame facts, or a cache lookup; a miss
//                                                           reserves the read for this loader (a locked page)
//   loader ──Prepare──▶ memory ──InstallPte──▶ mm            a frame for the PTE, referenced for that page, handed
//                                                           on to the mm to install (AddressSpaceProtocol)
//   mm ──Unprepare──▶ memory                                 the PTE was not installed after all
//   TLB ──Accessed──▶ memory                                 the accesses a TLB performed (content, recency,
//                                                           and the stale-translation check)
//   mm ──ReleasePages──▶ memory                              PTEs that are gone, after their shootdown
//   mm ──WillNeed──▶ memory ──ReadPage──▶ disk ──PageRead──▶ memory ──WillNeeded──▶ mm    madvise(WILLNEED)
// Readahead: a lookup that misses a file page reserves its window's pages too (Reserved.Ahead), which the loader
// reads in its one request; a lookup that hits a marked page (PG_readahead) is answered once memory has read the
// next window itself (ReadPage to the disk, PageRead back). Pages being read ahead are locked like any read.
//   mm ──AddReferences──▶ memory ──ReferencesAdded──▶ mm    fork: the child's PTEs share the frames
//   mm ──LockPages──▶ memory                                 mlock / munlock: frames pinned against reclaim, or not
//   mm ──MovePages──▶ memory                                 mremap moved PTEs: the reverse map follows
// Reclaim, when a frame is needed and none is free (a frame limit): memory picks a victim by the
// replacement policy, and for each PTE that maps it
//   memory ──EvictPage──▶ that page's loader ──ReplacePte──▶ mm [shootdown] ──PteReplaced──▶ memory
// then writes the page out (DiskProtocol.WritePage) and frees the frame — unless a fault mapped it
// again meanwhile, in which case it stays.
public interface IMemoryProtocol : ISimulationMessage;

/// <summary>Loader → memory. Answered by <see cref="LookedUp"/>, at once or, for a page someone is reading, when the read ends.</summary>
/// <see cref="Cpu"/> is the faulting CPU: reclaim for the read's frame runs on it. For a file page, <see cref="FileSize"/>
/// and the VMA's <see cref="Flags"/> (its read advice) give the readahead window a miss reads, or a marker's hit.
public sealed record LookUp(FaultId Id, CpuId Cpu, PageKey Page, MemoryQuery Query, ulong FileSize = 0, VmaFlags Flags = VmaFlags.None) : IMemoryProtocol;

/// <summary>What memory answers to a <see cref="LookUp"/>.</summary>
public abstract record CacheAnswer
{
    private CacheAnswer() { }

    public sealed record Facts(FrameFacts Frame) : CacheAnswer;

    /// <summary>The page is in memory at <paramref name="Frame"/> (generation <paramref name="Generation"/>). <paramref name="Waited"/>: it was being read when asked.</summary>
    public sealed record Hit(FrameNumber Frame, uint Generation, bool Waited) : CacheAnswer;

    /// <summary>
    /// Not in memory: this loader reads it, into <paramref name="Frame"/>; others asking meanwhile wait. <paramref name="Hole"/>:
    /// there is nothing to read — a shared-memory page never written out — and the frame is to be zeroed instead.
    /// </summary>
    /// <paramref name="Ahead"/>: the pages of the fault's readahead window reserved too, read in the same request.
    public sealed record Reserved(FrameNumber Frame, uint Generation, bool Hole = false, ImmutableArray<ReservedAhead> Ahead = default) : CacheAnswer
    {
        public ImmutableArray<ReservedAhead> Ahead { get; init; } = Ahead.IsDefault ? [] : Ahead;
    }

    /// <summary>A read someone had reserved was abandoned, or the frame went away: look up again.</summary>
    public sealed record Retry : CacheAnswer
    {
        public static readonly Retry Instance = new();
    }

    /// <summary>No frame could be freed for the read: the OOM killer ends the process.</summary>
    public sealed record OutOfMemory : CacheAnswer
    {
        public static readonly OutOfMemory Instance = new();
    }
}

public sealed record LookedUp(FaultId Id, CacheAnswer Answer) : IMemoryProtocol;

/// <summary>A readahead page reserved for a read: locked (others asking for it wait) until its content arrives.</summary>
public sealed record ReservedAhead(FilePage Page, FrameNumber Frame, uint Generation);

/// <summary>A readahead page's read, done: its content, or <see cref="Failed"/> (it leaves the page cache).</summary>
public sealed record AheadPage(FilePage Page, FrameNumber Frame, uint Generation, bool Failed, ImmutableArray<ulong> Content);

/// <summary>What the frame for a new PTE is to be.</summary>
public abstract record Preparation
{
    private Preparation() { }

    /// <summary>A fresh zero-filled anonymous frame (demand-zero).</summary>
    public sealed record ZeroFilled : Preparation
    {
        public static readonly ZeroFilled Instance = new();
    }

    /// <summary>The cached frame itself (page-cache or swap-cache hit); for a swap-cache page, whether the slot is the PTE's alone decides its writability.</summary>
    public sealed record Cached(FrameNumber Frame, uint Generation, SwapSlot? Slot) : Preparation;

    /// <summary>A new anonymous frame with a copy of <paramref name="Source"/> (COW break, or a private copy of a file page).</summary>
    public sealed record CopyOf(FrameNumber Source, uint Generation) : Preparation;

    /// <summary>A reserved frame for a shared-memory page never written out: zero it (nothing is read), then map it.</summary>
    public sealed record Hole(FrameNumber Frame, uint Generation, MemoryQuery Source) : Preparation;

    /// <summary>The content of a reserved read arrived: fill the frame, wake those waiting for it, then map it (or a private copy of it).</summary>
    /// <paramref name="Ahead"/>: the readahead pages the same request read, filled and unlocked first.
    public sealed record ReadDone(FrameNumber Frame, uint Generation, MemoryQuery Source, ImmutableArray<ulong> Content, bool CopyForWrite,
        ImmutableArray<AheadPage> Ahead = default) : Preparation
    {
        public ImmutableArray<AheadPage> Ahead { get; init; } = Ahead.IsDefault ? [] : Ahead;
    }
}

/// <summary>
/// Loader → memory: a frame for <see cref="Page"/>, referenced for its PTE, then <see cref="Then"/> sent to
/// the page's mm with the PTE flags the model's effect gives (<see cref="Effect"/>, <see cref="Vma"/>,
/// <see cref="Access"/>). If the frame went away since the lookup, the waiters fault again; with no frame to be had,
/// the OOM killer ends the process. A read fault's page-cache page goes with its cached neighbours (fault-around, within
/// <see cref="FileSize"/>), referenced for their PTEs too (<see cref="InstallPte.Around"/>).
/// </summary>
public sealed record Prepare(FaultId Id, PageKey Page, ProcessId Pid, Preparation What,
    InstallPte Then, FaultEffect Effect, Vma Vma, AccessKind Access, ulong FileSize = 0) : IMemoryProtocol;

/// <summary>
/// mm → memory: madvise(MADV_WILLNEED) by <paramref name="Pid"/>: read these windows' pages not cached into free frames,
/// one disk request a window. Answered by <see cref="WillNeeded"/> once the reads are done.
/// </summary>
public sealed record WillNeed(long Id, ProcessId Pid, ImmutableArray<ReadaheadWindow> Windows) : IMemoryProtocol;

public sealed record WillNeeded(long Id) : IMemoryProtocol;

/// <summary>Loader → memory: a reserved read failed (I/O error) or was abandoned; those waiting for it look up again.</summary>
public sealed record CancelRead(MemoryQuery Source, FrameNumber Frame) : IMemoryProtocol;

/// <summary>mm → memory: the PTE for <see cref="Page"/> was not installed after all; drop the reference Prepare took.</summary>
public sealed record Unprepare(PageKey Page, FrameNumber Frame) : IMemoryProtocol;

/// <summary>
/// Loader → memory, after installing a PTE for a swapped-out page: that PTE no longer names the slot. When no PTE
/// does any more, the slot is freed and its page leaves the swap cache.
/// </summary>
public sealed record SwapEntryDropped(SwapSlot Slot) : IMemoryProtocol;

/// <summary>One access a TLB performed through a cached translation.</summary>
public readonly record struct FrameAccess(FrameNumber Frame, uint Generation, PageKey Page, ulong Offset, ulong Value, bool Write);

/// <summary>TLB → memory: the accesses performed since the last flush, in order. Sent before the TLB acknowledges any IPI.</summary>
public sealed record Accessed(CpuId Cpu, ImmutableArray<FrameAccess> Accesses) : IMemoryProtocol;

/// <summary>
/// mm → memory, after the shootdown of the pages: drop their references. <paramref name="Replaced"/>: the frames were
/// replaced by copies (a COW break), so the pages' content lives on; else it is gone (munmap, madvise, exit).
/// </summary>
public sealed record ReleasePages(ImmutableArray<PageRelease> Pages, bool Replaced = false) : IMemoryProtocol;

/// <summary>mm of <paramref name="Parent"/> → memory at fork: the PTEs of the child (<paramref name="ChildAsid"/>) reference these frames and slots too. Answered by <see cref="ReferencesAdded"/>.</summary>
public sealed record AddReferences(long Id, ProcessId Parent, Asid ChildAsid, ImmutableArray<PageRelease> Pages) : IMemoryProtocol;

public sealed record ReferencesAdded(long Id) : IMemoryProtocol;

/// <summary>
/// mm → memory: mlock (<paramref name="Locks"/>) or munlock — these PTEs, in VMAs locked or unlocked now, map these frames
/// (each <see cref="PageRelease.Frame"/>): a locked one is never chosen for reclaim while a locked PTE maps it. Sent before
/// the call returns, so memory hears it before any fault of the populate that follows.
/// </summary>
public sealed record LockPages(ImmutableArray<PageRelease> Pages, bool Locks) : IMemoryProtocol;

/// <summary>mm → memory: mremap moved these PTEs of <paramref name="Asid"/>; memory finds their frames at the new pages (a lock follows when <paramref name="Locked"/>).</summary>
public sealed record MovePages(Asid Asid, ImmutableArray<PageMove> Moves, bool Locked) : IMemoryProtocol;

/// <summary>mm → memory: MADV_PAGEOUT by <see cref="Cpu"/> — reclaim these frames (each mapped by this process alone). Answered by <see cref="PagedOut"/>.</summary>
public sealed record PageOut(long Id, ProcessId Pid, CpuId Cpu, ImmutableArray<FrameNumber> Frames) : IMemoryProtocol;

public sealed record PagedOut(long Id) : IMemoryProtocol;

/// <summary>Memory → itself: reclaim that freed nothing has waited its throttle (latency.reclaim-throttle) and may evict again.</summary>
public sealed record ReclaimThrottled : IMemoryProtocol
{
    public static readonly ReclaimThrottled Instance = new();
}

/// <summary>mm → memory: the PTE of <see cref="Page"/> that mapped the victim of eviction <see cref="EvictionId"/> now holds its replacement (or no longer mapped it).</summary>
public sealed record PteReplaced(long EvictionId, PageKey Page, bool Replaced) : IMemoryProtocol;

/// <summary>Machine → memory at the end of a run: the content of the pages these PTEs map (frames or swap slots). Answered by <see cref="Contents"/>.</summary>
public sealed record ReadContents(ImmutableArray<Pte> Ptes) : IMemoryProtocol;

/// <summary>
/// Memory → machine: the words of each page asked, <see cref="WordsPerPage"/> a page one after another in one array
/// (zeroes where it maps a page-cache page: the files' content, not the process's); and every page-cache page whose
/// content differs from its file's original.
/// </summary>
public sealed record Contents(ImmutableArray<ulong> Words, int WordsPerPage,
    ImmutableArray<(FilePage Page, ImmutableArray<ulong> Words)> ChangedFilePages, MemoryReport Report) : IMemoryProtocol;

/// <summary>What memory counted, per process.</summary>
public sealed record MemoryReport(
    ImmutableDictionary<ProcessId, MemoryTotals> ByProcess,
    int PeakFrames,
    long MessagesReceived);

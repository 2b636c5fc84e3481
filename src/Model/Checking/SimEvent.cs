using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;

namespace Faultsim.Model.Checking;

/// <summary>
/// Something a run did that the invariants are about. Engines record these as they happen; the
/// <see cref="InvariantMonitor"/> checks them as they come, and the event log prints them.
/// </summary>
public abstract record SimEvent
{
    private SimEvent() { }

    /// <summary>A walk failed: the fault <paramref name="Fault"/> of <paramref name="Cpu"/> at <paramref name="Address"/> goes to the page's loader.</summary>
    public sealed record FaultRaised(long Fault, CpuId Cpu, PageKey Page, VirtualAddress Address, FaultErrorCode Code) : SimEvent
    {
        public override string ToString() => $"{FaultName.Of(Fault)} raised by {Cpu} at {Address} ({Code})";
    }

    /// <summary>A fault joined the wait queue of a page whose load is under way.</summary>
    public sealed record FollowerQueued(long Fault, PageKey Page, long Leader) : SimEvent
    {
        public override string ToString() => $"{FaultName.Of(Fault)} waits for {FaultName.Of(Leader)} on {Page}";
    }

    /// <summary>The model decided how a fault is resolved.</summary>
    public sealed record FaultDecided(long Fault, PageKey Page, ResolutionKind Kind) : SimEvent
    {
        public override string ToString() => $"{FaultName.Of(Fault)} on {Page}: {Kind}";
    }

    /// <summary>A disk read of one block begins: for a fault (its page, or a page of its readahead window), or (<see cref="Fault"/> 0) memory's own readahead.</summary>
    public sealed record DiskReadStarted(long Fault, string Block) : SimEvent
    {
        public override string ToString() => Fault == 0 ? $"read {Block} ahead" : $"read {Block} for {FaultName.Of(Fault)}";
    }

    /// <summary>Memory's own readahead request for <paramref name="Pid"/> (a marker's hit, madvise(WILLNEED)): one disk read of <paramref name="Pages"/> pages.</summary>
    public sealed record ReadAheadStarted(ProcessId Pid, int Pages) : SimEvent
    {
        public override string ToString() => $"readahead of {Pages} page(s) for {Pid}";
    }

    public sealed record DiskReadFinished(string Block, bool Failed) : SimEvent
    {
        public override string ToString() => Failed ? $"read of {Block} failed" : $"read {Block} done";
    }

    /// <summary>A COW write: reused in place, or copied; with the references the frame had.</summary>
    public sealed record CowDecided(PageKey Page, FrameNumber Frame, int RefCount, bool Reused) : SimEvent
    {
        public override string ToString() => $"{Page}: {(Reused ? "reuse" : "copy")} {Frame} (refcount {RefCount})";
    }

    public sealed record PteInstalled(PageKey Page, Pte Old, Pte New) : SimEvent
    {
        public override string ToString() => $"{Page}: {Old} -> {New}";
    }

    /// <summary>The PTE just installed for <paramref name="Page"/> lies in no VMA of its address space (the region was unmapped meanwhile).</summary>
    public sealed record PteOutsideVma(PageKey Page, FrameNumber Frame) : SimEvent
    {
        public override string ToString() => $"{Page}: a PTE to {Frame} installed where no VMA maps";
    }

    /// <summary>
    /// A waiting fault was woken. <paramref name="Counted"/>: as resolved (not merely to fault again). <paramref name="DiskRead"/>:
    /// the waiter counts the disk read of its load (what the run counts; not in the line). <paramref name="Major"/>: counted as
    /// a major fault — its load read the disk or waited for a read — whatever its kind, as Linux keeps VM_FAULT_MAJOR on a
    /// fault that lost its race after the read (not in the line).
    /// </summary>
    public sealed record FaultWoken(long Fault, PageKey Page, ResolutionKind Kind, bool Counted, string Outcome, bool DiskRead = false, bool Major = false) : SimEvent
    {
        public override string ToString() => $"{FaultName.Of(Fault)} woken: {(Counted ? Kind.ToString() : "fault again")} ({Outcome})";
    }

    public sealed record ShootdownStarted(long Round, Asid Asid, PageNumber From, PageNumber To, bool All, ImmutableArray<CpuId> Targets) : SimEvent
    {
        public override string ToString() =>
            $"shootdown#{Round} of {Asid} {(All ? "all" : $"{From}..{To}")} to {string.Join(",", Targets.Select(t => t.ToString()))}";
    }

    public sealed record IpiSent(long Round, CpuId Cpu) : SimEvent
    {
        public override string ToString() => $"IPI shootdown#{Round} to {Cpu}";
    }

    public sealed record IpiAcknowledged(long Round, CpuId Cpu) : SimEvent
    {
        public override string ToString() => $"{Cpu} acks shootdown#{Round}";
    }

    /// <summary>A round was acknowledged by every target; it sent <paramref name="Ipis"/> IPIs (what the run counts; not in the line).</summary>
    public sealed record ShootdownFinished(long Round, int Ipis = 0) : SimEvent
    {
        public override string ToString() => $"shootdown#{Round} complete";
    }

    /// <summary>mremap moved PTEs of <paramref name="Asid"/> (move_ptes): the content of each From page is at its To page now.</summary>
    public sealed record PagesMoved(Asid Asid, ImmutableArray<AddressSpaces.PageMove> Moves) : SimEvent
    {
        public override string ToString() =>
            $"moved {Moves.Length} page(s) of {Asid}{(Moves.Length > 0 ? $" from {Moves[0].From} to {Moves[0].To}" : "")}";
    }

    /// <summary>Memory dropped the references of PTEs that are gone (munmap, madvise, exit, a COW's old frame).</summary>
    public sealed record PagesReleased(ImmutableArray<PageKey> Pages, bool Replaced = false) : SimEvent
    {
        public override string ToString() =>
            $"released {(Replaced ? "the replaced frame of " : "")}{Pages.Length} page(s){(Pages.Length > 0 ? $" from {Pages[0]}" : "")}";
    }

    /// <summary>Memory applied a store, to an anonymous frame or to the page-cache frame of <paramref name="File"/> (a shared mapping).</summary>
    public sealed record StoreApplied(PageKey Page, int Word, ulong Value, FilePage? File = null) : SimEvent
    {
        public bool Anonymous => File is null;
        public override string ToString() => $"store {Page} word {Word} = 0x{Value:x}{(File is { } f ? $" ({f})" : "")}";
    }

    /// <summary>Memory applied a load of <paramref name="Cpu"/>: the value it read, from an anonymous frame or from <paramref name="File"/>'s page-cache frame.</summary>
    public sealed record LoadApplied(CpuId Cpu, PageKey Page, int Word, ulong Value, FilePage? File = null) : SimEvent
    {
        public override string ToString() => $"{Cpu} load {Page} word {Word} = 0x{Value:x}{(File is { } f ? $" ({f})" : "")}";
    }

    /// <summary>An access went through a translation to a frame that was freed or reused since it was cached.</summary>
    public sealed record StaleAccess(CpuId Cpu, PageKey Page, FrameNumber Frame) : SimEvent
    {
        public override string ToString() => $"{Cpu} used a stale translation of {Page} to {Frame}";
    }

    public sealed record Forked(ProcessId Parent, ProcessId Child) : SimEvent
    {
        public override string ToString() => $"{Parent} forked {Child}";
    }

    public sealed record ProcessEnded(ProcessId Pid, ProcessFate Fate) : SimEvent
    {
        public override string ToString() => $"{Pid} ended: {Fate}";
    }

    public sealed record PageEvicted(FrameNumber Frame, ImmutableArray<PageKey> Pages) : SimEvent
    {
        public override string ToString() => $"evicted {Frame} ({Pages.Length} mapping(s))";
    }

    public sealed record SyscallMade(CpuId Cpu, string Call) : SimEvent
    {
        public override string ToString() => $"{Cpu}: {Call}";
    }
}

/// <summary>How events name a fault: fault#C.N is CPU C's Nth fault (its id packs the CPU above bit 40).</summary>
public static class FaultName
{
    public const int CpuShift = 40;

    public static long Id(int cpu, long number) => ((long)cpu << CpuShift) | number;

    public static string Of(long id) => $"fault#{id >> CpuShift}.{id & ((1L << CpuShift) - 1)}";
}

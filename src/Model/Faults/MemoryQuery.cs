using Faultsim.Model.Addressing;

namespace Faultsim.Model.Faults;

/// <summary>What the fault decision needs to know from memory before it can decide, beyond the mm's VMA and PTE.</summary>
public abstract record MemoryQuery
{
    private MemoryQuery() { }

    /// <summary>Who else references the frame a write-protected PTE maps (COW break or reuse).</summary>
    public sealed record OfFrame(FrameNumber Frame) : MemoryQuery;

    /// <summary>Whether the file page is in the page cache.</summary>
    public sealed record OfFile(FilePage Page) : MemoryQuery;

    /// <summary>Whether the swapped-out page is still in the swap cache.</summary>
    public sealed record OfSwap(SwapSlot Slot) : MemoryQuery;

    /// <summary>
    /// The memory facts <see cref="FaultHandler.Resolve"/> will read for <paramref name="f"/>: null when the address, the
    /// VMA and the PTE alone decide (a signal or a stack growth the VMA decides before the page is looked at, an
    /// anonymous page never touched, a spurious fault, …) — then memory is asked nothing, and no frame is made free.
    /// </summary>
    public static MemoryQuery? For(in FaultInput f)
    {
        if (FaultHandler.DecidedByVma(f) is not null)
            return null;
        var pte = f.Pte;
        if (pte.HoldsFrame)
            return f.Code.Access == AccessKind.Write && !pte.IsWritable ? new OfFrame(pte.Frame) : null;
        if (pte.IsSwapped)
            return new OfSwap(pte.Slot);
        if (pte.IsNone && f.Vma!.FilePageOf(f.Address.Page) is { } page && page.Index * VirtualAddress.PageSize < f.FileSize)
            return new OfFile(page);
        return null;
    }
}

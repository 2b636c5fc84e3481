using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.PageTables;

namespace Faultsim.Model.Memory;

/// <summary>What a PTE of one page holds in memory: a frame reference, or a swap-slot reference, or neither.</summary>
public readonly record struct PageRelease(PageKey Page, FrameNumber? Frame, SwapSlot? Slot)
{
    /// <summary>What <paramref name="pte"/> of <paramref name="page"/> holds: its frame, or its swap slot, or neither.</summary>
    public static PageRelease Of(PageKey page, Pte pte) => new(page, pte.HoldsFrame ? pte.Frame : null, pte.IsSwapped ? pte.Slot : null);

    /// <summary>
    /// The references that changed PTEs of <paramref name="asid"/> no longer hold: frames replaced or gone, swap slots gone.
    /// (A PTE whose frame stayed, or that still names its slot, keeps its reference.)
    /// </summary>
    public static IEnumerable<PageRelease> Dropped(Asid asid, IEnumerable<PteChange> changes) => changes
        .Where(c => (c.Old.HoldsFrame && !(c.New.HoldsFrame && c.New.Frame == c.Old.Frame)) || (c.Old.IsSwapped && !c.New.IsSwapped))
        .Select(c => Of(new PageKey(asid, c.Page), c.Old));
}

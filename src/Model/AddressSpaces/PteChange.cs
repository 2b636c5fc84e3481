using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;

namespace Faultsim.Model.AddressSpaces;

/// <summary>A leaf entry an address-space operation changed. The caller settles frames, swap slots and TLBs from these.</summary>
public readonly record struct PteChange(PageNumber Page, Pte Old, Pte New)
{
    /// <summary>Whether a TLB may still cache a translation that the new entry no longer allows: a shootdown is needed.</summary>
    public bool NeedsShootdown =>
        Old.IsPresent && (!New.IsPresent || New.Frame != Old.Frame
                          || (Old.IsWritable && !New.IsWritable)
                          || (!Old.IsNoExecute && New.IsNoExecute));
}

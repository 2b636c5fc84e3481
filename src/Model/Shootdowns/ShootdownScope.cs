using Faultsim.Model.Addressing;
using Faultsim.Model.Tlbs;

namespace Faultsim.Model.Shootdowns;

/// <summary>What one shootdown round invalidates: pages [<see cref="From"/>, <see cref="To"/>) of one address space, or all of it.</summary>
public readonly record struct ShootdownScope(Asid Asid, PageNumber From, PageNumber To, bool All)
{
    /// <summary>Every translation of <paramref name="asid"/> (process exit).</summary>
    public static ShootdownScope Everything(Asid asid) => new(asid, default, default, All: true);

    public static ShootdownScope OnePage(Asid asid, PageNumber page) => new(asid, page, page + 1, All: false);

    public bool Covers(Asid asid, PageNumber page) => asid == Asid && (All || (page >= From && page < To));

    /// <summary>Drops what this round covers from <paramref name="tlb"/>.</summary>
    public void ApplyTo(Tlb tlb)
    {
        if (All)
            tlb.InvalidateAsid(Asid);
        else if (To - From == 1)
            tlb.Invalidate(Asid, From);
        else
            tlb.InvalidateRange(Asid, From, To);
    }
}

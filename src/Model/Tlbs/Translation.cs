using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.PageTables;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.Tlbs;

/// <summary>
/// What a TLB entry caches: the frame, the permissions of the PTE it was filled from, and the
/// frame's generation tag then (its generation modulo <see cref="Pte.GenerationTags"/>), so that a
/// use after the frame was freed or reused can be detected.
/// </summary>
public readonly record struct Translation(FrameNumber Frame, uint Generation, PteFlags Flags)
{
    /// <summary>The translation a present PTE gives.</summary>
    public static Translation Of(Pte pte) => new(pte.Frame, pte.GenerationTag, pte.Flags);

    public bool Allows(AccessKind kind, bool userMode) => Pte.Mapped(Frame, Flags).Allows(kind, userMode);

    /// <summary>Whether an access in <paramref name="mode"/> may use this entry, SMAP included (<see cref="AccessCheck"/>).</summary>
    public bool Allows(AccessKind kind, AccessMode mode, bool smap) => AccessCheck.Allows(Pte.Mapped(Frame, Flags), kind, mode, smap);
}

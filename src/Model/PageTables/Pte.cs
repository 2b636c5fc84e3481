using Faultsim.Model.Addressing;

namespace Faultsim.Model.PageTables;

/// <summary>
/// A page-table entry as the hardware sees it: flag bits plus a 40-bit frame number in bits 12–51.
/// A swapped-out entry is not present and keeps its swap slot in the same field.
/// </summary>
public readonly record struct Pte(ulong Raw)
{
    private const int FieldShift = 12, TagShift = 52;
    private const ulong FieldMask = 0xFF_FFFF_FFFFUL << FieldShift;
    private const ulong TagMask = 0x7FUL << TagShift;

    /// <summary>How many distinct generation tags a PTE can hold (bits 52–58, free for software).</summary>
    public const uint GenerationTags = 128;

    public static readonly Pte None;

    /// <summary>A PTE that maps <paramref name="frame"/>: present, unless <paramref name="flags"/> keep it under PROT_NONE.</summary>
    public static Pte Mapped(FrameNumber frame, PteFlags flags) =>
        new(((ulong)frame.Value << FieldShift) | (ulong)((flags & PteFlags.ProtNone) != 0 ? flags : flags | PteFlags.Present));

    /// <summary>
    /// A mapping that also records the low bits of the frame's generation when it was installed,
    /// so that a translation cached from it can be checked against a later reuse of the frame.
    /// </summary>
    public static Pte Mapped(FrameNumber frame, PteFlags flags, uint generation) =>
        new(Mapped(frame, flags).Raw | ((ulong)(generation % GenerationTags) << TagShift));

    public static Pte Swapped(SwapSlot slot) =>
        new(((ulong)slot.Value << FieldShift) | (ulong)PteFlags.SwappedOut);

    /// <summary>
    /// A swap entry that also records the low bits of the slot's generation (how often it was allocated), so that a fault
    /// holding the entry it saw tells it from a later entry that names the same slot, freed and allocated again meanwhile.
    /// </summary>
    public static Pte Swapped(SwapSlot slot, uint generation) =>
        new(Swapped(slot).Raw | ((ulong)(generation % GenerationTags) << TagShift));

    public PteFlags Flags => (PteFlags)(Raw & ~FieldMask & ~TagMask);

    /// <summary>The frame's (or swap slot's) generation recorded at install, modulo <see cref="GenerationTags"/>.</summary>
    public uint GenerationTag => (uint)((Raw & TagMask) >> TagShift);
    public bool IsNone => Raw == 0;
    public bool IsPresent => (Raw & (ulong)PteFlags.Present) != 0;
    public bool IsSwapped => !IsPresent && (Raw & (ulong)PteFlags.SwappedOut) != 0;

    /// <summary>Whether the entry holds a reference to a frame: present, or kept under PROT_NONE.</summary>
    public bool HoldsFrame => (Raw & (ulong)(PteFlags.Present | PteFlags.ProtNone)) != 0;
    public bool IsWritable => Has(PteFlags.Writable);
    public bool IsUser => Has(PteFlags.User);
    public bool IsNoExecute => Has(PteFlags.NoExecute);
    public bool IsCow => Has(PteFlags.Cow);
    public bool IsDirty => Has(PteFlags.Dirty);

    /// <summary>The mapped frame; meaningful only when <see cref="HoldsFrame"/>.</summary>
    public FrameNumber Frame => new((uint)((Raw & FieldMask) >> FieldShift));

    /// <summary>The swap slot; meaningful only when swapped out.</summary>
    public SwapSlot Slot => new((uint)((Raw & FieldMask) >> FieldShift));

    public bool Has(PteFlags flags) => (Raw & (ulong)flags) == (ulong)flags;
    public Pte With(PteFlags flags) => new(Raw | (ulong)flags);
    public Pte Without(PteFlags flags) => new(Raw & ~(ulong)flags);

    /// <summary>Whether the hardware lets this access through this entry without a fault.</summary>
    public bool Allows(AccessKind kind, bool userMode) =>
        IsPresent
        && (!userMode || IsUser)
        && kind switch
        {
            AccessKind.Write => IsWritable,
            AccessKind.Fetch => !IsNoExecute,
            _ => true,
        };

    public override string ToString() =>
        HoldsFrame ? $"pte[{Frame} {Flags}]" : IsSwapped ? $"pte[{Slot}]" : "pte[none]";
}

namespace Faultsim.Model.PageTables;

/// <summary>
/// The bits of a page-table entry, laid out as on x86-64. Bits 9–11 are ignored by the hardware
/// and free for the kernel: faultsim keeps its copy-on-write and swapped-out marks there.
/// </summary>
[Flags]
public enum PteFlags : ulong
{
    None = 0,
    Present = 1UL << 0,
    Writable = 1UL << 1,
    User = 1UL << 2,
    Accessed = 1UL << 5,
    Dirty = 1UL << 6,
    /// <summary>Software: the frame is shared copy-on-write (set by fork on private writable pages).</summary>
    Cow = 1UL << 9,
    /// <summary>Software: not present, and the frame-number field holds a swap slot.</summary>
    SwappedOut = 1UL << 10,
    /// <summary>Software: not present to the hardware because the VMA is PROT_NONE, but the frame is kept.</summary>
    ProtNone = 1UL << 11,
    NoExecute = 1UL << 63,
}

using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Faults;

/// <summary>
/// The PTE a resolved fault installs, for every engine alike: which pages are mapped writable at
/// once and which stay write-protected until a later write fault (copy-on-write, write-notify).
/// </summary>
public static class InstallRules
{
    /// <summary>A page the faulting process now owns alone: a zero-filled frame or a private copy.</summary>
    public static PteFlags NewPage(Vma vma) => AddressSpace.FlagsFor(vma, writable: true);

    /// <summary>The shared zero page: read-only, so the first write copies it.</summary>
    public static PteFlags ZeroPage(Vma vma) => AddressSpace.FlagsFor(vma, writable: false);

    /// <summary>A page-cache page: writable only for a write to a shared mapping; a private mapping keeps it copy-on-write.</summary>
    public static PteFlags CachedPage(Vma vma, AccessKind access) => Shared(vma, vma.IsShared && access == AccessKind.Write);

    /// <summary>A page back from swap (do_swap_page): writable at once if shared, or on a write when no other PTE still names the slot.</summary>
    public static PteFlags SwappedIn(Vma vma, AccessKind access, bool exclusive) =>
        Shared(vma, vma.IsShared || (exclusive && access == AccessKind.Write));

    /// <summary>COW reuse (and write-notify): the same frame, now dirty, and writable where the VMA may be written (a forced write's may not).</summary>
    public static Pte Reused(Pte pte, Vma vma) => pte.Without(PteFlags.Cow).With(PteFlags.Dirty | (vma.CanWrite ? PteFlags.Writable : PteFlags.None));

    private static PteFlags Shared(Vma vma, bool writable) =>
        AddressSpace.FlagsFor(vma, writable) | (!writable && !vma.IsShared && vma.CanWrite ? PteFlags.Cow : PteFlags.None);
}

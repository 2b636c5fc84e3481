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

    /// <summary>Fault-around: a cached neighbour of a read fault's page is mapped as that read would map it.</summary>
    public static PteFlags AroundPage(Vma vma) => CachedPage(vma, AccessKind.Read);

    /// <summary>
    /// A page-cache page: in a private mapping copy-on-write; in a shared one writable for a write (do_shared_fault tells
    /// the file at once), and for a read too where the mapping takes no write-notify (shmem: its writable shared mappings'
    /// page protection is writable) — else read-only, so that the first write is a write-notify fault.
    /// </summary>
    public static PteFlags CachedPage(Vma vma, AccessKind access) =>
        Shared(vma, vma.IsShared && (access == AccessKind.Write || !vma.WantsWriteNotify));

    /// <summary>A page back from swap (do_swap_page): writable at once if shared, or on a write when no other PTE still names the slot.</summary>
    public static PteFlags SwappedIn(Vma vma, AccessKind access, bool exclusive) =>
        Shared(vma, vma.IsShared || (exclusive && access == AccessKind.Write));

    /// <summary>
    /// mprotect's write upgrade (change_pte_range's can_change_pte_writable, Linux 5.19): when a protection that
    /// allows writing is set, a present read-only PTE becomes writable at once — no write fault follows — if the write
    /// fault would only have upgraded it in place: in a private mapping, an anonymous page the process owns alone (no
    /// fork shares it: no COW mark; never the zero page) and has dirtied; in a shared mapping, a dirty page (the file
    /// has been told of the write already). Any other PTE waits for its write fault (COW break, reuse, write-notify).
    /// A clean exclusive anonymous page — made while its VMA was read-only — still takes the fault here, where Linux
    /// since 6.0 upgrades it too.
    /// </summary>
    public static bool WritableOnProtect(Pte pte, bool shared, bool writeNotify = true) =>
        pte.IsPresent && !pte.IsWritable
        && (shared ? pte.IsDirty || !writeNotify : pte.IsDirty && !pte.IsCow && pte.Frame != FrameNumber.Zero);

    /// <summary>
    /// Whether installing <paramref name="pte"/> in <paramref name="vma"/> gives the VMA an anonymous page (anon_vma_prepare):
    /// in a private anonymous mapping any frame but the zero page; in a private file mapping a private copy, which a write
    /// fault installs dirty — a page-cache page goes in clean. A shared mapping never has anonymous pages. A page a forced
    /// write put in a PROT_NONE mapping counts too: it is kept, not present.
    /// </summary>
    public static bool MakesAnonymous(Vma vma, Pte pte) =>
        pte.HoldsFrame && !vma.IsShared && pte.Frame != FrameNumber.Zero && (vma.IsAnonymous || pte.IsDirty);

    /// <summary>
    /// Whether installing <paramref name="next"/> over <paramref name="now"/> replaces a frame — a present PTE's, or one a
    /// forced write kept not present under PROT_NONE — whose reference goes once no TLB can reach it (a COW break).
    /// </summary>
    public static bool ReplacesFrame(Pte now, Pte next) => now.HoldsFrame && now.Frame != next.Frame;

    /// <summary>COW reuse (and write-notify): the same frame, now dirty, and writable where the VMA may be written (a forced write's may not).</summary>
    public static Pte Reused(Pte pte, Vma vma) => pte.Without(PteFlags.Cow).With(PteFlags.Dirty | (vma.CanWrite ? PteFlags.Writable : PteFlags.None));

    private static PteFlags Shared(Vma vma, bool writable) =>
        AddressSpace.FlagsFor(vma, writable) | (!writable && !vma.IsShared && vma.CanWrite ? PteFlags.Cow : PteFlags.None);
}

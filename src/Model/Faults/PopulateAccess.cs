using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Faults;

/// <summary>
/// How the kernel faults a range in for mlock and MAP_POPULATE (populate_vma_page_range → get_user_pages), for both
/// engines: page by page it looks the PTE up itself (follow_page, not the TLB) and, where the page is not in as it needs
/// it, faults it (faultin_page) — counted as the calling thread's fault, minor or major, as any fault is — then goes on.
/// A private writable mapping is faulted for writing, so that its pages are the process's own (COW broken, zero page
/// not used); any other mapping for reading (a shared one is not dirtied for nothing). A page it cannot fault in (no VMA
/// any more, PROT_NONE, past the end of the file) ends the populate there with EFAULT, which the call does not report.
/// </summary>
public static class PopulateAccess
{
    /// <summary>FOLL_WRITE when (VM_WRITE | VM_SHARED) == VM_WRITE, else a read.</summary>
    public static AccessKind KindFor(Vma? vma) => vma is { CanWrite: true, IsShared: false } ? AccessKind.Write : AccessKind.Read;

    /// <summary>follow_page: whether <paramref name="pte"/> already lets the populate's access of <paramref name="kind"/> through.</summary>
    public static bool Allows(Pte pte, AccessKind kind) => pte.Allows(kind, userMode: false);
}

using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Faults;

/// <summary>
/// A write the kernel forces into a process's memory from outside the process's own instructions — a write(2) to
/// /proc/PID/mem, or ptrace(PTRACE_POKEDATA): get_user_pages with FOLL_FORCE | FOLL_WRITE. It may write a private mapping
/// the process cannot write, but only through a private copy (copy-on-write), never into the page cache; a shared mapping
/// it may not write refuses it (EFAULT). The kernel looks the page up in the page table itself (follow_page), not
/// through the TLB, and faults it in (faultin_page) until the lookup succeeds. The rules, for both engines.
/// </summary>
public static class ForcedAccess
{
    /// <summary>check_vma_flags: whether <paramref name="vma"/> lets a forced access of <paramref name="kind"/> fault.</summary>
    public static bool Permits(Vma vma, AccessKind kind) => vma.Permits(kind) || (kind == AccessKind.Write && !vma.IsShared);

    /// <summary>
    /// follow_page: whether a forced <paramref name="kind"/> may go through <paramref name="pte"/> as it is. A write needs a
    /// writable PTE, or in a private mapping a dirty one not marked copy-on-write: the private copy an earlier forced write
    /// fault made (can_follow_write_pte) — present, or kept under PROT_NONE. A page-cache page is never mapped so: it is
    /// copied first.
    /// </summary>
    public static bool Allows(Pte pte, AccessKind kind, Vma? vma) => kind == AccessKind.Write
        ? (pte.IsPresent && pte.IsWritable) || (pte.HoldsFrame && pte.IsDirty && !pte.IsCow && vma is { IsShared: false })
        : pte.Allows(kind, userMode: false);
}

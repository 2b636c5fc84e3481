using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.Faults;

/// <summary>
/// What the MMU checks on every access, for both engines' TLBs and walks: the PTE's permissions for the access, the user
/// bit for user mode, and SMAP for the kernel — with SMAP on (CR4.SMAP), a supervisor access to a user page faults unless
/// the kernel opened a user copy (copy_to_user / copy_from_user run with EFLAGS.AC set, by STAC). The fault that follows
/// is a kernel-mode fault outside a user copy: the kernel oopses (<see cref="FaultHandler.DecidedByVma"/>).
/// </summary>
public static class AccessCheck
{
    /// <summary>Whether <paramref name="pte"/> lets an access of <paramref name="kind"/> in <paramref name="mode"/> through without a fault.</summary>
    public static bool Allows(Pte pte, AccessKind kind, AccessMode mode, bool smap) =>
        pte.Allows(kind, userMode: mode == AccessMode.User) && !(smap && mode == AccessMode.Kernel && pte.IsUser);
}

using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Faults;

/// <summary>
/// The page-fault decision: from the error code, the address and the kernel's state it yields
/// exactly one <see cref="Resolution"/> (x86's do_user_addr_fault → handle_mm_fault, as a pure function).
/// </summary>
public static class FaultHandler
{
    private static readonly Resolution.SigSegv SegvNoVma = new(SegvReason.NoVma), SegvDenied = new(SegvReason.AccessDenied);

    /// <summary>
    /// How many times in a row one access may be resolved and fault again before the fault path is declared not to
    /// converge (a simulator bug). Retries of faults that were not resolved — the state changed under them, or their
    /// loader crashed — are no resolutions and do not count: the state changed because something else made progress.
    /// </summary>
    public const int MaxResolutionsPerAccess = 16;

    /// <summary>What an engine reports when an access exceeds <see cref="MaxResolutionsPerAccess"/>.</summary>
    public static string NotConverging(CpuId cpu, VirtualAddress address) =>
        $"{cpu} faulted {MaxResolutionsPerAccess} times in a row at {address}: the fault path does not converge";

    /// <summary>
    /// One more resolution of the access at <paramref name="address"/>, whose resolutions so far <paramref name="resolutions"/>
    /// counts (both engines count them so): past <see cref="MaxResolutionsPerAccess"/> the fault path does not converge.
    /// </summary>
    public static void Resolved(ref int resolutions, CpuId cpu, VirtualAddress address)
    {
        if (++resolutions > MaxResolutionsPerAccess)
            throw new InvalidOperationException(NotConverging(cpu, address));
    }

    /// <summary>A disk read that failed: SIGBUS for the process, or EFAULT when the kernel was copying for a system call.</summary>
    public static Resolution FailedRead(in FaultInput f)
    {
        var bus = new Resolution.SigBus(BusReason.IoError);
        return f.InUserCopy ? new Resolution.EfaultFixup(bus) : bus;
    }

    /// <summary>
    /// How a fault counts whose install finds its PTE no longer the one it was decided on — another CPU's fault on the page
    /// won the race (or reclaim took the page meanwhile) — while its VMA and its sharing stayed as they were: the kernel
    /// sees it under the page-table lock (pte_same fails), installs nothing and returns, and the access retries through what
    /// the PTE holds now. Linux counts that fault (mm_account_fault counts every fault neither retried nor failed): a minor
    /// one, here <see cref="Resolution.Spurious"/>, as a fault that found the page resolved already. Null — a retry, not
    /// counted — when nothing changed, or when the VMA or the sharing (a fork) changed: Linux's fault would have waited
    /// for the mmap lock and then faulted afresh.
    /// </summary>
    public static Resolution? LostRace(Pte decidedOn, Pte now, bool vmaOrSharingChanged) =>
        !vmaOrSharingChanged && now != decidedOn ? Resolution.Spurious.Instance : null;

    public static Resolution Resolve(in FaultInput f) => DecidedByVma(f) ?? InKernelCopy(f, ResolvePage(f));

    /// <summary>
    /// The outcome the address, the mode and the VMA decide alone, before the kernel looks at the page (a signal, an oops,
    /// a stack growth), or null when the page decides. An engine asks memory nothing — no cache lookup, no frame made free
    /// for a read — for a fault decided here: <see cref="MemoryQuery.For"/> holds to it.
    /// </summary>
    public static Resolution? DecidedByVma(in FaultInput f)
    {
        if (!f.Address.IsUser)
            return f.Code.User ? SegvNoVma : new Resolution.KernelOops($"kernel-mode fault at kernel address {f.Address}");
        if (!f.Code.User && !f.InUserCopy)
            return new Resolution.KernelOops($"kernel-mode fault at user address {f.Address} outside a user-copy region");
        if (f.Vma is not { } vma)
            return InKernelCopy(f, SegvNoVma);
        if (f.Address < vma.Start)
            return InKernelCopy(f, GrowStack(f, vma));
        return vma.Permits(f.Code.Access) || (f.Forced && ForcedAccess.Permits(vma, f.Code.Access)) ? null : InKernelCopy(f, SegvDenied);
    }

    /// <summary>A signal the kernel's own user copy (read(2), write(2)) raised is an EFAULT return of the call instead.</summary>
    private static Resolution InKernelCopy(in FaultInput f, Resolution resolution) =>
        !f.Code.User && resolution is Resolution.SigSegv or Resolution.SigBus ? new Resolution.EfaultFixup(resolution) : resolution;

    /// <summary>A fault at an address of a VMA that permits the access: the PTE, the frame and the caches decide.</summary>
    private static Resolution ResolvePage(in FaultInput f)
    {
        var access = f.Code.Access;
        var vma = f.Vma!;
        var pte = f.Pte;
        if (pte.HoldsFrame) // present, or kept under PROT_NONE for a forced write (x86's pte_present holds for both)
        {
            if (pte.Allows(access, userMode: true))
                return Resolution.Spurious.Instance;
            if (access != AccessKind.Write)
                return Resolution.Spurious.Instance; // cannot stay so: mprotect keeps NX in step with VM_EXEC
            // A write to a present, write-protected page of a writable VMA: do_wp_page.
            if (vma.IsShared || (f.Frame.IsAnonymous && !f.Frame.IsZeroPage && f.Frame.RefCount == 1))
                return Resolution.CowReuse.Instance;
            return new Resolution.CowBreak(pte.Frame);
        }
        if (pte.IsSwapped)
            return f.CachedFrame is { } swapCached
                ? new Resolution.PageCacheHit(swapCached, FromSwapCache: true, CopyForWrite: false)
                : new Resolution.Major(new PageSource.FromSwap(pte.Slot), CopyForWrite: false);

        if (vma.Backing is Backing.Anonymous)
            return MapsZeroPage(f, vma) ? Resolution.DemandZero.ZeroPage : Resolution.DemandZero.NewFrame;

        var filePage = vma.FilePageOf(f.Address.Page)!.Value;
        if (filePage.Index * VirtualAddress.PageSize >= f.FileSize)
            return new Resolution.SigBus(BusReason.BeyondEndOfFile);
        var copy = access == AccessKind.Write && !vma.IsShared;
        if (f.CachedFrame is { } cached)
            return new Resolution.PageCacheHit(cached, FromSwapCache: false, copy);
        // A hole of a shmem file (never written): shmem_fault zeroes a page in the page cache; a private mapping's write
        // gets its own zeroed page instead, which holds what a copy of it would.
        if (f.FileHole)
            return copy ? Resolution.DemandZero.NewFrame : Resolution.DemandZero.SharedFrame;
        return new Resolution.Major(new PageSource.FromFile(filePage), copy);
    }

    /// <summary>An access below a grows-down VMA: expand_stack's checks, then a demand-zero fault.</summary>
    private static Resolution GrowStack(in FaultInput f, Vma vma)
    {
        if (!vma.GrowsDown)
            return SegvNoVma;
        if (f.Stack.SpWindow is { } window && f.Address.Value + window < f.StackPointer.Value)
            return new Resolution.SigSegv(SegvReason.StackBelowSp);
        var newStart = f.Address.PageAlignedDown;
        if (vma.End - newStart > f.Stack.Limit)
            return new Resolution.SigSegv(SegvReason.StackLimit);
        if (f.PreviousVmaEnd is { } below && newStart.Value - Math.Min(newStart.Value, below.Value) < f.Stack.GuardGap)
            return new Resolution.SigSegv(SegvReason.StackGuardGap);
        if (!vma.Permits(f.Code.Access))
            return SegvDenied;
        return new Resolution.StackGrowth(newStart, MapsZeroPage(f, vma));
    }

    /// <summary>
    /// do_anonymous_page: any fault on an untouched private anonymous page that is not a write — a read, or an instruction
    /// fetch from an executable one — maps the shared zero page, when it is on; only a write allocates.
    /// </summary>
    private static bool MapsZeroPage(in FaultInput f, Vma vma) =>
        f.ZeroPageEnabled && f.Code.Access != AccessKind.Write && !vma.IsShared;
}

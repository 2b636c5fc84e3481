using Faultsim.Model.Addressing;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Faults;

/// <summary>
/// What the kernel does to carry a <see cref="Resolution"/> out, as data: install a PTE, allocate a zeroed frame, map a
/// cached one, copy, read from disk, kill, fix up, panic. Derived once, by <see cref="Of"/>; the reference machine applies
/// an effect in one step, a page loader as messages to memory, the disk and the mm — so a new resolution is one row here,
/// and each engine learns only the effects it has not met before.
/// </summary>
public abstract record FaultEffect
{
    private FaultEffect() { }

    /// <summary>The local TLB held a stale entry (the PTE allows the access already): flush it, and the access retries.</summary>
    public sealed record FlushLocal : FaultEffect
    {
        public static readonly FlushLocal Instance = new();
    }

    /// <summary>A PTE that needs no new frame — the shared zero page, or a COW reuse's frame made writable — goes in as it is.</summary>
    /// <param name="GrowTo">A grows-down VMA's new start, for a fault just below it.</param>
    public sealed record Install(Pte Pte, VirtualAddress? GrowTo) : FaultEffect;

    /// <summary>A new zeroed frame, the process's alone.</summary>
    public sealed record AllocateZeroed(VirtualAddress? GrowTo) : FaultEffect;

    /// <summary>A shared-memory page never written out: a zeroed frame in its page cache, for every process mapping it.</summary>
    public sealed record ZeroInPageCache : FaultEffect
    {
        public static readonly ZeroInPageCache Instance = new();
    }

    /// <summary>The page is in memory (page cache or swap cache): map that frame.</summary>
    public sealed record MapCached(FrameNumber Frame, bool FromSwapCache) : FaultEffect;

    /// <summary>
    /// A copy of <paramref name="Source"/> into a new frame the process owns: a private write to a cached file page, or
    /// (<paramref name="BreaksCow"/>) a COW break, whose old PTE every CPU must drop before the copy is published.
    /// </summary>
    public sealed record Copy(FrameNumber Source, bool BreaksCow) : FaultEffect;

    /// <summary>The page is read from disk (once, by the page's loader), then mapped, or copied for a private write.</summary>
    public sealed record Read(PageSource Source, bool CopyForWrite) : FaultEffect;

    /// <summary>A fatal signal: the process ends with <paramref name="Fate"/>.</summary>
    public sealed record Kill(ProcessFate Fate) : FaultEffect;

    /// <summary>A kernel user copy through a bad pointer: the exception table fixes it up, and the system call returns EFAULT.</summary>
    public sealed record Fixup : FaultEffect
    {
        public static readonly Fixup Instance = new();
    }

    /// <summary>Any other kernel-mode fault: the machine panics.</summary>
    public sealed record Panic(string Reason) : FaultEffect;

    /// <summary>What carrying <paramref name="resolution"/> out for the fault <paramref name="f"/> takes.</summary>
    public static FaultEffect Of(Resolution resolution, in FaultInput f) => resolution switch
    {
        Resolution.Spurious => FlushLocal.Instance,
        Resolution.DemandZero { MapZeroPage: true } => new Install(Pte.Mapped(FrameNumber.Zero, InstallRules.ZeroPage(f.Vma!)), null),
        Resolution.StackGrowth { MapZeroPage: true } growth => new Install(Pte.Mapped(FrameNumber.Zero, InstallRules.ZeroPage(f.Vma!)), growth.NewStart),
        Resolution.DemandZero { InPageCache: true } => ZeroInPageCache.Instance,
        Resolution.DemandZero => new AllocateZeroed(null),
        Resolution.StackGrowth growth => new AllocateZeroed(growth.NewStart),
        Resolution.PageCacheHit { CopyForWrite: true } hit => new Copy(hit.Frame, BreaksCow: false),
        Resolution.PageCacheHit hit => new MapCached(hit.Frame, hit.FromSwapCache),
        Resolution.Major major => new Read(major.Source, major.CopyForWrite),
        Resolution.CowBreak cow => new Copy(cow.Old, BreaksCow: true),
        Resolution.CowReuse => new Install(InstallRules.Reused(f.Pte, f.Vma!), null),
        Resolution.SigSegv => new Kill(ProcessFate.KilledBySigSegv),
        Resolution.SigBus => new Kill(ProcessFate.KilledBySigBus),
        Resolution.EfaultFixup => Fixup.Instance,
        Resolution.KernelOops oops => new Panic(oops.Reason),
        _ => throw new InvalidOperationException($"no effect for {resolution}"),
    };

    /// <summary>
    /// The flags of the PTE that maps the frame this effect brought in: a new or copied page, a cached page, or a page back
    /// from swap (<paramref name="exclusive"/>: no other PTE still names its slot).
    /// </summary>
    public PteFlags FlagsFor(Vma vma, AccessKind access, bool exclusive) => this switch
    {
        _ when CopiesOnSwapIn(vma, access, exclusive) => InstallRules.NewPage(vma),
        MapCached { FromSwapCache: true } or Read { CopyForWrite: false, Source: PageSource.FromSwap } => InstallRules.SwappedIn(vma, access, exclusive),
        MapCached or Read { CopyForWrite: false } or ZeroInPageCache => InstallRules.CachedPage(vma, access),
        _ => InstallRules.NewPage(vma) | (access == AccessKind.Write ? PteFlags.Dirty : PteFlags.None), // a forced write's copy is dirty, if read-only
    };

    /// <summary>
    /// do_swap_page's write to a page others still share (not <paramref name="exclusive"/>: another PTE names its swap slot,
    /// or maps the frame it came back to): the COW is done inside the same fault (do_swap_page calls do_wp_page), so the
    /// faulting process maps a private copy of the swapped-in page — one fault, a major one when the page was read from
    /// swap — and the swap-cache frame stays for the others. Both engines ask this once the page is in memory, when its
    /// exclusivity is known, and map the copy with <see cref="FlagsFor"/>'s flags.
    /// </summary>
    public bool CopiesOnSwapIn(Vma vma, AccessKind access, bool exclusive) =>
        this is MapCached { FromSwapCache: true } or Read { CopyForWrite: false, Source: PageSource.FromSwap }
        && access == AccessKind.Write && !exclusive && !vma.IsShared;

    /// <summary>Where a grows-down VMA extends to, for an effect that installs below it.</summary>
    public VirtualAddress? GrowsTo => this switch
    {
        Install install => install.GrowTo,
        AllocateZeroed zeroed => zeroed.GrowTo,
        _ => null,
    };
}

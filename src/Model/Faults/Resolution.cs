using Faultsim.Model.Addressing;

namespace Faultsim.Model.Faults;

/// <summary>The kinds of <see cref="Resolution"/>, for counting and naming.</summary>
public enum ResolutionKind
{
    DemandZero,
    ZeroPageMap,
    PageCacheHit,
    Major,
    CowBreak,
    CowReuse,
    StackGrowth,
    Spurious,
    SigSegv,
    SigBus,
    EfaultFixup,
    KernelOops,
}

/// <summary>Why an access got SIGSEGV: si_code SEGV_MAPERR (nothing mapped) or SEGV_ACCERR (mapped, not allowed).</summary>
public enum SegvReason
{
    NoVma,
    StackBelowSp,
    StackLimit,
    StackGuardGap,
    AccessDenied,
}

/// <summary>Why an access got SIGBUS.</summary>
public enum BusReason
{
    BeyondEndOfFile,
    IoError,
}

/// <summary>Where the data of a major fault comes from.</summary>
public abstract record PageSource
{
    private PageSource() { }

    public sealed record FromFile(FilePage Page) : PageSource;

    public sealed record FromSwap(SwapSlot Slot) : PageSource;
}

/// <summary>
/// The one outcome of a page fault, decided by <see cref="FaultHandler"/>: a row of the
/// resolution table in DESIGN.md. The machine (or a page loader) applies it.
/// </summary>
public abstract record Resolution
{
    private Resolution() { }

    public abstract ResolutionKind Kind { get; }

    /// <summary>Whether the faulting access is retried once the resolution is applied.</summary>
    public virtual bool Retries => true;

    /// <summary>
    /// A page never touched: a new zeroed frame, or for a read the shared zero page; <paramref name="InPageCache"/> for a
    /// shared-memory object's page, whose zeroed frame goes into its page cache (shmem_fault), for every process mapping it.
    /// </summary>
    public sealed record DemandZero(bool MapZeroPage, bool InPageCache = false) : Resolution
    {
        public static readonly DemandZero NewFrame = new(false), ZeroPage = new(true), SharedFrame = new(false, InPageCache: true);
        public override ResolutionKind Kind => MapZeroPage ? ResolutionKind.ZeroPageMap : ResolutionKind.DemandZero;
    }

    /// <summary>The page is in memory already (page cache or swap cache): map <paramref name="Frame"/>, or a private copy of it for a write to a private mapping.</summary>
    public sealed record PageCacheHit(FrameNumber Frame, bool FromSwapCache, bool CopyForWrite) : Resolution
    {
        public override ResolutionKind Kind => ResolutionKind.PageCacheHit;
    }

    /// <summary>The page must be read from disk by the page's loader, then mapped (or copied, as above).</summary>
    public sealed record Major(PageSource Source, bool CopyForWrite) : Resolution
    {
        public override ResolutionKind Kind => ResolutionKind.Major;
    }

    /// <summary>Write to a present read-only page that others still share: copy <paramref name="Old"/> to a new frame and remap.</summary>
    public sealed record CowBreak(FrameNumber Old) : Resolution
    {
        public override ResolutionKind Kind => ResolutionKind.CowBreak;
    }

    /// <summary>Write to a present read-only page that nobody else maps: make the PTE writable in place, no copy.</summary>
    public sealed record CowReuse : Resolution
    {
        public static readonly CowReuse Instance = new();
        public override ResolutionKind Kind => ResolutionKind.CowReuse;
    }

    /// <summary>Just below a grows-down VMA: extend it down to <paramref name="NewStart"/>, then demand-zero.</summary>
    public sealed record StackGrowth(VirtualAddress NewStart, bool MapZeroPage) : Resolution
    {
        public override ResolutionKind Kind => ResolutionKind.StackGrowth;
    }

    /// <summary>The PTE already allows the access (another CPU resolved it, or the TLB was stale): flush the local entry and retry.</summary>
    public sealed record Spurious : Resolution
    {
        public static readonly Spurious Instance = new();
        public override ResolutionKind Kind => ResolutionKind.Spurious;
    }

    /// <summary>The access is not allowed: the process gets SIGSEGV and dies.</summary>
    public sealed record SigSegv(SegvReason Reason) : Resolution
    {
        public override ResolutionKind Kind => ResolutionKind.SigSegv;
        public override bool Retries => false;
    }

    /// <summary>The page cannot be provided: the process gets SIGBUS and dies.</summary>
    public sealed record SigBus(BusReason Reason) : Resolution
    {
        public override ResolutionKind Kind => ResolutionKind.SigBus;
        public override bool Retries => false;
    }

    /// <summary>A kernel user-copy hit a bad user pointer: the exception table fixes it up and the system call returns EFAULT.</summary>
    public sealed record EfaultFixup(Resolution Instead) : Resolution
    {
        public override ResolutionKind Kind => ResolutionKind.EfaultFixup;
        public override bool Retries => false;
    }

    /// <summary>Any other kernel-mode fault: the simulated machine panics.</summary>
    public sealed record KernelOops(string Reason) : Resolution
    {
        /// <summary>The panic of the simulated machine, as every engine reports it.</summary>
        public static string Panic(CpuId cpu, string process, string reason) => $"kernel oops on {cpu} in {process}: {reason}";

        public override ResolutionKind Kind => ResolutionKind.KernelOops;
        public override bool Retries => false;
    }
}

public static class ResolutionKinds
{
    /// <summary>The stable name faultsim prints and exports for a resolution: short, lower case (demand_zero, cow_break, …).</summary>
    public static string Name(this ResolutionKind kind) => kind switch
    {
        ResolutionKind.DemandZero => "demand_zero",
        ResolutionKind.ZeroPageMap => "zero_page",
        ResolutionKind.PageCacheHit => "page_cache_hit",
        ResolutionKind.Major => "major",
        ResolutionKind.CowBreak => "cow_break",
        ResolutionKind.CowReuse => "cow_reuse",
        ResolutionKind.StackGrowth => "stack_growth",
        ResolutionKind.Spurious => "spurious",
        ResolutionKind.SigSegv => "sigsegv",
        ResolutionKind.SigBus => "sigbus",
        ResolutionKind.EfaultFixup => "efault",
        ResolutionKind.KernelOops => "kernel_oops",
        _ => kind.ToString(),
    };
}

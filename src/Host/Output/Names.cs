using Faultsim.Model.Faults;
using Faultsim.Model.Machine;

namespace Faultsim.Host.Output;

/// <summary>The names faultsim prints and writes for its enums: short, lower case, stable.</summary>
public static class Names
{
    public static string Of(ResolutionKind kind) => kind switch
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

    public static string Of(ProcessFate fate) => fate switch
    {
        ProcessFate.Running => "running",
        ProcessFate.Exited => "exited",
        ProcessFate.KilledBySigSegv => "SIGSEGV",
        ProcessFate.KilledBySigBus => "SIGBUS",
        ProcessFate.KilledByOom => "OOM-killed",
        _ => fate.ToString(),
    };
}

using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.PageTables;
using Faultsim.Model.Tlbs;

namespace Faultsim.Actors.Paging;

// Fault protocol. mm ⇄ page loader ⇄ TLB (one loader per page being resolved).
//   mm ──ResolveFault──▶ loader         the first fault on a page makes its loader the leader's,
//                                       later ones on the same page join its wait queue (followers)
//   loader decides (the model), asks memory and the disk what it needs — the one disk read of a
//   load is the leader's — and hands the PTE to the mm to install (AddressSpaceProtocol.InstallPte),
//   directly or through memory when a frame must be prepared; the mm installs the PTE, THEN
//   mm ──FaultResolved──▶ every waiter's TLB (leader and followers)
public interface IFaultProtocol : IPageMessage, ISimulationMessage;

/// <summary>What a woken fault does next.</summary>
public enum FaultOutcome
{
    /// <summary>Retry the access (the PTE is in place, or the fault found the state changed and must start over).</summary>
    Retry,
    /// <summary>The system call that made the access fails with EFAULT.</summary>
    Efault,
    /// <summary>The process died of the fault.</summary>
    Killed,
    /// <summary>The kernel oopsed.</summary>
    Panic,
}

/// <summary>
/// mm → loader of <see cref="Page"/>: a fault, with what the mm knew when it raised it (<see cref="Input"/>; memory
/// facts are filled in by the loader) and the mm's fork count then; its trace, and when it was raised. Answered by
/// <see cref="FaultResolved"/> to the TLB of <see cref="Cpu"/>; the page's mm is the directory's of its asid.
/// </summary>
public sealed record ResolveFault(FaultId Id, CpuId Cpu, PageKey Page, ProcessId Pid, FaultInput Input, long Forks,
    TraceContext Trace = default, long RaisedAt = 0) : IFaultProtocol;

/// <summary>
/// mm (or loader, memory when the fault ends without a PTE) → TLB, only after the PTE is installed: how the fault ended. <see cref="Counted"/> is false when the fault
/// is retried without having been resolved (the state changed under it); <see cref="Translation"/> is the new PTE's;
/// <see cref="LoaderCrashed"/> when the retry is because the page's loader crashed (the TLB backs off first).
/// </summary>
public sealed record FaultResolved(FaultId Id, PageKey Page, ResolutionKind Kind, bool Major, bool Counted, bool DiskRead,
    FaultOutcome Outcome, Translation? Translation, FaultErrorCode Code = default, bool LoaderCrashed = false) : IFaultProtocol;

/// <summary>
/// Memory → loader of <see cref="Page"/> (through the router, so it waits behind a fault on that page): eviction
/// <see cref="EvictionId"/> takes <see cref="Frame"/>; its PTE is to become <see cref="Replacement"/> (a swap entry, or none).
/// The loader hands it to the page's mm, which answers memory with PteReplaced. Reclaim runs on <see cref="Initiator"/>:
/// the CPU whose fault or system call needed the frame.
/// </summary>
public sealed record EvictPage(long EvictionId, PageKey Page, FrameNumber Frame, Pte Replacement, CpuId Initiator) : IFaultProtocol;

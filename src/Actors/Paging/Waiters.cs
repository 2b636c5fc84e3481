using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Faults;
using Faultsim.Model.Tlbs;

namespace Faultsim.Actors.Paging;

/// <summary>
/// A fault waiting to be woken: its id, the CPU whose TLB raised it, its trace and error code, and since when it waits behind
/// another fault on the page (a follower; -1 for the leader, who waits for nobody).
/// </summary>
public readonly record struct Waiter(FaultId Id, CpuId Cpu, TraceContext Trace = default, FaultErrorCode Code = default, long WaitingSince = -1);

/// <summary>How the leader's fault was resolved, as its waiters count it: the kind, getrusage's major, and whether it read the disk.</summary>
public sealed record FaultReport(ResolutionKind Kind, bool Major, bool DiskRead);

/// <summary>
/// Wakes the wait queue of a page (leader first, then followers), for whichever actor ends the fault:
/// the mm after an install, the loader or memory when the fault ends otherwise. Each wake-up is logged,
/// and arrives after the fault-exit latency; a sampled follower's wait is recorded as its span.
/// </summary>
/// <param name="tlbOf">Where a CPU's TLB is: the directory of the actor that wakes.</param>
public sealed class Waker(string actor, RunContext run, SimTime time, IActorRef self, Func<CpuId, IActorRef> tlbOf)
{
    private readonly FaultTrace _trace = new(run.Tracing, time);

    /// <summary>The PTE is installed: the leader counts its fault, the followers count the leader's kind (they waited for it).</summary>
    public void Installed(ImmutableArray<Waiter> waiters, PageKey page, FaultReport report, Translation translation)
    {
        for (var i = 0; i < waiters.Length; i++)
            Send(waiters[i], page, report.Kind, report.Major, counted: true, DiskRead: i == 0 && report.DiskRead, FaultOutcome.Retry, translation);
    }

    /// <summary>The fault ended without a new PTE: the leader gets <paramref name="outcome"/>; followers fault again on their own.</summary>
    public void Ended(ImmutableArray<Waiter> waiters, PageKey page, FaultReport report, bool counted, FaultOutcome outcome)
    {
        for (var i = 0; i < waiters.Length; i++)
        {
            if (i == 0)
                Send(waiters[i], page, report.Kind, report.Major, counted, report.DiskRead, outcome, null);
            else
                Retry(waiters[i], page);
        }
    }

    /// <summary>
    /// The fault lost a race to its page and installed nothing: every waiter counts it as <paramref name="kind"/> — a major
    /// fault when the leader read the page or they waited for its read (Linux keeps VM_FAULT_MAJOR) — and retries its
    /// access. The kind is never one that installs: no waiter is reported resolved by a PTE (invariant 2).
    /// </summary>
    public void Lost(ImmutableArray<Waiter> waiters, PageKey page, FaultReport report, ResolutionKind kind)
    {
        for (var i = 0; i < waiters.Length; i++)
            Send(waiters[i], page, kind, report.Major, counted: true, DiskRead: i == 0 && report.DiskRead, FaultOutcome.Retry, null);
    }

    /// <summary>Every waiter faults again, nothing counted (the state changed under the fault).</summary>
    public void Retry(ImmutableArray<Waiter> waiters, PageKey page)
    {
        foreach (var waiter in waiters)
            Retry(waiter, page);
    }

    public void Retry(Waiter waiter, PageKey page) =>
        Send(waiter, page, ResolutionKind.Spurious, major: false, counted: false, DiskRead: false, FaultOutcome.Retry, null);

    /// <summary>The loader crashed mid-load: every waiter faults again, nothing counted, after its backoff.</summary>
    public void Crashed(ImmutableArray<Waiter> waiters, PageKey page)
    {
        foreach (var waiter in waiters)
            Send(waiter, page, ResolutionKind.Spurious, major: false, counted: false, DiskRead: false, FaultOutcome.Retry, null, crashed: true);
    }

    private void Send(Waiter waiter, PageKey page, ResolutionKind kind, bool major, bool counted, bool DiskRead, FaultOutcome outcome, Translation? translation,
        bool crashed = false)
    {
        var tlb = tlbOf(waiter.Cpu);
        run.Events?.Record(actor, tlb.Path.Name,
            new SimEvent.FaultWoken(waiter.Id.Value, page, kind, counted, outcome.ToString().ToLowerInvariant(), DiskRead, major));
        if (waiter.WaitingSince >= 0)
            _trace.Span(waiter.Trace, Instruments.Spans.LoaderWait, waiter.WaitingSince);
        time.Send(tlb, new FaultResolved(waiter.Id, page, kind, major, counted, DiskRead, outcome, translation, waiter.Code, crashed),
            run.Latencies.FaultExit, self);
    }
}

using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Tlbs;

namespace Faultsim.Actors.Paging;

/// <summary>A fault waiting to be woken: its id and the TLB that raised it.</summary>
public readonly record struct Waiter(FaultId Id, IActorRef ReplyTo);

/// <summary>How the leader's fault was resolved, as its waiters count it: the kind, getrusage's major, and whether it read the disk.</summary>
public sealed record FaultReport(ResolutionKind Kind, bool Major, bool DiskRead);

/// <summary>Waking the wait queue of a page (leader first, then followers), whoever ends the fault: loader, mm or memory.</summary>
public static class Wake
{
    /// <summary>The PTE is installed: the leader counts its fault, the followers count the leader's kind (they waited for it).</summary>
    public static void Installed(ImmutableArray<Waiter> waiters, PageKey page, FaultReport report, Translation translation)
    {
        for (var i = 0; i < waiters.Length; i++)
        {
            var leader = i == 0;
            waiters[i].ReplyTo.Tell(new FaultResolved(waiters[i].Id, page, report.Kind, report.Major, Counted: true,
                DiskRead: leader && report.DiskRead, FaultOutcome.Retry, translation));
        }
    }

    /// <summary>The fault ended without a new PTE: the leader gets <paramref name="outcome"/>; followers fault again on their own.</summary>
    public static void Ended(ImmutableArray<Waiter> waiters, PageKey page, FaultReport report, bool counted, FaultOutcome outcome)
    {
        for (var i = 0; i < waiters.Length; i++)
        {
            waiters[i].ReplyTo.Tell(i == 0
                ? new FaultResolved(waiters[i].Id, page, report.Kind, report.Major, counted, report.DiskRead, outcome, null)
                : Retry(waiters[i], page));
        }
    }

    /// <summary>Every waiter faults again, nothing counted (the state changed under the fault).</summary>
    public static void Retry(ImmutableArray<Waiter> waiters, PageKey page)
    {
        foreach (var waiter in waiters)
            waiter.ReplyTo.Tell(Retry(waiter, page));
    }

    private static FaultResolved Retry(Waiter waiter, PageKey page) =>
        new(waiter.Id, page, ResolutionKind.Spurious, Major: false, Counted: false, DiskRead: false, FaultOutcome.Retry, null);
}

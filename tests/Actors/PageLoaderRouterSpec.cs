using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Faultsim.Actors;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Paging;
using Faultsim.Model.Addressing;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Actors;

/// <summary>
/// The loaders' routing point: a page's messages go to the loader bound to it, a loader that reports idle is unbound and
/// reused for the next page, unless more was routed to it since the message its report names. Its loaders are stand-ins
/// that pass what they are routed to one probe, as themselves, so the spec sees which loader got what.
/// </summary>
public sealed class PageLoaderRouterSpec : DeterministicSpec
{
    private static readonly VirtualAddress PageA = Faults.Anon, PageB = Faults.Anon + 4096, PageC = Faults.Anon + 2 * 4096;
    private readonly TestProbe _loaders, _mm, _tlb, _asker;
    private readonly IActorRef _router;

    public PageLoaderRouterSpec()
    {
        (_loaders, _mm, _tlb, _asker) = (CreateTestProbe("loaders"), CreateTestProbe("mm"), CreateTestProbe("tlb0"), CreateTestProbe("asker"));
        _router = Spawn(PageLoaderRouter.Props((_, _) => Props.Create(typeof(LoaderStandIn), _loaders.Ref), RunContext.Live, 1));
        Connect(_router, new ActorDirectory { Loaders = _router, Tlbs = [_tlb.Ref], AddressSpaces = ImmutableDictionary<Asid, IActorRef>.Empty.Add(Faults.Asid, _mm.Ref) });
    }

    private static PageKey Key(VirtualAddress page) => new(Faults.Asid, page.Page);

    /// <summary>A fault on <paramref name="page"/> through the router; the loader it reached, and the sequence number it was routed under.</summary>
    private (IActorRef Loader, long Sequence) Fault(long id, VirtualAddress page)
    {
        _router.Tell(Faults.At(id, page, AccessKind.Write), _mm.Ref);
        var routed = Next<Routed>(_loaders);
        Assert.Equal(new FaultId(id), ((ResolveFault)routed.Message).Id);
        return (_loaders.LastSender, routed.Sequence);
    }

    private IActorRef? BoundTo(VirtualAddress page)
    {
        _router.Tell(new GetLoader(Key(page)), _asker.Ref);
        return Next<LoaderOf>(_asker).Loader;
    }

    private RouterStats Stats()
    {
        _router.Tell(GetRouterStats.Instance, _asker.Ref);
        return Next<RouterStats>(_asker);
    }

    [Fact]
    public void A_loader_that_reports_idle_is_unbound_and_serves_the_next_page()
    {
        var (loader, sequence) = Fault(1, PageA);
        Assert.Equal(1, sequence);
        Assert.Equal(loader, BoundTo(PageA));

        _router.Tell(new LoaderIdle(Key(PageA), sequence, Received: 1), loader);
        Assert.Null(BoundTo(PageA));

        var (next, _) = Fault(2, PageB);
        Assert.Equal(loader, next);                       // the same actor, bound to another page now
        Assert.Equal(next, BoundTo(PageB));
        Assert.Equal((1, 1), (Stats().Created, Stats().PeakBound));
    }

    [Fact]
    public void Every_message_for_a_bound_page_goes_to_its_loader()
    {
        var (first, one) = Fault(1, PageA);
        var (second, two) = Fault(2, PageA);
        Assert.Equal(first, second);
        Assert.Equal((1L, 2L), (one, two));
        AssertSilent(_loaders, _mm, _tlb);                // the router only routes: it answers nobody itself
    }

    [Fact]
    public void An_idle_report_older_than_the_last_message_routed_keeps_the_binding()
    {
        var (loader, first) = Fault(1, PageA);
        var (_, second) = Fault(2, PageA);                // routed while the loader was about to report idle
        _router.Tell(new LoaderIdle(Key(PageA), first, Received: 1), loader);
        Assert.Equal(loader, BoundTo(PageA));             // the loader has a message it has not seen: still bound

        var (other, _) = Fault(3, PageB);
        Assert.NotEqual(loader, other);                   // so another page needs another loader
        Assert.Equal((2, 2), (Stats().Created, Stats().PeakBound));

        _router.Tell(new LoaderIdle(Key(PageA), second, Received: 1), loader);
        Assert.Null(BoundTo(PageA));
        Assert.Equal(loader, Fault(4, PageC).Loader);     // now it is free for a third page
        Assert.Equal(2, Stats().Created);
    }

    [Fact]
    public void An_idle_report_from_a_loader_not_bound_to_the_page_changes_nothing()
    {
        var (a, sequenceA) = Fault(1, PageA);
        var (b, _) = Fault(2, PageB);
        _router.Tell(new LoaderIdle(Key(PageA), sequenceA, Received: 1), b);
        Assert.Equal(a, BoundTo(PageA));
        Assert.Equal(b, BoundTo(PageB));
    }

    /// <summary>A loader stand-in: what the router sends it goes to the spec's probe, from it.</summary>
    private sealed class LoaderStandIn(IActorRef probe) : UntypedActor
    {
        protected override void OnReceive(object message) => probe.Tell(message, Self);
    }

    [Fact]
    public void Router_fails_the_run_on_a_message_its_state_does_not_take()
    {
        _router.Tell(new LoaderOf(Key(PageA), null), _asker.Ref); // the router's own answer, sent to it
        Assert.StartsWith($"protocol error: {_router.Path.Name} in state Routing got an unexpected LoaderOf", ProtocolError());
    }
}

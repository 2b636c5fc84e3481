using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Faultsim.Actors;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Paging;
using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Actors;

/// <summary>
/// A cluster run's routing point while a pager node leaves (see MachineActor.Loss): it holds page messages until
/// released (a shard that hands off drops what reaches it), and once retired it passes on what still comes to the
/// routing point in its place and reports only when every sender has drained; a sender told the loaders moved drains
/// the old routing point behind what it sent there. The shard region is a probe.
/// </summary>
public sealed class LoaderMoveSpec : DeterministicSpec
{
    private readonly TestProbe _region, _next, _machine, _asker;
    private readonly IActorRef _point;

    public LoaderMoveSpec()
    {
        (_region, _next, _machine, _asker) = (CreateTestProbe("region"), CreateTestProbe("next"), CreateTestProbe("machine"), CreateTestProbe("asker"));
        _point = Spawn(ShardedLoaders.Props("run1", _region.Ref, new LoaderRuns(StopLoader.Instance), RunContext.Live, 1));
        Connect(_point, new ActorDirectory { Loaders = _point });
    }

    private static EvictPage Evict(long id) => new(id, new PageKey(Faults.Asid, (Faults.Anon + 4096 * (ulong)id).Page), Faults.Frame, Pte.None, new CpuId(0));

    /// <summary>The point's figures, asked after what was told it before: whatever it did with that is done by then.</summary>
    private RouterStats Stats()
    {
        _point.Tell(GetRouterStats.Instance, _asker.Ref);
        RunUntilQuiet();
        return Next<RouterStats>(_asker);
    }

    [Fact]
    public void A_held_routing_point_passes_no_page_message_on_until_released_and_then_every_one_in_order()
    {
        _point.Tell(HoldLoads.Instance, _machine.Ref);
        RunUntilQuiet();
        Next<LoadsHeld>(_machine);
        _point.Tell(Evict(1));
        _point.Tell(Evict(2));
        Stats();
        Assert.False(_region.HasMessages, "a page message reached the region while held");

        _point.Tell(ReleaseLoads.Instance, _machine.Ref);
        RunUntilQuiet();
        Assert.Equal(Evict(1), Next<LoaderEnvelope>(_region).Message.Message);
        Assert.Equal(Evict(2), Next<LoaderEnvelope>(_region).Message.Message);
        _point.Tell(Evict(3));
        RunUntilQuiet();
        Assert.Equal(Evict(3), Next<LoaderEnvelope>(_region).Message.Message); // released: routed at once
    }

    [Fact]
    public void A_hold_is_answered_only_once_every_load_passed_on_is_reported_idle_by_its_loader_with_its_number()
    {
        _point.Tell(Evict(1));
        _point.Tell(Evict(2));
        RunUntilQuiet();
        var first = Next<LoaderEnvelope>(_region).Message;
        var second = Next<LoaderEnvelope>(_region).Message;
        Assert.Equal(_point, first.Router);                      // the loader's idle report comes back here
        _point.Tell(HoldLoads.Instance, _machine.Ref);
        _point.Tell(new LoaderIdle(first.Message.Page, first.Sequence, Received: 1));
        _point.Tell(new LoaderIdle(second.Message.Page, second.Sequence - 1, Received: 1)); // an older report: still in flight
        Stats();
        Assert.False(_machine.HasMessages, "held while a load was still in flight");

        _point.Tell(new LoaderIdle(second.Message.Page, second.Sequence, Received: 1));
        RunUntilQuiet();
        Next<LoadsHeld>(_machine);
    }

    [Fact]
    public void Two_holds_need_two_releases()
    {
        _point.Tell(HoldLoads.Instance, _machine.Ref);
        _point.Tell(HoldLoads.Instance, _machine.Ref);
        _point.Tell(Evict(1));
        _point.Tell(ReleaseLoads.Instance, _machine.Ref);
        Stats();
        Assert.False(_region.HasMessages, "one release of two holds let a page message through");
        _point.Tell(ReleaseLoads.Instance, _machine.Ref);
        RunUntilQuiet();
        Assert.Equal(Evict(1), Next<LoaderEnvelope>(_region).Message.Message);
    }

    [Fact]
    public void A_retired_routing_point_passes_on_to_its_successor_and_reports_once_every_sender_has_drained()
    {
        _point.Tell(new RetireLoaders(2, _next.Ref), _machine.Ref);
        _point.Tell(Evict(1));
        _point.Tell(LoadersDrained.Instance);
        Stats();
        Assert.Equal(Evict(1), Next<EvictPage>(_next));       // to the routing point in its place, not to its own region
        Assert.False(_region.HasMessages);
        Assert.False(_machine.HasMessages, "retired before the second sender drained");

        _point.Tell(LoadersDrained.Instance);
        RunUntilQuiet();
        var retired = Next<LoadersRetired>(_machine);
        Assert.True(retired.Messages > 0);
    }

    [Fact]
    public void A_sender_told_the_loaders_moved_drains_the_old_routing_point_behind_what_it_sent_there_and_sends_to_the_new_one()
    {
        var (old, fresh, mm, tlb) = (CreateTestProbe("old"), CreateTestProbe("fresh"), CreateTestProbe("mm"), CreateTestProbe("tlb0"));
        var loader = Spawn(PageLoaderActor.Props(new ActorDirectory
        {
            Loaders = old.Ref, Tlbs = [tlb.Ref], AddressSpaces = ImmutableDictionary<Asid, IActorRef>.Empty.Add(Faults.Asid, mm.Ref),
        }, RunContext.Live, 1));
        loader.Tell(Evict(1));                                  // an idle loader's eviction: ReplacePte to the mm, LoaderIdle to its routing point
        loader.Tell(new LoadersMoved(fresh.Ref, Drain: true));
        loader.Tell(Evict(2));
        RunUntilQuiet();
        Next<LoaderIdle>(old);
        Next<LoadersDrained>(old);                              // behind what it sent there
        Assert.False(old.HasMessages);
        Next<LoaderIdle>(fresh);                                // and what came after went to the new one
    }
}

using Faultsim.Actors.Machine;
using Akka.TestKit.Xunit2;
using Faultsim.Actors;
using Faultsim.Actors.Shootdown;
using Faultsim.Model.Shootdowns;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;

namespace Faultsim.Tests.Actors;

public sealed class ShootdownRoundSpec : TestKit
{
    [Fact]
    public void Round_completes_only_after_the_last_acknowledgement_and_counts_ipis_to_other_cpus()
    {
        var tlbs = new[] { CreateTestProbe(), CreateTestProbe(), CreateTestProbe() };
        var order = new ShootdownOrder(new ShootdownId(1), new ShootdownScope(new Asid(1), new PageNumber(4), new PageNumber(8), false),
            [.. tlbs.Select((t, i) => new ShootdownTarget(new CpuId(i), t.Ref))], new CpuId(0), ShootdownMode.Batched);
        var parent = CreateTestProbe();
        parent.ChildActorOf(ShootdownRound.Props(order, RunContext.Live));
        var ipis = tlbs.Select(t => t.ExpectMsg<Invalidate>()).ToList();
        Assert.All(ipis, i => Assert.Equal(order.Scope, i.Scope));
        for (var i = 0; i < 2; i++)
            tlbs[i].Reply(new InvalidateAcked(order.Id, new CpuId(i)));
        parent.ExpectNoMsg(TimeSpan.FromMilliseconds(100)); // one CPU has not acknowledged
        tlbs[2].Reply(new InvalidateAcked(order.Id, new CpuId(2)));
        Assert.Equal(2, parent.ExpectMsg<ShootdownCompleted>().Ipis);
    }

    [Fact]
    public void Lazy_round_sends_no_ipi_but_waits_for_every_target_to_flush()
    {
        var tlb = CreateTestProbe();
        var order = new ShootdownOrder(new ShootdownId(2), new ShootdownScope(new Asid(1), default, default, true),
            [new ShootdownTarget(new CpuId(1), tlb.Ref)], new CpuId(0), ShootdownMode.Lazy);
        var parent = CreateTestProbe();
        parent.ChildActorOf(ShootdownRound.Props(order, RunContext.Live));
        Assert.True(tlb.ExpectMsg<Invalidate>().Scope.All);
        tlb.Reply(new InvalidateAcked(order.Id, new CpuId(1)));
        Assert.Equal(0, parent.ExpectMsg<ShootdownCompleted>().Ipis);
    }
}

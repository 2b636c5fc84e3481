using Akka.TestKit;
using Faultsim.Actors.Machine;
using Faultsim.Actors;
using Faultsim.Actors.Shootdown;
using Faultsim.Model.Shootdowns;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;

namespace Faultsim.Tests.Actors;

public sealed class ShootdownRoundSpec : DeterministicSpec
{
    /// <summary>The directory a round is made with: where each CPU's TLB is (a probe each).</summary>
    private static ActorDirectory Peers(params TestProbe[] tlbs) => new() { Tlbs = [.. tlbs.Select(t => t.Ref)] };

    [Fact]
    public void Round_completes_only_after_the_last_acknowledgement_and_counts_ipis_to_other_cpus()
    {
        var tlbs = new[] { CreateTestProbe("tlb0"), CreateTestProbe("tlb1"), CreateTestProbe("tlb2") };
        var order = new ShootdownOrder(new ShootdownId(1), new ShootdownScope(new Asid(1), new PageNumber(4), new PageNumber(8), false),
            [new CpuId(0), new CpuId(1), new CpuId(2)], new CpuId(0), ShootdownMode.Batched);
        var parent = CreateTestProbe("mm");
        Spawn(ShootdownRound.Props(order, Peers(tlbs), RunContext.Live), parent);
        var ipis = tlbs.Select(Next<Invalidate>).ToList();
        Assert.All(ipis, i => Assert.Equal(order.Scope, i.Scope));
        for (var i = 0; i < 2; i++)
            tlbs[i].Reply(new InvalidateAcked(order.Id, new CpuId(i)));
        AssertSilent(parent);                             // one CPU has not acknowledged
        tlbs[2].Reply(new InvalidateAcked(order.Id, new CpuId(2)));
        Assert.Equal(2, Next<ShootdownCompleted>(parent).Ipis);
    }

    [Fact]
    public void Lazy_round_sends_no_ipi_but_waits_for_every_target_to_flush()
    {
        var tlb = CreateTestProbe("tlb1");
        var order = new ShootdownOrder(new ShootdownId(2), new ShootdownScope(new Asid(1), default, default, true),
            [new CpuId(1)], new CpuId(0), ShootdownMode.Lazy);
        var parent = CreateTestProbe("mm");
        Spawn(ShootdownRound.Props(order, Peers(CreateTestProbe("tlb0"), tlb), RunContext.Live), parent);
        Assert.True(Next<Invalidate>(tlb).Scope.All);
        AssertSilent(parent);                             // the target has not flushed yet
        tlb.Reply(new InvalidateAcked(order.Id, new CpuId(1)));
        Assert.Equal(0, Next<ShootdownCompleted>(parent).Ipis);
    }

    [Fact]
    public void Round_fails_the_run_on_an_acknowledgement_of_another_round()
    {
        var tlb = CreateTestProbe("tlb1");
        var order = new ShootdownOrder(new ShootdownId(3), new ShootdownScope(new Asid(1), default, default, true),
            [new CpuId(1)], new CpuId(0), ShootdownMode.Batched);
        var round = Spawn(ShootdownRound.Props(order, Peers(CreateTestProbe("tlb0"), tlb), RunContext.Live), CreateTestProbe("mm"));
        Next<Invalidate>(tlb);
        round.Tell(new InvalidateAcked(new ShootdownId(4), new CpuId(1)), tlb.Ref);
        Assert.StartsWith($"protocol error: {round.Path.Name} in state AwaitingAcks got an unexpected InvalidateAcked", ProtocolError());
    }
}

using Faultsim.Actors.Machine;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Faultsim.Actors;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;
using Faultsim.Model.Shootdowns;
using Faultsim.Model.Faults;
using Faultsim.Model.PageTables;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Actors;

public sealed class TlbSpec : TestKit
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);
    private readonly TestProbe _memory, _mm, _cpu;
    private readonly IActorRef _tlb;

    public TlbSpec()
    {
        (_memory, _mm, _cpu) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
        _tlb = Sys.ActorOf(TlbActor.Props(new CpuId(0), 64, 4, _memory.Ref, flushBeforeWalk: false, RunContext.Live));
    }

    private static MemoryAccess Load(VirtualAddress address) => new(address, AccessKind.Read, AccessMode.User, 0);

    private void Execute(params MemoryAccess[] accesses) =>
        _tlb.Tell(new ExecuteQuantum(new QuantumId(1), new ProcessId(1), Faults.Asid, _mm.Ref, Faults.Anon, [.. accesses]), _cpu.Ref);

    private static Translation Readable(FrameNumber frame) => new(frame, 0, PteFlags.Present | PteFlags.User);

    [Fact]
    public void Tlb_settles_the_hits_of_a_quantum_without_a_message_each()
    {
        Execute(Load(Faults.Anon), Load(Faults.Anon + 8), Load(Faults.Anon + 16));
        var walk = _mm.ExpectMsg<Walk>();
        _mm.Reply(new Walked(walk.Id, Readable(Faults.Frame)));
        var executed = _cpu.ExpectMsg<QuantumExecuted>();
        Assert.Equal((3, QuantumEnd.Completed), (executed.Completed, executed.End));
        Assert.Equal((2L, 1L), (executed.Stats.Hits, executed.Stats.Misses));
        Assert.Equal(3, _memory.ExpectMsg<Accessed>().Accesses.Length);   // one batch for the whole quantum
        _mm.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Tlb_sends_what_it_performed_to_memory_before_acknowledging_an_ipi()
    {
        Execute(Load(Faults.Anon), Load(Faults.File));
        _mm.Reply(new Walked(_mm.ExpectMsg<Walk>().Id, Readable(Faults.Frame)));
        _mm.ExpectMsg<Walk>();                                   // the second access is out on its walk
        _tlb.Tell(new Invalidate(new ShootdownId(1), ShootdownScope.OnePage(Faults.Asid, Faults.Anon.Page)), _memory.Ref);
        Assert.Single(_memory.ExpectMsg<Accessed>().Accesses);  // first the access through the old translation...
        _memory.ExpectMsg<InvalidateAcked>();                    // ...then the acknowledgement
    }

    [Fact]
    public void Tlb_does_not_cache_a_translation_an_ipi_overtook()
    {
        Execute(Load(Faults.Anon), Load(Faults.Anon + 8));
        var walk = _mm.ExpectMsg<Walk>();
        _tlb.Tell(new Invalidate(new ShootdownId(1), ShootdownScope.OnePage(Faults.Asid, Faults.Anon.Page)), _memory.Ref);
        _memory.ExpectMsg<InvalidateAcked>();
        _mm.Reply(new Walked(walk.Id, Readable(Faults.Frame)));  // computed before the IPI: stale now
        _mm.Reply(new Walked(_mm.ExpectMsg<Walk>().Id, Readable(new FrameNumber(6))));  // so the access walks again
        Assert.Equal(2, _cpu.ExpectMsg<QuantumExecuted>().Completed);
        Assert.All(_memory.ExpectMsg<Accessed>().Accesses, a => Assert.Equal(new FrameNumber(6), a.Frame));
    }

    [Fact]
    public void A_tlb_waiting_for_its_walk_takes_a_lazy_invalidation_at_once()
    {
        // Waiting is a flush point: reclaim for this very access may need the TLB flushed before the walk is answered.
        Execute(Load(Faults.Anon));
        var walk = _mm.ExpectMsg<Walk>();
        var shootdown = CreateTestProbe();
        _tlb.Tell(new Invalidate(new ShootdownId(1), ShootdownScope.OnePage(Faults.Asid, Faults.File.Page)), shootdown.Ref);
        shootdown.ExpectMsg<InvalidateAcked>();                  // before the walk's answer, and so before the quantum ends
        _mm.Reply(new Walked(walk.Id, Readable(Faults.Frame)));
        _cpu.ExpectMsg<QuantumExecuted>();
    }

    [Fact]
    public void Tlb_ends_the_quantum_with_efault_and_stops_at_the_failed_access()
    {
        Execute(Load(Faults.Anon), new MemoryAccess(new VirtualAddress(0x10), AccessKind.Write, AccessMode.UserCopy, 1), Load(Faults.Anon));
        _mm.Reply(new Walked(_mm.ExpectMsg<Walk>().Id, Readable(Faults.Frame)));
        var walk = _mm.ExpectMsg<Walk>();
        _mm.Reply(new FaultResolved(walk.Id, new PageKey(Faults.Asid, new PageNumber(0)), ResolutionKind.EfaultFixup, false, true, false, FaultOutcome.Efault, null));
        var executed = _cpu.ExpectMsg<QuantumExecuted>();
        Assert.Equal((1, QuantumEnd.Efault), (executed.Completed, executed.End));
        Assert.Equal(1, executed.Stats.FaultsByKind[(int)ResolutionKind.EfaultFixup]);
    }
}

using System.Collections.Immutable;
using Faultsim.Actors.Machine;
using Akka.Actor;
using Akka.TestKit;
using Faultsim.Actors;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Cpu;
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

public sealed class TlbSpec : DeterministicSpec
{
    private readonly TestProbe _memory, _mm, _cpu;
    private readonly IActorRef _tlb;

    /// <summary>A TLB under test whose memory and mm are probes.</summary>
    private IActorRef Tlb(Props props)
    {
        var tlb = Spawn(props);
        Connect(tlb, new ActorDirectory { Memory = _memory.Ref, AddressSpaces = ImmutableDictionary<Asid, IActorRef>.Empty.Add(Faults.Asid, _mm.Ref) });
        return tlb;
    }

    public TlbSpec()
    {
        (_memory, _mm, _cpu) = (CreateTestProbe("memory"), CreateTestProbe("mm"), CreateTestProbe("cpu"));
        _tlb = Tlb(TlbActor.Props(new CpuId(0), 64, 4, flushBeforeWalk: false, RunContext.Live));
    }

    private static ScriptAccess Load(VirtualAddress address) => new(address, AccessKind.Read, AccessMode.User, 0);

    private void Execute(params ScriptAccess[] accesses) =>
        _tlb.Tell(new ExecuteQuantum(new QuantumId(1), new ProcessId(1), Faults.Asid, Faults.Anon, [.. accesses]), _cpu.Ref);

    private static Translation Readable(FrameNumber frame) => new(frame, 0, PteFlags.Present | PteFlags.User);

    /// <summary>A TLB whose waits are bounded by <paramref name="bound"/>, on the virtual clock.</summary>
    private IActorRef BoundedTlb(TimeSpan bound) =>
        Tlb(TlbActor.Props(new CpuId(1), 64, 4, flushBeforeWalk: false, RunContext.Live with { WaitBound = bound }));

    [Fact]
    public void Tlb_passes_a_cpus_message_for_the_machine_to_memory_behind_the_accesses_of_its_quanta()
    {
        var frame = new Translation(Faults.Frame, 0, PteFlags.Present | PteFlags.User | PteFlags.Writable);
        Execute(new ScriptAccess(Faults.Anon, AccessKind.Write, AccessMode.User, 0x11));
        _mm.Reply(new Walked(Next<Walk>(_mm).Id, frame));
        Next<QuantumExecuted>(_cpu);
        var arrive = new AfterAccesses(new ArriveAtBarrier(new CpuId(0), "b", 2));
        _tlb.Tell(arrive, _cpu.Ref);
        Assert.Equal(0x11UL, Next<Accessed>(_memory).Accesses.Single().Value);
        Assert.Same(arrive, Next<AfterAccesses>(_memory));
    }

    [Fact]
    public void Tlb_fails_the_run_on_a_message_its_state_does_not_take()
    {
        _tlb.Tell(new Walked(new FaultId(9), Readable(Faults.Frame)), _mm.Ref); // a walk's answer, but no walk is out
        Assert.Equal($"protocol error: {_tlb.Path.Name} in state Idle got an unexpected Walked: {new Walked(new FaultId(9), Readable(Faults.Frame))}",
            ProtocolError());
    }

    [Fact]
    public void Tlb_fails_the_run_on_a_reply_to_another_fault_while_it_waits_for_its_translation()
    {
        Execute(Load(Faults.Anon));
        var walk = Next<Walk>(_mm);
        _mm.Reply(new Walked(new FaultId(walk.Id.Value + 1), Readable(Faults.Frame)));
        Assert.StartsWith($"protocol error: {_tlb.Path.Name} in state AwaitingTranslation got an unexpected Walked", ProtocolError());
    }

    [Fact]
    public void Tlb_waiting_past_its_bound_for_a_translation_that_never_comes_fails_the_run_naming_what_it_waits_for()
    {
        var tlb = BoundedTlb(TimeSpan.FromMilliseconds(5));
        tlb.Tell(new ExecuteQuantum(new QuantumId(4), new ProcessId(1), Faults.Asid, Faults.Anon, [Load(Faults.Anon)]), _cpu.Ref);
        var error = ProtocolError();                    // the mm never answers the walk: the virtual clock runs on to the bound
        var walk = _mm.ExpectMsg<Walk>(TimeSpan.Zero);
        Assert.Equal($"protocol stuck: {tlb.Path.Name} waited more than 5 ms in state AwaitingTranslation for its walk or its fault "
            + $"(Walked, WalkRefused, FaultResolved), pending fault {walk.Id.Value} of quantum 4 at access 0 of 1 (faultsim.actors.wait-bound)",
            error);
        Assert.True(Clock.NowNanos >= 10_000_000);     // two ticks of the bound saw the same wait: it waited at least one whole bound
        AssertSilent(_cpu);
    }

    [Fact]
    public void Tlb_waits_answered_within_their_bound_do_not_fail_and_leave_no_timer_behind()
    {
        var tlb = BoundedTlb(TimeSpan.FromMilliseconds(5));
        var walks = 0;
        _mm.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
        {
            if (message is Walk walk && ++walks > 0)
                sender.Tell(new Walked(walk.Id, Readable(Faults.Frame)), _mm.Ref); // answered at once, well within the bound
            return AutoPilot.KeepRunning;
        }));
        for (var i = 1; i <= 3; i++)
        {
            tlb.Tell(new ExecuteQuantum(new QuantumId(i), new ProcessId(1), Faults.Asid, Faults.Anon, [Load(Faults.Anon + (ulong)i * 4096)]), _cpu.Ref);
            Assert.Equal(QuantumEnd.Completed, Next<QuantumExecuted>(_cpu).End); // Next runs every timer due: the checks found no wait
        }
        Assert.Equal(3, walks);
        AssertSilent(_cpu);                        // quiescent: the idle TLB keeps no check running, and nothing failed
    }

    [Fact]
    public void Tlb_settles_the_hits_of_a_quantum_without_a_message_each()
    {
        Execute(Load(Faults.Anon), Load(Faults.Anon + 8), Load(Faults.Anon + 16));
        var walk = Next<Walk>(_mm);
        _mm.Reply(new Walked(walk.Id, Readable(Faults.Frame)));
        var executed = Next<QuantumExecuted>(_cpu);
        Assert.Equal((3, QuantumEnd.Completed), (executed.Completed, executed.End));
        Assert.Equal((2L, 1L), (executed.Stats.Hits, executed.Stats.Misses));
        Assert.Equal(3, Next<Accessed>(_memory).Accesses.Length); // one batch for the whole quantum
        AssertSilent(_mm);
    }

    [Fact]
    public void Tlb_sends_what_it_performed_to_memory_before_acknowledging_an_ipi()
    {
        Execute(Load(Faults.Anon), Load(Faults.File));
        _mm.Reply(new Walked(Next<Walk>(_mm).Id, Readable(Faults.Frame)));
        Next<Walk>(_mm);                                  // the second access is out on its walk
        _tlb.Tell(new Invalidate(new ShootdownId(1), ShootdownScope.OnePage(Faults.Asid, Faults.Anon.Page)), _memory.Ref);
        Assert.Single(Next<Accessed>(_memory).Accesses);  // first the access through the old translation...
        Next<InvalidateAcked>(_memory);                   // ...then the acknowledgement
    }

    [Fact]
    public void Tlb_does_not_cache_a_translation_an_ipi_overtook()
    {
        Execute(Load(Faults.Anon), Load(Faults.Anon + 8));
        var walk = Next<Walk>(_mm);
        _tlb.Tell(new Invalidate(new ShootdownId(1), ShootdownScope.OnePage(Faults.Asid, Faults.Anon.Page)), _memory.Ref);
        Next<InvalidateAcked>(_memory);
        _mm.Reply(new Walked(walk.Id, Readable(Faults.Frame)));  // computed before the IPI: stale now
        _mm.Reply(new Walked(Next<Walk>(_mm).Id, Readable(new FrameNumber(6)))); // so the access walks again
        Assert.Equal(2, Next<QuantumExecuted>(_cpu).Completed);
        Assert.All(Next<Accessed>(_memory).Accesses, a => Assert.Equal(new FrameNumber(6), a.Frame));
    }

    [Fact]
    public void A_tlb_waiting_for_its_walk_takes_a_lazy_invalidation_at_once()
    {
        // Waiting is a flush point: reclaim for this very access may need the TLB flushed before the walk is answered.
        Execute(Load(Faults.Anon));
        var walk = Next<Walk>(_mm);
        var shootdown = CreateTestProbe("shootdown");
        _tlb.Tell(new Invalidate(new ShootdownId(1), ShootdownScope.OnePage(Faults.Asid, Faults.File.Page)), shootdown.Ref);
        Next<InvalidateAcked>(shootdown);                 // before the walk's answer, and so before the quantum ends
        AssertSilent(_cpu);
        _mm.Reply(new Walked(walk.Id, Readable(Faults.Frame)));
        Next<QuantumExecuted>(_cpu);
    }

    [Fact]
    public void Tlb_ends_the_quantum_with_efault_and_stops_at_the_failed_access()
    {
        Execute(Load(Faults.Anon), new ScriptAccess(new VirtualAddress(0x10), AccessKind.Write, AccessMode.UserCopy, 1), Load(Faults.Anon));
        _mm.Reply(new Walked(Next<Walk>(_mm).Id, Readable(Faults.Frame)));
        var walk = Next<Walk>(_mm);
        _mm.Reply(new FaultResolved(walk.Id, new PageKey(Faults.Asid, new PageNumber(0)), ResolutionKind.EfaultFixup, false, true, false, FaultOutcome.Efault, null));
        var executed = Next<QuantumExecuted>(_cpu);
        Assert.Equal((1, QuantumEnd.Efault), (executed.Completed, executed.End));
        Assert.Equal(1, executed.Stats.FaultsByKind[(int)ResolutionKind.EfaultFixup]);
    }

    [Fact]
    public void A_fault_whose_loader_crashed_is_retried_after_a_backoff_that_doubles_with_each_crash_in_a_row()
    {
        var run = RunContext.Live with { Latencies = Latencies.None with { CrashRetry = 1_000 } };
        var tlb = Tlb(TlbActor.Props(new CpuId(1), 64, 4, flushBeforeWalk: false, run));
        var walks = Arrivals(_mm);
        tlb.Tell(new ExecuteQuantum(new QuantumId(1), new ProcessId(1), Faults.Asid, Faults.Anon, [Load(Faults.Anon)]), _cpu.Ref);
        var page = new PageKey(Faults.Asid, Faults.Anon.Page);
        for (var crash = 1; crash <= 3; crash++)
        {
            var walk = Next<Walk>(_mm);
            _mm.Reply(new FaultResolved(walk.Id, page, ResolutionKind.Spurious, false, Counted: false, false, FaultOutcome.Retry, null, LoaderCrashed: true));
        }
        var retried = Next<Walk>(_mm);
        _mm.Reply(new FaultResolved(retried.Id, page, ResolutionKind.DemandZero, false, Counted: true, false, FaultOutcome.Retry, Readable(Faults.Frame)));
        var executed = Next<QuantumExecuted>(_cpu);
        Assert.Equal((QuantumEnd.Completed, 1L), (executed.End, executed.Stats.FaultsByKind.Sum())); // the crashes counted nothing
        var gaps = walks.Zip(walks.Skip(1), (a, b) => b.At - a.At).ToList();
        Assert.Equal([1_000L, 2_000, 4_000], gaps); // the walks of the retries, each after its backoff
    }
}

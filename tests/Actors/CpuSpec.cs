using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Faultsim.Actors;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Cpu;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Actors;

/// <summary>The CPU's protocol with its TLB, the process's mm and the machine: one probe for each.</summary>
public sealed class CpuSpec : DeterministicSpec
{
    private static readonly VirtualAddress Buf = new(0x1000_0000);
    private static readonly ImmutableDictionary<string, (VirtualAddress Start, ulong Length)> Regions =
        ImmutableDictionary<string, (VirtualAddress, ulong)>.Empty.Add("buf", (Buf, 4 * VirtualAddress.PageSize));
    private readonly TestProbe _tlb, _mm, _machine;

    public CpuSpec()
    {
        (_tlb, _mm, _machine) = (CreateTestProbe("tlb"), CreateTestProbe("mm"), CreateTestProbe("machine"));
    }

    /// <param name="acrossNodes">A CPU of a cluster run (its messages from other nodes are counted).</param>
    private IActorRef Cpu(string script, int quantum = 16, int id = 1, bool acrossNodes = false)
    {
        var settings = new CpuSettings(quantum, WordsPerPage: 512, ImmutableDictionary<string, ProcessId>.Empty.Add("p", new ProcessId(1)).Add("c", new ProcessId(2)))
        {
            Traffic = acrossNodes ? new CrossNodeTraffic() : null,
        };
        var cpu = Spawn(CpuActor.Props(new CpuId(id), ScriptParser.Parse(script, 1), settings));
        Connect(cpu, new ActorDirectory
        {
            Machine = _machine.Ref, Tlbs = [.. Enumerable.Repeat(_tlb.Ref, id + 1)],
            AddressSpaces = ImmutableDictionary<Asid, IActorRef>.Empty.Add(new Asid(1), _mm.Ref).Add(new Asid(2), _mm.Ref),
        });
        cpu.Tell(CpuActor.Start.Instance);
        return cpu;
    }

    /// <summary>The machine finds process p for the CPU; the CPU joins its mm's CPU mask before anything else.</summary>
    private void FindP(IActorRef cpu)
    {
        var find = Next<FindProcess>(_machine);
        Assert.Equal(("p", 1), (find.Name, find.Line));
        cpu.Tell(new ProcessFound("p", new ProcessId(1), new Asid(1), new VirtualAddress(0x7fff_0000), Regions, Alive: true), _machine.Ref);
        Next<CpuAttached>(_mm);
    }

    [Fact]
    public void A_cpu_of_a_cluster_run_goes_on_once_its_mm_has_it_in_the_mask_and_sends_its_barrier_and_finish_after_its_accesses()
    {
        var cpu = Cpu("run p\nstore buf:0\nbarrier b\nload buf:0", acrossNodes: true);
        Next<FindProcess>(_machine);
        cpu.Tell(new ProcessFound("p", new ProcessId(1), new Asid(1), new VirtualAddress(0x7fff_0000), Regions, Alive: true), _machine.Ref);
        Assert.Equal(new CpuAttached(new CpuId(1), Acknowledge: true), Next<CpuAttached>(_mm));
        AssertSilent(_tlb); // another CPU told of this one's switch (a barrier) must find it in the mask
        cpu.Tell(new CpuAttachAcknowledged(new Asid(1)), _mm.Ref);
        var store = Next<ExecuteQuantum>(_tlb);
        cpu.Tell(new QuantumExecuted(store.Id, 1, QuantumEnd.Completed, ProcessFate.Running, QuantumStats.Zero), _tlb.Ref);
        // The arrival goes the way of the store (TLB, memory), so no load after the barrier reaches memory before it.
        Assert.Equal(new ArriveAtBarrier(new CpuId(1), "b", 3), Next<AfterAccesses>(_tlb).Message);
        AssertSilent(_machine);
        cpu.Tell(new BarrierPassed("b"), _machine.Ref);
        var load = Next<ExecuteQuantum>(_tlb);
        cpu.Tell(new QuantumExecuted(load.Id, 1, QuantumEnd.Completed, ProcessFate.Running, QuantumStats.Zero), _tlb.Ref);
        Assert.Equal(4, Assert.IsType<CpuFinished>(Next<AfterAccesses>(_tlb).Message).Steps);
        AssertSilent(_machine);
    }

    [Fact]
    public void A_cpu_on_one_node_tells_the_machine_and_the_mm_straight_for_a_tell_is_in_its_mailbox_at_once()
    {
        var cpu = Cpu("run p\nbarrier b");
        FindP(cpu);
        Assert.Equal("b", Next<ArriveAtBarrier>(_machine).Name);
        cpu.Tell(new BarrierPassed("b"), _machine.Ref);
        Next<CpuFinished>(_machine);
        AssertSilent(_tlb);
    }

    [Fact]
    public void Cpu_hands_its_tlb_a_quantum_of_resolved_accesses_and_goes_on_when_it_is_executed()
    {
        var cpu = Cpu("run p\nload buf:0..2\nstore buf:3\nstore buf:0 = 0x11", quantum: 4);
        FindP(cpu);
        var quantum = Next<ExecuteQuantum>(_tlb);
        Assert.Equal((new ProcessId(1), new VirtualAddress(0x7fff_0000)), (quantum.Pid, quantum.StackPointer));
        // Pages at the CPU's own word (cpu 1: the second word); a store without a value writes one this CPU never wrote before.
        Assert.Equal([Buf + 8, Buf + 4096 + 8, Buf + 8192 + 8, Buf + 3 * 4096 + 8], quantum.Accesses.Select(a => a.Address));
        Assert.Equal([0UL, 0, 0, (2UL << 40) | 1], quantum.Accesses.Select(a => a.Value));
        AssertSilent(_tlb); // one quantum out at a time
        cpu.Tell(new QuantumExecuted(quantum.Id, 4, QuantumEnd.Completed, ProcessFate.Running, QuantumStats.Zero), _tlb.Ref);
        var next = Next<ExecuteQuantum>(_tlb);
        Assert.Equal((Buf + 8, 0x11UL), (next.Accesses.Single().Address, next.Accesses.Single().Value));
        cpu.Tell(new QuantumExecuted(next.Id, 1, QuantumEnd.Completed, ProcessFate.Running, QuantumStats.Zero), _tlb.Ref);
        Assert.Equal(6, Next<CpuFinished>(_machine).Steps); // the run, and five accesses
    }

    [Fact]
    public void An_access_that_ends_its_quantum_early_ends_its_operation_and_spends_its_store_value()
    {
        var cpu = Cpu("run p\nstore buf:0..3\nstore buf:0");
        FindP(cpu);
        var quantum = Next<ExecuteQuantum>(_tlb);
        cpu.Tell(new QuantumExecuted(quantum.Id, 1, QuantumEnd.Efault, ProcessFate.Running, QuantumStats.Zero), _tlb.Ref);
        var next = Next<ExecuteQuantum>(_tlb).Accesses.Single();
        Assert.Equal((Buf + 8, (2UL << 40) | 3), (next.Address, next.Value)); // the next line; stores 1 and 2 were spent
    }

    [Fact]
    public void Cpu_makes_a_system_call_on_its_process_mm_with_its_start_as_given_and_its_end_rounded_up_to_a_page()
    {
        var cpu = Cpu("run p\nmunmap buf+100 4K\nstore buf:0");
        FindP(cpu);
        var call = Next<Syscall>(_mm);
        Assert.Equal(new SystemCall.Munmap(Buf + 100, Buf + 2 * 4096), call.Call);
        Assert.True(Faultsim.Model.AddressSpaces.SyscallRules.Refuses(call.Call)); // EINVAL: the start is not page-aligned
        AssertSilent(_tlb);
        cpu.Tell(new SyscallReturned(call.Id, Failed: false, ProcessFate.Running), _mm.Ref);
        Next<ExecuteQuantum>(_tlb);
    }

    [Fact]
    public void After_its_process_exits_a_cpu_skips_the_rest_and_tells_the_machine_of_a_fork_that_never_happens()
    {
        var cpu = Cpu("run p\nexit\nstore buf:0\nfork c\nrun c");
        FindP(cpu);
        var call = Next<Syscall>(_mm);
        Assert.IsType<SystemCall.Exit>(call.Call);
        cpu.Tell(new SyscallReturned(call.Id, Failed: false, ProcessFate.Exited), _mm.Ref);
        Assert.Equal("c", Next<ForkSkipped>(_machine).Child);
        Assert.Equal("c", _machine.ExpectMsg<FindProcess>(TimeSpan.Zero).Name);
        cpu.Tell(new ProcessNeverStarted("c"), _machine.Ref);
        Assert.Equal(5, Next<CpuFinished>(_machine).Steps);
        AssertSilent(_tlb);
    }

    [Fact]
    public void Cpu_waits_at_a_barrier_until_the_machine_passes_it()
    {
        var cpu = Cpu("run p\nbarrier b\nload buf:0");
        FindP(cpu);
        Assert.Equal("b", Next<ArriveAtBarrier>(_machine).Name);
        AssertSilent(_tlb);
        cpu.Tell(new BarrierPassed("b"), _machine.Ref);
        Next<ExecuteQuantum>(_tlb);
    }

    [Fact]
    public void A_region_the_cpu_does_not_know_is_asked_of_the_mm_and_one_it_has_not_fails_the_workload()
    {
        var cpu = Cpu("run p\nload other:0\nload gone:0");
        FindP(cpu);
        Assert.Equal("other", Next<LookupRegion>(_mm).Name);
        cpu.Tell(new RegionFound("other", new VirtualAddress(0x2000_0000), 4096), _mm.Ref);
        var quantum = Next<ExecuteQuantum>(_tlb);
        Assert.Equal(new VirtualAddress(0x2000_0000 + 8), quantum.Accesses.Single().Address);
        cpu.Tell(new QuantumExecuted(quantum.Id, 1, QuantumEnd.Completed, ProcessFate.Running, QuantumStats.Zero), _tlb.Ref);
        Assert.Equal("gone", Next<LookupRegion>(_mm).Name);
        cpu.Tell(new RegionFound("gone", default, 0), _mm.Ref);
        var failed = Next<WorkloadFailed>(_machine);
        Assert.Equal((3, CpuProgram.NoRegion("p", "gone")), (failed.Line, failed.Message));
        cpu.Tell(Halt.Instance, _machine.Ref);
        Next<CpuFinished>(_machine);
    }

    [Fact]
    public void A_halt_while_a_quantum_is_out_waits_for_what_it_counted_and_one_at_the_machine_ends_at_once()
    {
        var cpu = Cpu("run p\nload buf:0\nload buf:1");
        FindP(cpu);
        var quantum = Next<ExecuteQuantum>(_tlb);
        cpu.Tell(Halt.Instance, _machine.Ref);
        AssertSilent(_machine);
        var stats = QuantumStats.Zero with { Accesses = 2 };
        cpu.Tell(new QuantumExecuted(quantum.Id, 2, QuantumEnd.Completed, ProcessFate.Running, stats), _tlb.Ref);
        Assert.Equal(2, Next<CpuFinished>(_machine).ByProcess[new ProcessId(1)].Accesses);
        AssertSilent(_tlb); // halted: nothing more runs

        var waiting = Cpu("run p", id: 2);
        Next<FindProcess>(_machine);
        waiting.Tell(Halt.Instance, _machine.Ref);
        Assert.Equal(new CpuId(2), Next<CpuFinished>(_machine).Cpu);
    }
}

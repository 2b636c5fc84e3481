using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Faultsim.Actors;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Shootdown;
using Faultsim.Model.Shootdowns;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Actors;

public sealed class AddressSpaceSpec : TestKit
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);
    private static readonly FrameNumber Old = new(7), New = new(9);
    private static readonly Vma AnonVma = Faults.AddressSpace().Vmas.Find(Faults.Anon)!;
    private readonly TestProbe _machine, _memory, _loaders, _tlb0, _tlb1;

    public AddressSpaceSpec()
    {
        (_machine, _memory, _loaders, _tlb0, _tlb1) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
    }

    /// <summary>An mm whose first anonymous page maps <see cref="Old"/> read-only (copy-on-write), run by CPUs 0 and 1.</summary>
    private IActorRef Mm(ShootdownMode mode = ShootdownMode.Batched)
    {
        var space = Faults.AddressSpace();
        var setup = new AddressSpaceSetup(new ProcessId(1), "p", Faults.Asid, [.. space.Vmas.All],
            [(Faults.Anon.Page, Faults.Present(Old, PteFlags.Cow))], ImmutableDictionary<string, (VirtualAddress, ulong)>.Empty, Faults.Anon);
        var settings = new AddressSpaceSettings(StackRules.Linux, ZeroPage: true, [Faults.FileSize], mode);
        var mm = Sys.ActorOf(AddressSpaceActor.Props(setup, settings, _machine.Ref, _memory.Ref, _loaders.Ref, [_tlb0.Ref, _tlb1.Ref], RunContext.Live));
        foreach (var cpu in new[] { 0, 1 })
            mm.Tell(new CpuAttached(new CpuId(cpu)));   // both CPUs run the process: both are in the mask
        return mm;
    }

    [Fact]
    public void Walk_of_a_page_the_pte_allows_is_a_tlb_fill()
    {
        var mm = Mm();
        mm.Tell(new Walk(new FaultId(1), new CpuId(0), Faults.Anon + 8, AccessKind.Read, AccessMode.User, Faults.Anon, false), _tlb0.Ref);
        Assert.Equal(Old, _tlb0.ExpectMsg<Walked>().Translation.Frame);
        _loaders.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Walk_that_fails_becomes_a_fault_for_the_pages_loader_with_the_tlb_to_wake()
    {
        var mm = Mm();
        mm.Tell(new Walk(new FaultId(1), new CpuId(0), Faults.Anon, AccessKind.Write, AccessMode.User, Faults.Anon, false), _tlb0.Ref);
        var fault = _loaders.ExpectMsg<ResolveFault>();
        Assert.Equal(new PageKey(Faults.Asid, Faults.Anon.Page), fault.Page);
        Assert.True(fault.Input.Code.Present && fault.Input.Code.Write);
        Assert.Equal(_tlb0.Ref, fault.ReplyTo);
    }

    [Fact]
    public void Cow_break_wakes_the_waiters_only_after_every_other_cpu_dropped_the_old_frame()
    {
        var mm = Mm();
        var old = Faults.Present(Old, PteFlags.Cow);
        var copy = Pte.Mapped(New, PteFlags.User | PteFlags.Writable | PteFlags.Dirty, 0);
        var report = new FaultReport(ResolutionKind.CowBreak, false, false);
        mm.Tell(new InstallPte(new FaultId(1), new CpuId(0), Faults.Anon.Page, old, AnonVma, 0, copy, null, [new Waiter(new FaultId(1), _tlb0.Ref)], report, true));

        var ipi = _tlb1.ExpectMsg<Invalidate>();          // the other CPU is shot down
        _tlb0.ExpectNoMsg(Quiet);                         // the initiator is neither interrupted nor woken yet
        _memory.ExpectNoMsg(Quiet);                       // and the old frame is not released yet
        _tlb1.Reply(new InvalidateAcked(ipi.Id, new CpuId(1)));

        var released = _memory.ExpectMsg<ReleasePages>();
        Assert.Equal(Old, released.Pages.Single().Frame);
        var woken = _tlb0.ExpectMsg<FaultResolved>();
        Assert.Equal(New, woken.Translation!.Value.Frame);
    }

    [Fact]
    public void Install_over_a_page_that_changed_installs_nothing_and_gives_the_frame_back()
    {
        var mm = Mm();
        var report = new FaultReport(ResolutionKind.DemandZero, false, false);
        var fresh = Pte.Mapped(New, PteFlags.User | PteFlags.Writable, 0);
        mm.Tell(new InstallPte(new FaultId(1), new CpuId(0), Faults.Anon.Page, Pte.None, AnonVma, 0, fresh, null, [new Waiter(new FaultId(1), _tlb0.Ref)], report, true));
        Assert.Equal(New, _memory.ExpectMsg<Unprepare>().Frame);
        var woken = _tlb0.ExpectMsg<FaultResolved>();
        Assert.False(woken.Counted);
        Assert.Null(woken.Translation);
    }

    [Fact]
    public void Munmap_returns_only_after_every_cpu_in_the_mask_acknowledged_and_releases_after_that()
    {
        var mm = Mm();
        var cpu = CreateTestProbe();
        mm.Tell(new Syscall(new SyscallId(1), new CpuId(0), new SyscallRequest.Munmap(Faults.Anon, Faults.Anon + 16 * 4096)), cpu.Ref);
        var local = _tlb0.ExpectMsg<Invalidate>();
        var remote = _tlb1.ExpectMsg<Invalidate>();
        _tlb0.Reply(new InvalidateAcked(local.Id, new CpuId(0)));
        cpu.ExpectNoMsg(Quiet);                           // one CPU still may use the mapping
        _memory.ExpectNoMsg(Quiet);
        _tlb1.Reply(new InvalidateAcked(remote.Id, new CpuId(1)));
        Assert.Equal(Old, _memory.ExpectMsg<ReleasePages>().Pages.Single().Frame);
        Assert.False(cpu.ExpectMsg<SyscallReturned>().Failed);
    }

    [Fact]
    public void Eager_mode_sends_a_round_per_page_and_batched_one_round_per_call()
    {
        foreach (var (mode, rounds) in new[] { (ShootdownMode.Batched, 1), (ShootdownMode.Eager, 2) })
        {
            var mm = Mm(mode);
            mm.Tell(new Walk(new FaultId(9), new CpuId(1), Faults.Anon + 4096, AccessKind.Read, AccessMode.User, Faults.Anon, false), _tlb1.Ref);
            _loaders.ExpectMsg<ResolveFault>();
            var second = Faults.Present(New, 0);
            mm.Tell(new InstallPte(new FaultId(9), new CpuId(1), (Faults.Anon + 4096).Page, Pte.None, AnonVma, 0, second, null,
                [new Waiter(new FaultId(9), _tlb1.Ref)], new FaultReport(ResolutionKind.DemandZero, false, false), false));
            _tlb1.ExpectMsg<FaultResolved>();
            mm.Tell(new Syscall(new SyscallId(1), new CpuId(0), new SyscallRequest.Munmap(Faults.Anon, Faults.Anon + 16 * 4096)), TestActor);
            for (var i = 0; i < rounds; i++)
                _tlb1.Reply(new InvalidateAcked(_tlb1.ExpectMsg<Invalidate>().Id, new CpuId(1)));
            for (var i = 0; i < rounds; i++)
                _tlb0.Reply(new InvalidateAcked(_tlb0.ExpectMsg<Invalidate>().Id, new CpuId(0)));
            ExpectMsg<SyscallReturned>();
            _tlb1.ExpectNoMsg(Quiet);
        }
    }

    [Fact]
    public void Exit_flushes_every_cpu_then_walks_find_the_process_gone()
    {
        var mm = Mm();
        mm.Tell(new Syscall(new SyscallId(1), new CpuId(0), SyscallRequest.Exit.Instance), TestActor);
        foreach (var (tlb, cpu) in new[] { (_tlb0, 0), (_tlb1, 1) })
        {
            var all = tlb.ExpectMsg<Invalidate>();
            Assert.True(all.Scope.All);
            tlb.Reply(new InvalidateAcked(all.Id, new CpuId(cpu)));
        }
        Assert.Equal(ProcessFate.Exited, _machine.ExpectMsg<ProcessEnded>().Fate);
        ExpectMsg<SyscallReturned>();
        mm.Tell(new Walk(new FaultId(5), new CpuId(1), Faults.Anon, AccessKind.Read, AccessMode.User, Faults.Anon, false), _tlb1.Ref);
        Assert.Equal(ProcessFate.Exited, _tlb1.ExpectMsg<WalkRefused>().Fate);
    }

    [Fact]
    public void A_walk_waits_while_a_syscall_holds_the_mmap_lock()
    {
        var mm = Mm();
        mm.Tell(new Syscall(new SyscallId(1), new CpuId(0), new SyscallRequest.Munmap(Faults.Anon, Faults.Anon + 4096)), TestActor);
        var local = _tlb0.ExpectMsg<Invalidate>();
        var remote = _tlb1.ExpectMsg<Invalidate>();
        mm.Tell(new Walk(new FaultId(5), new CpuId(1), Faults.File, AccessKind.Read, AccessMode.User, Faults.Anon, false), _tlb1.Ref);
        _loaders.ExpectNoMsg(Quiet);                      // the fault waits for the lock
        _tlb0.Reply(new InvalidateAcked(local.Id, new CpuId(0)));
        _tlb1.Reply(new InvalidateAcked(remote.Id, new CpuId(1)));
        ExpectMsg<SyscallReturned>();
        _loaders.ExpectMsg<ResolveFault>();
    }
}

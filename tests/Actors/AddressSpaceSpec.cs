using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
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

public sealed class AddressSpaceSpec : DeterministicSpec
{
    private static readonly FrameNumber Old = new(7), New = new(9);
    private static readonly Vma AnonVma = Faults.AddressSpace().Vmas.Find(Faults.Anon)!;
    private readonly TestProbe _machine, _memory, _loaders, _tlb0, _tlb1, _cpu, _child;

    public AddressSpaceSpec()
    {
        (_machine, _memory, _loaders, _tlb0, _tlb1, _cpu, _child) =
            (CreateTestProbe("machine"), CreateTestProbe("memory"), CreateTestProbe("loaders"), CreateTestProbe("tlb0"), CreateTestProbe("tlb1"), CreateTestProbe("cpu0"),
             CreateTestProbe("mm2"));
    }

    private static AddressSpaceSettings Settings(ShootdownMode mode = ShootdownMode.Batched) =>
        new(StackRules.Linux, ZeroPage: true, new Faultsim.Model.Storage.FileTable([new FileSpec("lib", Faults.FileSize)]), mode);

    /// <summary>The directory of a spec's mm: the probes play its peers (both CPUs' syscalls return to <see cref="_cpu"/>), the child of a fork is <see cref="_child"/>.</summary>
    private ActorDirectory Peers(IActorRef mm) => new()
    {
        Machine = _machine.Ref, Memory = _memory.Ref, Loaders = _loaders.Ref, Tlbs = [_tlb0.Ref, _tlb1.Ref], Cpus = [_cpu.Ref, _cpu.Ref],
        AddressSpaces = ImmutableDictionary<Asid, IActorRef>.Empty.Add(Faults.Asid, mm).Add(new Asid(2), _child.Ref),
    };

    /// <summary>An mm whose first anonymous page maps <see cref="Old"/> read-only (copy-on-write), run by CPUs 0 and 1.</summary>
    private IActorRef Mm(ShootdownMode mode = ShootdownMode.Batched, PlantedBugs? bugs = null, TimeSpan? waitBound = null)
    {
        var space = Faults.AddressSpace();
        space.Install(Faults.Anon.Page, Faults.Present(Old, PteFlags.Cow)); // its VMA has had an anonymous page: fork copies it
        var setup = new AddressSpaceSetup(new ProcessId(1), "p", Faults.Asid, [.. space.Vmas.All],
            [(Faults.Anon.Page, space.Pages[Faults.Anon.Page])], ImmutableDictionary<string, (VirtualAddress, ulong)>.Empty, Faults.Anon);
        var mm = Spawn(AddressSpaceActor.Props(Faults.Asid, setup, Settings(mode), RunContext.Live with { Bugs = bugs ?? PlantedBugs.None, WaitBound = waitBound }));
        Connect(mm, Peers(mm));
        foreach (var cpu in new[] { 0, 1 })
            mm.Tell(new CpuAttached(new CpuId(cpu)));   // both CPUs run the process: both are in the mask
        return mm;
    }

    [Fact]
    public void Walk_of_a_page_the_pte_allows_is_a_tlb_fill()
    {
        var mm = Mm();
        mm.Tell(new Walk(new FaultId(1), new CpuId(0), Faults.Anon + 8, AccessKind.Read, AccessMode.User, Faults.Anon, false), _tlb0.Ref);
        Assert.Equal(Old, Next<Walked>(_tlb0).Translation.Frame);
        AssertSilent(_loaders);
    }

    [Fact]
    public void Walk_that_fails_becomes_a_fault_for_the_pages_loader_naming_the_cpu_to_wake()
    {
        var mm = Mm();
        mm.Tell(new Walk(new FaultId(1), new CpuId(0), Faults.Anon, AccessKind.Write, AccessMode.User, Faults.Anon, false), _tlb0.Ref);
        var fault = Next<ResolveFault>(_loaders);
        Assert.Equal(new PageKey(Faults.Asid, Faults.Anon.Page), fault.Page);
        Assert.True(fault.Input.Code.Present && fault.Input.Code.Write);
        Assert.Equal(new CpuId(0), fault.Cpu);
    }

    [Fact]
    public void Cow_break_wakes_the_waiters_only_after_every_other_cpu_dropped_the_old_frame()
    {
        var mm = Mm();
        var old = Faults.Present(Old, PteFlags.Cow);
        var copy = Pte.Mapped(New, PteFlags.User | PteFlags.Writable | PteFlags.Dirty, 0);
        var report = new FaultReport(ResolutionKind.CowBreak, false, false);
        mm.Tell(new InstallPte(new FaultId(1), new CpuId(0), Faults.Anon.Page, old, AnonVma, 0, copy, null, [new Waiter(new FaultId(1), new CpuId(0))], report, true));

        var ipi = Next<Invalidate>(_tlb1);                // the other CPU is shot down
        AssertSilent(_tlb0, _memory);                     // the initiator is neither interrupted nor woken yet, the old frame not released
        _tlb1.Reply(new InvalidateAcked(ipi.Id, new CpuId(1)));

        var released = Next<ReleasePages>(_memory);
        Assert.Equal(Old, released.Pages.Single().Frame);
        var woken = Next<FaultResolved>(_tlb0);
        Assert.Equal(New, woken.Translation!.Value.Frame);
    }

    [Fact]
    public void Cow_break_publishes_the_new_pte_only_after_every_other_cpu_flushed_the_old_one()
    {
        // wp_page_copy's order: clear and flush first, under the page-table lock, then publish.
        var mm = Mm();
        var old = Faults.Present(Old, PteFlags.Cow);
        var copy = Pte.Mapped(New, PteFlags.User | PteFlags.Writable | PteFlags.Dirty, 0);
        var report = new FaultReport(ResolutionKind.CowBreak, false, false);
        mm.Tell(new InstallPte(new FaultId(1), new CpuId(0), Faults.Anon.Page, old, AnonVma, 0, copy, null, [new Waiter(new FaultId(1), new CpuId(0))], report, true));
        var ipi = Next<Invalidate>(_tlb1);
        mm.Tell(new Walk(new FaultId(2), new CpuId(2), Faults.Anon, AccessKind.Write, AccessMode.User, Faults.Anon, false), _tlb1.Ref);
        AssertSilent(_tlb1, _loaders);                    // a walk of the page waits: neither the old nor the new PTE is out
        _tlb1.Reply(new InvalidateAcked(ipi.Id, new CpuId(1)));
        Assert.Equal(New, Next<Walked>(_tlb1).Translation.Frame);   // after the flush the walk finds the new frame
    }

    [Fact]
    public void With_the_planted_bug_publish_before_flush_a_walk_finds_the_new_pte_while_the_old_one_is_still_cached()
    {
        var mm = Mm(bugs: PlantedBugs.None with { PublishBeforeFlush = true });
        var old = Faults.Present(Old, PteFlags.Cow);
        var copy = Pte.Mapped(New, PteFlags.User | PteFlags.Writable | PteFlags.Dirty, 0);
        var report = new FaultReport(ResolutionKind.CowBreak, false, false);
        mm.Tell(new InstallPte(new FaultId(1), new CpuId(0), Faults.Anon.Page, old, AnonVma, 0, copy, null, [new Waiter(new FaultId(1), new CpuId(0))], report, true));
        Next<Invalidate>(_tlb1);
        mm.Tell(new Walk(new FaultId(2), new CpuId(2), Faults.Anon, AccessKind.Write, AccessMode.User, Faults.Anon, false), _tlb1.Ref);
        Assert.Equal(New, Next<Walked>(_tlb1).Translation.Frame); // before the old entry is gone from cpu1
    }

    [Fact]
    public void Install_over_a_page_another_fault_mapped_installs_nothing_gives_the_frame_back_and_counts_the_lost_race()
    {
        var mm = Mm();
        var report = new FaultReport(ResolutionKind.DemandZero, false, false);
        var fresh = Pte.Mapped(New, PteFlags.User | PteFlags.Writable, 0);
        mm.Tell(new InstallPte(new FaultId(1), new CpuId(0), Faults.Anon.Page, Pte.None, AnonVma, 0, fresh, null, [new Waiter(new FaultId(1), new CpuId(0))], report, true));
        Assert.Equal(New, Next<Unprepare>(_memory).Frame);
        var woken = Next<FaultResolved>(_tlb0);
        Assert.True(woken.Counted);                        // the loser's fault is a minor fault, as Linux counts it
        Assert.Equal(ResolutionKind.Spurious, woken.Kind);
        Assert.False(woken.Major);
        Assert.Null(woken.Translation);                    // its access retries through the winner's PTE
    }

    [Fact]
    public void Install_after_the_mm_forked_installs_nothing_and_counts_nothing()
    {
        var mm = Mm();
        var report = new FaultReport(ResolutionKind.CowReuse, false, false);
        var expected = Faults.Present(Old, PteFlags.Cow);
        mm.Tell(new InstallPte(new FaultId(1), new CpuId(0), Faults.Anon.Page, expected, AnonVma, Forks: -1, expected.With(PteFlags.Writable), null,
            [new Waiter(new FaultId(1), new CpuId(0))], report, false));
        var woken = Next<FaultResolved>(_tlb0);
        Assert.False(woken.Counted);                       // decided before the fork: it faults afresh
        Assert.Null(woken.Translation);
    }

    [Fact]
    public void Munmap_returns_only_after_every_cpu_in_the_mask_acknowledged_and_releases_after_that()
    {
        var mm = Mm();
        mm.Tell(new Syscall(new SyscallId(1), new CpuId(0), new SystemCall.Munmap(Faults.Anon, Faults.Anon + 16 * 4096), default), _cpu.Ref);
        var local = Next<Invalidate>(_tlb0);
        var remote = Next<Invalidate>(_tlb1);
        _tlb0.Reply(new InvalidateAcked(local.Id, new CpuId(0)));
        AssertSilent(_cpu, _memory);                      // one CPU still may use the mapping
        _tlb1.Reply(new InvalidateAcked(remote.Id, new CpuId(1)));
        Assert.Equal(Old, Next<ReleasePages>(_memory).Pages.Single().Frame);
        Assert.False(Next<SyscallReturned>(_cpu).Failed);
    }

    [Fact]
    public void Eager_mode_sends_a_round_per_page_and_batched_one_round_per_call()
    {
        foreach (var (mode, rounds) in new[] { (ShootdownMode.Batched, 1), (ShootdownMode.Eager, 2) })
        {
            var mm = Mm(mode);
            mm.Tell(new Walk(new FaultId(9), new CpuId(1), Faults.Anon + 4096, AccessKind.Read, AccessMode.User, Faults.Anon, false), _tlb1.Ref);
            Next<ResolveFault>(_loaders);
            var second = Faults.Present(New, 0);
            mm.Tell(new InstallPte(new FaultId(9), new CpuId(1), (Faults.Anon + 4096).Page, Pte.None, AnonVma, 0, second, null,
                [new Waiter(new FaultId(9), new CpuId(1))], new FaultReport(ResolutionKind.DemandZero, false, false), false));
            Next<FaultResolved>(_tlb1);
            mm.Tell(new Syscall(new SyscallId(1), new CpuId(0), new SystemCall.Munmap(Faults.Anon, Faults.Anon + 16 * 4096), default), _cpu.Ref);
            for (var i = 0; i < rounds; i++)
                _tlb1.Reply(new InvalidateAcked(Next<Invalidate>(_tlb1).Id, new CpuId(1)));
            for (var i = 0; i < rounds; i++)
                _tlb0.Reply(new InvalidateAcked(Next<Invalidate>(_tlb0).Id, new CpuId(0)));
            Next<SyscallReturned>(_cpu);
            AssertSilent(_tlb1);
        }
    }

    /// <summary>
    /// Eviction swaps the first anonymous page out: its PTE names swap slot 1 now, and the round that shoots the old
    /// translation down is acknowledged by CPU 0 but still in flight to CPU 1, whose TLB may still map the frame.
    /// </summary>
    private (IActorRef Mm, Invalidate Eviction) EvictedWhileCpu1MayStillMapIt(ShootdownMode mode)
    {
        var mm = Mm(mode);
        mm.Tell(new ReplacePte(1, Faults.Anon.Page, Old, Pte.Swapped(new SwapSlot(1)), new CpuId(0)), _memory.Ref);
        var local = Next<Invalidate>(_tlb0);
        _tlb0.Reply(new InvalidateAcked(local.Id, new CpuId(0)));
        return (mm, Next<Invalidate>(_tlb1));
    }

    public static TheoryData<string, ShootdownMode> RangeCallsOverTheEvictedPage => new()
    {
        { "madvise-dontneed", ShootdownMode.Batched }, { "munmap", ShootdownMode.Batched }, { "mmap-over", ShootdownMode.Batched },
        { "mprotect", ShootdownMode.Batched }, { "fork", ShootdownMode.Batched },
        { "madvise-dontneed", ShootdownMode.Eager }, { "munmap", ShootdownMode.Eager }, { "madvise-dontneed", ShootdownMode.Lazy },
    };

    private static SystemCall RangeCall(string name) => name switch
    {
        "madvise-dontneed" => new SystemCall.Madvise(Faults.Anon, Faults.Anon + 4096, Advice.DontNeed),
        "munmap" => new SystemCall.Munmap(Faults.Anon, Faults.Anon + 4096),
        "mmap-over" => new SystemCall.Mmap("again", Faults.Anon, 4096, VmaFlags.Read | VmaFlags.Write, null, 0),
        "mprotect" => new SystemCall.Mprotect(Faults.Anon, Faults.Anon + 4096, VmaFlags.Read),
        "fork" => ForkCall.Call,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    [Theory]
    [MemberData(nameof(RangeCallsOverTheEvictedPage))]
    public void A_range_call_over_a_page_whose_eviction_flush_is_in_flight_flushes_it_before_returning(string call, ShootdownMode mode)
    {
        // Swarm seeds 1902 (madvise) and 312 (munmap) with machine.frames=1: the PTE was a swap entry already, so the call
        // saw nothing to flush and returned, and CPU 1 went on writing through its stale translation to a frame since reused.
        var (mm, eviction) = EvictedWhileCpu1MayStillMapIt(mode);
        mm.Tell(new Syscall(new SyscallId(1), new CpuId(1), RangeCall(call), Faults.Anon), _cpu.Ref);
        var flush = Next<Invalidate>(_tlb1);               // tlb_flush_pending: the call flushes the page anyway
        Assert.NotEqual(eviction.Id, flush.Id);
        Assert.True(flush.Scope.Covers(Faults.Asid, Faults.Anon.Page), $"{flush.Scope} does not cover the evicted page");
        var local = Next<Invalidate>(_tlb0);              // the caller's own TLB too
        _tlb0.Reply(new InvalidateAcked(local.Id, new CpuId(0)));
        if (call == "mmap-over")
            Assert.Equal("again", Next<RegionChanged>(_cpu).Name); // the other CPU that ran the process hears of the new region
        AssertSilent(_cpu);                               // CPU 1 may still write the old frame: the call has not returned
        _tlb1.Reply(new InvalidateAcked(flush.Id, new CpuId(1)));
        if (call == "fork")
            _memory.Reply(new ReferencesAdded(Next<AddReferences>(_memory).Id));
        Assert.False(Next<SyscallReturned>(_cpu).Failed);
    }

    [Fact]
    public void A_range_call_away_from_the_page_whose_eviction_flush_is_in_flight_flushes_nothing()
    {
        var (mm, _) = EvictedWhileCpu1MayStillMapIt(ShootdownMode.Batched);
        mm.Tell(new Syscall(new SyscallId(1), new CpuId(1), new SystemCall.Madvise(Faults.Anon + 4096, Faults.Anon + 2 * 4096, Advice.DontNeed), Faults.Anon), _cpu.Ref);
        Assert.False(Next<SyscallReturned>(_cpu).Failed);  // nothing in its range was ever mapped: it returns at once
        AssertSilent(_tlb0, _tlb1);
    }

    [Fact]
    public void A_range_call_after_the_eviction_flush_is_acknowledged_flushes_nothing_more()
    {
        var (mm, eviction) = EvictedWhileCpu1MayStillMapIt(ShootdownMode.Batched);
        _tlb1.Reply(new InvalidateAcked(eviction.Id, new CpuId(1)));
        Next<PteReplaced>(_memory);
        mm.Tell(new Syscall(new SyscallId(1), new CpuId(1), new SystemCall.Madvise(Faults.Anon, Faults.Anon + 4096, Advice.DontNeed), Faults.Anon), _cpu.Ref);
        Assert.False(Next<SyscallReturned>(_cpu).Failed);
        AssertSilent(_tlb0, _tlb1);                       // no TLB may still cache the page: the swap entry goes without a round
    }

    [Fact]
    public void Exit_flushes_every_cpu_then_walks_find_the_process_gone()
    {
        var mm = Mm();
        mm.Tell(new Syscall(new SyscallId(1), new CpuId(0), SystemCall.Exit.Instance, default), _cpu.Ref);
        foreach (var (tlb, cpu) in new[] { (_tlb0, 0), (_tlb1, 1) })
        {
            var all = Next<Invalidate>(tlb);
            Assert.True(all.Scope.All);
            tlb.Reply(new InvalidateAcked(all.Id, new CpuId(cpu)));
        }
        Assert.Equal(ProcessFate.Exited, Next<ProcessEnded>(_machine).Fate);
        Next<SyscallReturned>(_cpu);
        mm.Tell(new Walk(new FaultId(5), new CpuId(1), Faults.Anon, AccessKind.Read, AccessMode.User, Faults.Anon, false), _tlb1.Ref);
        Assert.Equal(ProcessFate.Exited, Next<WalkRefused>(_tlb1).Fate);
    }

    [Fact]
    public void A_walk_waits_while_a_syscall_holds_the_mmap_lock()
    {
        var mm = Mm();
        mm.Tell(new Syscall(new SyscallId(1), new CpuId(0), new SystemCall.Munmap(Faults.Anon, Faults.Anon + 4096), default), _cpu.Ref);
        var local = Next<Invalidate>(_tlb0);
        var remote = Next<Invalidate>(_tlb1);
        mm.Tell(new Walk(new FaultId(5), new CpuId(1), Faults.File, AccessKind.Read, AccessMode.User, Faults.Anon, false), _tlb1.Ref);
        AssertSilent(_loaders);                           // the fault waits for the lock
        _tlb0.Reply(new InvalidateAcked(local.Id, new CpuId(0)));
        _tlb1.Reply(new InvalidateAcked(remote.Id, new CpuId(1)));
        Next<SyscallReturned>(_cpu);
        Next<ResolveFault>(_loaders);
    }

    private static Syscall ForkCall => new(new SyscallId(2), new CpuId(0), new SystemCall.Fork("child", new ProcessId(2)), Faults.Anon);

    [Fact]
    public void Fork_holds_the_mmap_lock_while_the_child_gets_its_copy_and_its_references_are_counted()
    {
        var mm = Mm();
        mm.Tell(ForkCall, _cpu.Ref);                      // the only page is copy-on-write already: nothing to shoot down
        var copy = Next<StartForked>(_child).Setup;       // the child's mm, found in the directory
        Assert.Equal(("child", new Asid(2), Faults.Anon.Page), (copy.Name, copy.Asid, copy.Entries.Single().Page));
        mm.Tell(new Walk(new FaultId(5), new CpuId(1), Faults.File, AccessKind.Read, AccessMode.User, Faults.Anon, false), _tlb1.Ref);
        var add = Next<AddReferences>(_memory);
        Assert.Equal(new Asid(2), add.ChildAsid);
        AssertSilent(_loaders, _cpu, _machine);           // the walk waits for the lock, the call has not returned, no CPU may run the child
        _memory.Reply(new ReferencesAdded(add.Id));
        var ready = Next<ProcessReady>(_machine);
        Assert.Equal(("child", new ProcessId(2), Faults.Anon), (ready.Name, ready.Pid, ready.StackPointer));
        Assert.False(Next<SyscallReturned>(_cpu).Failed);
        Next<ResolveFault>(_loaders);                     // the lock is free: the walk goes on
    }

    [Fact]
    public void Mm_fails_the_run_on_a_message_its_state_does_not_take()
    {
        var mm = Mm();
        mm.Tell(new ReferencesAdded(3), _memory.Ref);     // no fork is under way
        Assert.Equal($"protocol error: {mm.Path.Name} in state Ready got an unexpected ReferencesAdded: ReferencesAdded {{ Id = 3 }}", ProtocolError());
    }

    [Fact]
    public void Mm_fails_the_run_on_the_reply_to_another_request_while_it_forks()
    {
        var mm = Mm();
        mm.Tell(ForkCall, _cpu.Ref);
        var add = Next<AddReferences>(_memory);
        mm.Tell(new ReferencesAdded(add.Id + 1), _memory.Ref);
        Assert.StartsWith($"protocol error: {mm.Path.Name} in state Referencing got an unexpected ReferencesAdded", ProtocolError());
    }

    [Fact]
    public void Mm_waiting_past_its_bound_for_the_childs_references_fails_the_run_naming_the_fork()
    {
        var mm = Mm(waitBound: TimeSpan.FromMilliseconds(2));
        mm.Tell(ForkCall, _cpu.Ref);
        var error = ProtocolError();                      // memory never answers
        Assert.StartsWith($"protocol stuck: {mm.Path.Name} waited more than 2 ms in state Referencing for memory to count the child's references (ReferencesAdded), pending Fork {{ Syscall = Syscall {{ Id = SyscallId {{ Value = 2 }}", error);
        Assert.EndsWith("(faultsim.actors.wait-bound)", error);
        _memory.ExpectMsg<AddReferences>(TimeSpan.Zero);
        AssertSilent(_cpu);
    }

    [Fact]
    public void A_forked_childs_mm_holds_what_reaches_it_before_its_copy_and_then_serves_it_from_the_copy()
    {
        var child = Spawn(AddressSpaceActor.Props(new Asid(2), setup: null, Settings(), RunContext.Live));
        Connect(child, Peers(child) with { AddressSpaces = ImmutableDictionary<Asid, IActorRef>.Empty.Add(new Asid(2), child) });
        Assert.Equal("Unborn", StateOf(child));
        child.Tell(new Walk(new FaultId(1), new CpuId(0), Faults.Anon, AccessKind.Read, AccessMode.User, Faults.Anon, false), _tlb0.Ref);
        AssertSilent(_tlb0, _loaders);                    // no address space yet: the walk waits
        var space = Faults.AddressSpace();
        child.Tell(new StartForked(new AddressSpaceSetup(new ProcessId(2), "child", new Asid(2), [.. space.Vmas.All],
            [(Faults.Anon.Page, Faults.Present(Old, PteFlags.Cow))], ImmutableDictionary<string, (VirtualAddress, ulong)>.Empty, Faults.Anon)));
        Assert.Equal(Old, Next<Walked>(_tlb0).Translation.Frame);
        Assert.Equal("Ready", StateOf(child));
    }

    [Fact]
    public void Mm_waiting_past_its_bound_for_shootdown_acknowledgements_fails_the_run_in_state_flushing()
    {
        var mm = Mm(waitBound: TimeSpan.FromMilliseconds(2));
        mm.Tell(new Syscall(new SyscallId(1), new CpuId(0), new SystemCall.Munmap(Faults.Anon, Faults.Anon + 4096), default), _cpu.Ref);
        var error = ProtocolError();                      // neither TLB acknowledges
        Assert.Contains("in state Flushing for the acknowledgements of its shootdown rounds (ShootdownCompleted), pending Call", error);
    }

    [Fact]
    public void Mm_whose_locked_calls_end_within_the_bound_runs_as_without_one()
    {
        var mm = Mm(waitBound: TimeSpan.FromMilliseconds(2));
        foreach (var (tlb, cpu) in new[] { (_tlb0, 0), (_tlb1, 1) })
        {
            tlb.SetAutoPilot(new DelegateAutoPilot((sender, message) =>
            {
                if (message is Invalidate invalidate)
                    sender.Tell(new InvalidateAcked(invalidate.Id, new CpuId(cpu)), ActorRefs.NoSender); // at once: well within the bound
                return AutoPilot.KeepRunning;
            }));
        }
        mm.Tell(new Syscall(new SyscallId(1), new CpuId(0), new SystemCall.Munmap(Faults.Anon, Faults.Anon + 4096), default), _cpu.Ref);
        Assert.False(Next<SyscallReturned>(_cpu).Failed);  // Next ran every check due: none failed
        Assert.Equal(Old, Next<ReleasePages>(_memory).Pages.Single().Frame);
    }
}

using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Faultsim.Actors;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Actors;

/// <summary>
/// The page loader with a probe for each collaborator: memory, the disk, the machine, the mm, the router (its parent,
/// which hears its idle reports) and each faulting CPU's TLB.
/// </summary>
public sealed class PageLoaderSpec : DeterministicSpec
{
    private readonly TestProbe _memory, _disk, _machine, _mm, _router;
    private readonly TestProbe[] _tlbs;

    public PageLoaderSpec()
    {
        (_memory, _disk, _machine, _mm, _router) =
            (CreateTestProbe("memory"), CreateTestProbe("disk"), CreateTestProbe("machine"), CreateTestProbe("mm"), CreateTestProbe("router"));
        _tlbs = [CreateTestProbe("tlb0"), CreateTestProbe("tlb1"), CreateTestProbe("tlb2")];
    }

    /// <summary>The run's directory as a loader sees it: every peer a probe, the loaders' routing point the router probe.</summary>
    private ActorDirectory Peers() => new()
    {
        Machine = _machine.Ref, Memory = _memory.Ref, Disk = _disk.Ref, Loaders = _router.Ref,
        Tlbs = [.. _tlbs.Select(t => t.Ref)],
        AddressSpaces = ImmutableDictionary<Asid, IActorRef>.Empty.Add(Faults.Asid, _mm.Ref),
    };

    private IActorRef Loader(RunContext? run = null) => Spawn(PageLoaderActor.Props(Peers(), run ?? RunContext.Live, 1), parent: _router);

    /// <summary>A router of real loaders, connected as the machine connects it: the loaders report idle to it.</summary>
    private IActorRef Router()
    {
        var router = Spawn(PageLoaderRouter.Props((peers, seed) => PageLoaderActor.Props(peers, RunContext.Live, seed), RunContext.Live, 1));
        Connect(router, Peers() with { Loaders = router });
        return router;
    }

    private TestProbe Tlb(int cpu) => _tlbs[cpu];

    [Fact]
    public void Loader_should_issue_one_disk_read_when_three_cpus_fault_together()
    {
        var loader = Loader();
        var tlbs = new[] { Tlb(0), Tlb(1), Tlb(2) };
        for (var i = 0; i < 3; i++)
            loader.Tell(Faults.At(i + 1, Faults.File, AccessKind.Read, cpu: i));

        var lookUp = Next<LookUp>(_memory);
        Assert.Equal(new MemoryQuery.OfFile(new FilePage(new FileId(0), 0)), lookUp.Query);
        _memory.Reply(new LookedUp(lookUp.Id, new CacheAnswer.Reserved(Faults.Frame, 3)));
        var read = Next<ReadPage>(_disk);
        AssertSilent([.. tlbs, _mm, _router]);            // nobody is woken before the PTE is installed, and the load is not over
        _disk.Reply(new PageRead(read.Id, [1, 2, 3, 4, 5, 6, 7, 8]));

        var prepare = Next<Prepare>(_memory);
        var done = Assert.IsType<Preparation.ReadDone>(prepare.What);
        Assert.Equal(Faults.Frame, done.Frame);
        Assert.Equal(3, prepare.Then.Waiters.Length);     // the leader and two followers travel with the install
        Assert.Equal(new FaultId(1), prepare.Then.Waiters[0].Id);
        Assert.True(prepare.Then.Report.DiskRead);
        Assert.Equal(ResolutionKind.Major, prepare.Then.Report.Kind);
        Assert.Equal(new PageKey(Faults.Asid, Faults.File.Page), Next<LoaderIdle>(_router).Page); // handed off: free for another page
        AssertSilent(_disk);                              // still exactly one read
    }

    [Fact]
    public void Loader_should_hand_a_demand_zero_fault_to_memory_with_the_pte_it_expects()
    {
        var loader = Loader();
        var tlb = Tlb(0);
        loader.Tell(Faults.At(1, Faults.Anon, AccessKind.Write));
        var prepare = Next<Prepare>(_memory);
        Assert.IsType<Preparation.ZeroFilled>(prepare.What);
        Assert.True(prepare.Then.Expected.IsNone);
        AssertSilent(_mm, tlb);                           // memory passes the PTE on once the frame exists: the loader neither installs nor wakes
    }

    [Fact]
    public void Loader_should_install_the_zero_page_for_a_first_read_without_asking_memory()
    {
        var loader = Loader();
        var install = SendAndExpectInstall(loader, Faults.At(1, Faults.Anon, AccessKind.Read));
        Assert.Equal(FrameNumber.Zero, install.New.Frame);
        Assert.False(install.New.IsWritable);
        AssertSilent(_memory);
    }

    [Fact]
    public void Loader_should_kill_only_the_faulting_process_on_sigsegv()
    {
        var loader = Loader();
        var tlb = Tlb(0);
        loader.Tell(Faults.At(1, Faults.ReadOnly, AccessKind.Write));
        Assert.Equal(ProcessFate.KilledBySigSegv, Next<KillProcess>(_mm).Fate);
        var resolved = Next<FaultResolved>(tlb);
        Assert.Equal(FaultOutcome.Killed, resolved.Outcome);
        Assert.Equal(ResolutionKind.SigSegv, resolved.Kind);
        AssertSilent(_machine);                           // the machine goes on: no panic
    }

    [Fact]
    public void Loader_should_return_efault_to_a_system_call_with_a_bad_pointer()
    {
        var loader = Loader();
        var tlb = Tlb(0);
        loader.Tell(Faults.At(1, new VirtualAddress(0x10), AccessKind.Write, AccessMode.UserCopy));
        var resolved = Next<FaultResolved>(tlb);
        Assert.Equal(FaultOutcome.Efault, resolved.Outcome);
        Assert.Equal(ResolutionKind.EfaultFixup, resolved.Kind);
        AssertSilent(_mm, _machine);                      // nobody is killed, and no panic
    }

    [Fact]
    public void Loader_should_turn_a_disk_error_into_sigbus_and_give_the_reserved_read_back()
    {
        var loader = Loader();
        var tlb = Tlb(0);
        loader.Tell(Faults.At(1, Faults.File, AccessKind.Read));
        var lookUp = Next<LookUp>(_memory);
        _memory.Reply(new LookedUp(lookUp.Id, new CacheAnswer.Reserved(Faults.Frame, 0)));
        _disk.Reply(new PageReadFailed(Next<ReadPage>(_disk).Id));
        Assert.Equal(Faults.Frame, Next<CancelRead>(_memory).Frame);
        Assert.Equal(ProcessFate.KilledBySigBus, Next<KillProcess>(_mm).Fate);
        var resolved = Next<FaultResolved>(tlb);
        Assert.Equal((FaultOutcome.Killed, ResolutionKind.SigBus, true), (resolved.Outcome, resolved.Kind, resolved.DiskRead));
    }

    [Fact]
    public void Loader_should_give_efault_not_sigbus_for_a_disk_error_under_a_user_copy()
    {
        var loader = Loader();
        var tlb = Tlb(0);
        loader.Tell(Faults.At(1, Faults.File, AccessKind.Read, AccessMode.UserCopy));
        _memory.Reply(new LookedUp(Next<LookUp>(_memory).Id, new CacheAnswer.Reserved(Faults.Frame, 0)));
        _disk.Reply(new PageReadFailed(Next<ReadPage>(_disk).Id));
        Assert.Equal(FaultOutcome.Efault, Next<FaultResolved>(tlb).Outcome);
        AssertSilent(_mm);                                // nobody is killed
    }

    [Fact]
    public void Loader_killed_mid_load_is_restarted_and_every_waiter_resumes()
    {
        var router = Router();
        var tlbs = new[] { Tlb(0), Tlb(1) };
        router.Tell(Faults.At(1, Faults.File, AccessKind.Read));
        router.Tell(Faults.At(2, Faults.File, AccessKind.Read, cpu: 1));
        _memory.Reply(new LookedUp(Next<LookUp>(_memory).Id, new CacheAnswer.Reserved(Faults.Frame, 0)));
        Next<ReadPage>(_disk);                            // mid-load: the read is out

        var asker = CreateTestProbe("asker");
        router.Tell(new GetLoader(new PageKey(Faults.Asid, Faults.File.Page)), asker.Ref);
        var loader = Next<LoaderOf>(asker).Loader!;
        loader.Tell(Kill.Instance);

        foreach (var tlb in tlbs)
        {
            var woken = Next<FaultResolved>(tlb);
            Assert.Equal(FaultOutcome.Retry, woken.Outcome);    // woken to fault again, not lost
            Assert.False(woken.Counted);
        }
        Next<CancelRead>(_memory);                        // the reserved read is given back for the next leader

        router.Tell(Faults.At(3, Faults.File, AccessKind.Read));
        Assert.Equal(new FaultId(3), Next<LookUp>(_memory).Id); // the restarted loader serves the page again
    }

    private InstallPte SendAndExpectInstall(IActorRef loader, ResolveFault fault)
    {
        loader.Tell(fault);
        return Next<InstallPte>(_mm);
    }

    [Fact]
    public void Loader_fails_the_run_on_a_message_its_state_does_not_take()
    {
        var loader = Loader();
        var read = new PageRead(new DiskRequestId(5), [1, 2]);
        loader.Tell(read, _disk.Ref);                     // a read's end, but no read is out
        Assert.Equal($"protocol error: {loader.Path.Name} in state Idle got an unexpected PageRead: {read}", ProtocolError());
    }

    [Fact]
    public void Loader_waiting_past_its_bound_for_memory_fails_the_run_naming_the_fault()
    {
        var loader = Loader(RunContext.Live with { WaitBound = TimeSpan.FromMilliseconds(3) });
        loader.Tell(Faults.At(1, Faults.File, AccessKind.Read));
        var error = ProtocolError();                      // memory never answers the lookup
        Assert.Equal($"protocol stuck: {loader.Path.Name} waited more than 3 ms in state Gathering for memory's answer to its lookup (LookedUp), "
            + $"pending fault 1 on {new PageKey(Faults.Asid, Faults.File.Page)} with 0 follower(s) (faultsim.actors.wait-bound)", error);
    }

    [Fact]
    public void Router_fails_the_run_on_a_loaders_protocol_error_instead_of_restarting_it()
    {
        var router = Router();
        router.Tell(Faults.At(1, Faults.File, AccessKind.Read));
        Next<LookUp>(_memory);                            // the loader waits for memory
        var asker = CreateTestProbe("asker");
        router.Tell(new GetLoader(new PageKey(Faults.Asid, Faults.File.Page)), asker.Ref);
        var loader = Next<LoaderOf>(asker).Loader!;
        loader.Tell(new PageReadFailed(new DiskRequestId(7)), _disk.Ref);
        Assert.StartsWith($"protocol error: {loader.Path.Name} in state Gathering got an unexpected PageReadFailed", ProtocolError());
    }
}

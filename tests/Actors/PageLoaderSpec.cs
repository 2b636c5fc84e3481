using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit.Xunit2;
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

public sealed class PageLoaderSpec : TestKit
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);
    private readonly Akka.TestKit.TestProbe _memory, _disk, _machine, _mm;

    public PageLoaderSpec()
    {
        (_memory, _disk, _machine, _mm) = (CreateTestProbe(), CreateTestProbe(), CreateTestProbe(), CreateTestProbe());
    }

    private IActorRef Loader() => Sys.ActorOf(PageLoaderActor.Props(_memory.Ref, _disk.Ref, _machine.Ref, RunContext.Live, 1));

    [Fact]
    public void Loader_should_issue_one_disk_read_when_three_cpus_fault_together()
    {
        var loader = Loader();
        var cpus = new[] { CreateTestProbe(), CreateTestProbe(), CreateTestProbe() };
        for (var i = 0; i < 3; i++)
            loader.Tell(Faults.At(i + 1, Faults.File, AccessKind.Read, _mm.Ref, cpus[i].Ref, cpu: i));

        var lookUp = _memory.ExpectMsg<LookUp>();
        Assert.Equal(new MemoryQuery.OfFile(new FilePage(new FileId(0), 0)), lookUp.Query);
        _memory.Reply(new LookedUp(lookUp.Id, new CacheAnswer.Reserved(Faults.Frame, 3)));
        var read = _disk.ExpectMsg<ReadPage>();
        foreach (var cpu in cpus)
            cpu.ExpectNoMsg(Quiet);                      // nobody is woken before the PTE is installed
        _disk.Reply(new PageRead(read.Id, [1, 2, 3, 4, 5, 6, 7, 8]));

        var prepare = _memory.ExpectMsg<Prepare>();
        var done = Assert.IsType<Preparation.ReadDone>(prepare.What);
        Assert.Equal(Faults.Frame, done.Frame);
        Assert.Equal(3, prepare.Then.Waiters.Length);     // the leader and two followers travel with the install
        Assert.Equal(new FaultId(1), prepare.Then.Waiters[0].Id);
        Assert.True(prepare.Then.Report.DiskRead);
        Assert.Equal(ResolutionKind.Major, prepare.Then.Report.Kind);
        _disk.ExpectNoMsg(Quiet);                         // still exactly one read
    }

    [Fact]
    public void Loader_should_hand_a_demand_zero_fault_to_memory_with_the_pte_it_expects()
    {
        var loader = Loader();
        var cpu = CreateTestProbe();
        loader.Tell(Faults.At(1, Faults.Anon, AccessKind.Write, _mm.Ref, cpu.Ref));
        var prepare = _memory.ExpectMsg<Prepare>();
        Assert.IsType<Preparation.ZeroFilled>(prepare.What);
        Assert.True(prepare.Then.Expected.IsNone);
        Assert.Equal(_mm.Ref, prepare.AddressSpace);
        _mm.ExpectNoMsg(Quiet);                           // memory passes the PTE on once the frame exists
        cpu.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Loader_should_install_the_zero_page_for_a_first_read_without_asking_memory()
    {
        var loader = Loader();
        var install = SendAndExpectInstall(loader, Faults.At(1, Faults.Anon, AccessKind.Read, _mm.Ref, CreateTestProbe().Ref));
        Assert.Equal(FrameNumber.Zero, install.New.Frame);
        Assert.False(install.New.IsWritable);
        _memory.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Loader_should_kill_only_the_faulting_process_on_sigsegv()
    {
        var loader = Loader();
        var cpu = CreateTestProbe();
        loader.Tell(Faults.At(1, Faults.ReadOnly, AccessKind.Write, _mm.Ref, cpu.Ref));
        Assert.Equal(ProcessFate.KilledBySigSegv, _mm.ExpectMsg<KillProcess>().Fate);
        var resolved = cpu.ExpectMsg<FaultResolved>();
        Assert.Equal(FaultOutcome.Killed, resolved.Outcome);
        Assert.Equal(ResolutionKind.SigSegv, resolved.Kind);
        _machine.ExpectNoMsg(Quiet);                      // the machine goes on
    }

    [Fact]
    public void Loader_should_return_efault_to_a_system_call_with_a_bad_pointer()
    {
        var loader = Loader();
        var cpu = CreateTestProbe();
        loader.Tell(Faults.At(1, new VirtualAddress(0x10), AccessKind.Write, _mm.Ref, cpu.Ref, AccessMode.UserCopy));
        var resolved = cpu.ExpectMsg<FaultResolved>();
        Assert.Equal(FaultOutcome.Efault, resolved.Outcome);
        Assert.Equal(ResolutionKind.EfaultFixup, resolved.Kind);
        _mm.ExpectNoMsg(Quiet);                           // nobody is killed
    }

    [Fact]
    public void Loader_should_turn_a_disk_error_into_sigbus_and_give_the_reserved_read_back()
    {
        var loader = Loader();
        var cpu = CreateTestProbe();
        loader.Tell(Faults.At(1, Faults.File, AccessKind.Read, _mm.Ref, cpu.Ref));
        var lookUp = _memory.ExpectMsg<LookUp>();
        _memory.Reply(new LookedUp(lookUp.Id, new CacheAnswer.Reserved(Faults.Frame, 0)));
        _disk.Reply(new PageReadFailed(_disk.ExpectMsg<ReadPage>().Id));
        Assert.Equal(Faults.Frame, _memory.ExpectMsg<CancelRead>().Frame);
        Assert.Equal(ProcessFate.KilledBySigBus, _mm.ExpectMsg<KillProcess>().Fate);
        var resolved = cpu.ExpectMsg<FaultResolved>();
        Assert.Equal((FaultOutcome.Killed, ResolutionKind.SigBus, true), (resolved.Outcome, resolved.Kind, resolved.DiskRead));
    }

    [Fact]
    public void Loader_should_give_efault_not_sigbus_for_a_disk_error_under_a_user_copy()
    {
        var loader = Loader();
        var cpu = CreateTestProbe();
        loader.Tell(Faults.At(1, Faults.File, AccessKind.Read, _mm.Ref, cpu.Ref, AccessMode.UserCopy));
        _memory.Reply(new LookedUp(_memory.ExpectMsg<LookUp>().Id, new CacheAnswer.Reserved(Faults.Frame, 0)));
        _disk.Reply(new PageReadFailed(_disk.ExpectMsg<ReadPage>().Id));
        Assert.Equal(FaultOutcome.Efault, cpu.ExpectMsg<FaultResolved>().Outcome);
        _mm.ExpectNoMsg(Quiet);
    }

    [Fact]
    public void Loader_killed_mid_load_is_restarted_and_every_waiter_resumes()
    {
        var router = Sys.ActorOf(PageLoaderRouter.Props(seed => PageLoaderActor.Props(_memory.Ref, _disk.Ref, _machine.Ref, RunContext.Live, seed), RunContext.Live, 1));
        var cpus = new[] { CreateTestProbe(), CreateTestProbe() };
        router.Tell(Faults.At(1, Faults.File, AccessKind.Read, _mm.Ref, cpus[0].Ref));
        router.Tell(Faults.At(2, Faults.File, AccessKind.Read, _mm.Ref, cpus[1].Ref, cpu: 1));
        _memory.Reply(new LookedUp(_memory.ExpectMsg<LookUp>().Id, new CacheAnswer.Reserved(Faults.Frame, 0)));
        _disk.ExpectMsg<ReadPage>();                      // mid-load: the read is out

        router.Tell(new GetLoader(new PageKey(Faults.Asid, Faults.File.Page)));
        var loader = ExpectMsg<LoaderOf>().Loader!;
        loader.Tell(Kill.Instance);

        foreach (var cpu in cpus)
        {
            var woken = cpu.ExpectMsg<FaultResolved>();
            Assert.Equal(FaultOutcome.Retry, woken.Outcome);    // woken to fault again, not lost
            Assert.False(woken.Counted);
        }
        _memory.ExpectMsg<CancelRead>();                  // the reserved read is given back for the next leader

        router.Tell(Faults.At(3, Faults.File, AccessKind.Read, _mm.Ref, cpus[0].Ref));
        Assert.Equal(new FaultId(3), _memory.ExpectMsg<LookUp>().Id);  // the restarted loader serves the page again
    }

    private InstallPte SendAndExpectInstall(IActorRef loader, ResolveFault fault)
    {
        loader.Tell(fault);
        return _mm.ExpectMsg<InstallPte>();
    }
}

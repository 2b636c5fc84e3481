using Faultsim.Actors.Monitoring;
using Faultsim.Actors.Scheduling;
using Faultsim.Model.Checking;
using Faultsim.Model.Common;
using Faultsim.Model.Machine;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;
using Faultsim.Tests.Model;

namespace Faultsim.Tests.Actors;

/// <summary>
/// A shared anonymous region (MAP_SHARED|MAP_ANONYMOUS, which Linux backs with shmem) is one memory for a parent and its
/// child after fork: a page either of them touches, before or after the fork, is the other's too. On both engines.
/// </summary>
public sealed class SharedAnonymousMemoryTests : IDisposable
{
    private const VmaFlags SharedRw = VmaFlags.Read | VmaFlags.Write | VmaFlags.Shared;
    private readonly DeterministicEngine _engine = new();

    public void Dispose() => _engine.Dispose();

    private static Workload Workload(ulong size, string script) =>
        Workloads.Make(new MachineSpec { Cpus = 1 }, [Workloads.Process("parent", Workloads.Anon("buf", Workloads.Heap, size, SharedRw))], script);

    private (RunResult Result, IReadOnlyList<LoggedEvent> Events) Actors(Workload workload, ulong seed = 1)
    {
        var run = _engine.Run(workload, ActorEngineTests.Settings, seed, new RandomWalkStrategy(new SimRandom(seed)));
        Assert.True(run.Violation is null, $"{run.Violation}");
        return (run.Result!, run.Log.Tail); // these runs are short: the tail holds every event
    }

    private static ulong LoadedBy(IReadOnlyList<LoggedEvent> events, int pid, ulong page) =>
        events.Select(e => e.Event).OfType<SimEvent.LoadApplied>().Last(l => l.Page.Asid.Value == pid && l.Page.Page.Value == page).Value;

    [Fact]
    public void A_page_written_before_the_fork_and_again_after_it_reads_the_second_write_in_the_child()
    {
        var workload = Workload(4096, "run parent\nstore buf:0 = 0x11\nfork child\nstore buf:0 = 0x22\nrun child\nload buf:0");
        var reference = workload.Run();
        var (actors, events) = Actors(workload);
        Assert.Equal(0x22UL, LoadedBy(events, pid: 2, page: Workloads.Heap >> 12));
        Assert.Null(reference.Memory!.FirstDifference(actors.Memory!));
        var page = Assert.Single(actors.Memory!.Files);
        Assert.Equal(("shmem:pid1#0", 0UL, 0x22UL), (page.File, page.Index, page.Words[0]));
    }

    [Fact]
    public void A_page_the_parent_first_touches_after_the_fork_is_the_childs_too()
    {
        var workload = Workload(8192, "run parent\nstore buf:0 = 0x11\nfork child\nstore buf+0x1000 = 0x77\nrun child\nload buf+0x1000");
        var reference = workload.Run();
        var (actors, events) = Actors(workload);
        Assert.Equal(0x77UL, LoadedBy(events, pid: 2, page: (Workloads.Heap >> 12) + 1));
        Assert.Null(reference.Memory!.FirstDifference(actors.Memory!));
        Assert.Equal([0x11UL, 0x77UL], actors.Memory!.Files.Select(f => f.Words[0]));
        Assert.Equal(0, actors.Of("parent").Counters.PagesCopied + actors.Of("child").Counters.PagesCopied); // nothing copied: one memory
    }

    [Fact]
    public void A_shared_page_touched_first_counts_a_minor_demand_zero_fault_and_survives_eviction_through_the_disk()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 1, Frames = 1 },
            [Workloads.Process("p", Workloads.Anon("buf", Workloads.Heap, 8192, SharedRw))], "run p\nstore buf:0 = 5\nstore buf:1 = 6\nload buf:0");
        var reference = workload.Run();
        var (actors, events) = Actors(workload);
        ActorEngineTests.AssertSameCounts(reference, actors);
        var p = actors.Of("p").Counters;
        Assert.Equal((2L, 1L), (p[Faultsim.Model.Faults.ResolutionKind.DemandZero], p.Major)); // the third access reads page 0 back
        Assert.Equal(5UL, LoadedBy(events, pid: 1, page: Workloads.Heap >> 12));
    }

    [Fact]
    public void Two_shared_regions_of_one_process_are_two_objects_named_in_the_order_they_were_made()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 1 },
            [Workloads.Process("p", Workloads.Anon("a", Workloads.Heap, 4096, SharedRw))],
            "run p\nmmap b 0x20000000 4K rw shared\nstore a:0 = 1\nstore b:0 = 2");
        var (actors, _) = Actors(workload);
        Assert.Equal([("shmem:pid1#0", 1UL), ("shmem:pid1#1", 2UL)], actors.Memory!.Files.Select(f => (f.File, f.Words[0])));
        Assert.Null(workload.Run().Memory!.FirstDifference(actors.Memory!));
    }
}

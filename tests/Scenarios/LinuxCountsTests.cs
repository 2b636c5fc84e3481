using Faultsim.Actors.Scheduling;
using Faultsim.Host.Running;
using Faultsim.Host.Scenarios;
using Faultsim.Model.Checking;
using Faultsim.Model.Common;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Memory;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;
using Faultsim.Tests.Actors;
using Faultsim.Tests.Model;
using static Faultsim.Tests.Model.Workloads;

namespace Faultsim.Tests.Scenarios;

/// <summary>
/// The access patterns whose counts Linux (6.18, x86-64) reports differently from a textbook kernel, each run on both
/// engines — the reference machine and the deterministic actor engine, over several seeds — with the exact getrusage
/// figures Linux gives.
/// </summary>
public sealed partial class LinuxCountsTests : IDisposable
{
    private readonly DeterministicEngine _engine = new();

    public void Dispose() => _engine.Dispose();

    /// <summary>The workload on both engines, every figure alike; the reference machine's result, then each seed's actor run.</summary>
    private IEnumerable<RunResult> Both(Workload workload)
    {
        var reference = workload.Run();
        yield return reference;
        for (ulong seed = 1; seed <= 3; seed++)
        {
            var run = _engine.Run(workload, ActorEngineTests.Settings, seed, new RandomWalkStrategy(new SimRandom(seed)));
            Assert.True(run.Violation is null, $"seed {seed}: {run.Violation}");
            var actors = run.Result ?? throw new Xunit.Sdk.XunitException($"seed {seed}: the run did not finish ({run.Outcome})");
            ActorEngineTests.AssertSameCounts(reference, actors, $"seed {seed}");
            yield return actors;
        }
    }

    /// <summary>A shipped scenario on both engines (its own check of counts against the reference on too).</summary>
    private IEnumerable<RunResult> Scenario(string name)
    {
        var settings = ScenarioCatalog.Load(name, []);
        yield return ReferenceMachine.Run(settings.Workload, 1);
        for (ulong seed = 1; seed <= 3; seed++)
        {
            var report = Runner.Run(settings, settings.Workload, seed, _engine);
            Assert.False(report.Failed, $"{name} seed {seed}: {report.Violation}");
            yield return report.Result!;
        }
    }

    private static Workload OneCpu(string script, int pages = 4) =>
        Make(new MachineSpec { Cpus = 1 }, [Process("p", Anon("buf", Heap, (ulong)pages * 4096))], script);

    [Fact]
    public void Mprotect_read_then_read_write_makes_pages_written_and_owned_alone_writable_so_the_next_write_takes_no_fault()
    {
        foreach (var result in Both(OneCpu("run p\nstore buf:0..3\nmprotect buf r\nmprotect buf rw\nstore buf:0..3")))
        {
            var p = result.Of("p").Counters;
            Assert.Equal(4, p.Minor);                        // the first touches only
            Assert.Equal(0, p[ResolutionKind.CowReuse]);
            Assert.Equal(4, p[ResolutionKind.DemandZero]);
        }
    }

    [Fact]
    public void The_cow_mprotect_scenario_upgrades_the_childs_copies_and_not_the_pages_the_fork_shared()
    {
        foreach (var result in Scenario("cow-mprotect"))
        {
            var (parent, child) = (result.Of("parent").Counters, result.Of("child").Counters);
            Assert.Equal((8, 4, 4), (parent.Minor, parent[ResolutionKind.DemandZero], parent[ResolutionKind.CowReuse]));
            Assert.Equal((4, 4, 0), (child.Minor, child[ResolutionKind.CowBreak], child[ResolutionKind.CowReuse]));
            Assert.Equal(4, child.PagesCopied);
        }
        foreach (var result in Scenario("cow-after-fork"))
            Assert.Equal((4, 0), (result.Of("parent").Counters.Minor, result.Of("parent").Counters[ResolutionKind.CowReuse]));
    }

    private const ulong StackStart = 0x7fff_f000_0000 - 0x1_0000;

    private static Workload FarBelowTheStackPointer(ulong? spWindow) => Make(
        new MachineSpec { Cpus = 1, Stack = StackRules.Linux with { SpWindow = spWindow } },
        [Process("p", Anon("stack", StackStart, 0x1_0000, VmaFlags.Read | VmaFlags.Write | VmaFlags.GrowsDown))],
        "run p\nstore stack-0x20000"); // 128K below the stack, 192K below the stack pointer (64 bytes below its top)

    [Fact]
    public void An_access_far_below_the_stack_pointer_within_the_growth_range_grows_the_stack_by_default()
    {
        foreach (var result in Both(FarBelowTheStackPointer(spWindow: null)))
        {
            var p = result.Of("p");
            Assert.Equal(ProcessFate.Running, p.Fate);
            Assert.Equal((1, 1, 1), (p.Counters.Minor, p.Counters[ResolutionKind.StackGrowth], p.Counters.PagesZeroed));
        }
    }

    [Fact]
    public void With_the_old_x86_window_the_same_access_is_sigsegv()
    {
        foreach (var result in Both(FarBelowTheStackPointer(StackRules.ClassicSpWindow)))
        {
            var p = result.Of("p");
            Assert.Equal(ProcessFate.KilledBySigSegv, p.Fate);
            Assert.Equal((0, 1), (p.Counters.Minor, p.Counters.Segv));
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Cpus_faulting_one_untouched_page_at_once_each_count_a_minor_fault_losers_too(int cpus)
    {
        var scripts = Enumerable.Range(0, cpus).Select(_ => "run p\nbarrier go\nstore buf:0").ToArray();
        var workload = Make(new MachineSpec { Cpus = cpus }, [Process("p", Anon("buf", Heap, 4096))], scripts);
        // The reference machine takes one step at a time: the first CPU's fault installs the page before the others
        // touch it, so they take no fault — the race never arises there.
        Assert.Equal(1, workload.Run().Totals.Minor);
        var lost = 0;
        for (ulong seed = 1; seed <= 40; seed++)
        {
            var run = _engine.Run(workload, ActorEngineTests.Settings, seed, new RandomWalkStrategy(new SimRandom(seed)));
            Assert.True(run.Violation is null, $"seed {seed}: {run.Violation}");
            var totals = run.Result!.Totals;
            var raised = run.Log.Tail.Count(e => e.Event is SimEvent.FaultRaised);
            Assert.Equal(raised, totals.Minor);                 // every CPU that faulted counts its fault, winner or loser
            Assert.Equal(0, run.Log.Tail.Count(e => e.Event is SimEvent.FaultWoken { Counted: false }));
            Assert.Equal(raised, totals[ResolutionKind.DemandZero] + totals.Spurious); // the winner and its followers, and the losers
            lost += (int)totals.Spurious;
        }
        Assert.True(lost > 0, "no seed made a CPU lose the race after the winner's install was on its way");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_instruction_fetch_from_untouched_executable_anonymous_memory_maps_the_zero_page_when_it_is_on(bool zeroPage)
    {
        var workload = Make(new MachineSpec { Cpus = 1, ZeroPage = zeroPage },
            [Process("p", Anon("code", Heap, 4 * 4096, VmaFlags.Read | VmaFlags.Exec))], "run p\nfetch code:0..3\nfetch code:0..3");
        foreach (var result in Both(workload))
        {
            var p = result.Of("p").Counters;
            Assert.Equal(4, p.Minor);                        // the second pass takes no fault
            Assert.Equal(zeroPage ? 4 : 0, p[ResolutionKind.ZeroPageMap]);
            Assert.Equal(zeroPage ? 0 : 4, p.PagesZeroed);
        }
    }

    [Fact]
    public void A_write_to_a_swapped_out_page_still_shared_after_fork_is_one_fault_that_swaps_in_and_copies()
    {
        // Three frames: the child's three other pages push the page it shares with the parent out to swap (LRU).
        var workload = Make(new MachineSpec { Cpus = 1, Frames = 3 },
            [Process("parent", Anon("buf", Heap, 4096), Anon("other", Heap + 0x10_0000, 3 * 4096))],
            "run parent\nstore buf:0\nfork child\nrun child\nstore other:0..2\nstore buf:0\nrun parent\nload buf:0");
        foreach (var result in Both(workload))
        {
            var child = result.Of("child").Counters;
            Assert.Equal((3, 1), (child.Minor, child.Major));  // the other pages, then one fault for the shared one
            Assert.Equal(0, child[ResolutionKind.CowBreak]);
            Assert.Equal(1, child.PagesCopied);                // the copy, inside the swap-in's fault
            Assert.Equal(1, child.DiskReads);
            var pid = result.Of("parent").Pid;
            Assert.Equal(0x1_0000_0000_01UL, result.Memory!.Pages.Single(p => p.Pid == pid && p.Page.Value == Heap >> 12).Words[0]); // the parent's own store
        }
    }

    [Fact]
    public void A_child_faults_again_in_the_vmas_fork_did_not_copy_and_not_where_the_parent_wrote()
    {
        var workload = Make(new MachineSpec { Cpus = 1 },
            [Process("parent", Anon("buf", Heap, 2 * 4096), Anon("zeros", Heap + 0x10_0000, 2 * 4096),
                FileMap("lib", 0x2000_0000, 2 * 4096, "lib"), FileMap("data", 0x3000_0000, 2 * 4096, "data", VmaFlags.Read | VmaFlags.Write | VmaFlags.Shared))],
            "run parent\nstore buf:0..1\nload zeros:0..1\nload lib:0..1\nload data:0..1\nfork child\nrun child\nload buf:0..1\nload zeros:0..1\nload lib:0..1\nload data:0..1")
            .WithFiles(new FileSpec("lib", 2 * 4096), new FileSpec("data", 2 * 4096));
        foreach (var result in Both(workload))
        {
            var child = result.Of("child").Counters;
            Assert.Equal((4, 0), (child.Minor, child.Major));              // none for buf, whose PTEs fork copied
            Assert.Equal(2, child[ResolutionKind.ZeroPageMap]);            // zeros only ever mapped the zero page
            Assert.Equal(2, child[ResolutionKind.PageCacheHit]);           // lib (private, never written) and data (shared): page 0 maps page 1 around it
            var parent = result.Of("parent").Counters;
            Assert.Equal((4, 2), (parent.Minor, parent.Major));          // buf and zeros, then lib and data read from disk (each its two pages at once)
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_kernel_access_outside_a_user_copy_to_a_present_user_page_oopses_with_smap_and_goes_through_without(bool smap)
    {
        var workload = OneCpu("run p\nstore buf:0\nkernel-write buf:0 = 5\nsys-read buf:0\nstore buf:1") with
        {
            Machine = new MachineSpec { Cpus = 1, Smap = smap },
        };
        foreach (var result in Both(workload))
        {
            var p = result.Of("p").Counters;
            Assert.Equal(smap ? 1 : 0, p.Oops);
            Assert.Equal(smap, result.Panic is not null);
            Assert.Equal(smap ? 1 : 2, p.Minor);                 // without SMAP the run goes on: read(2) copies, buf:1 faults in
            Assert.Equal(smap ? 1 : 4, p.Accesses);
        }
    }

    private const ulong FileStart = 0x2000_0000;

    /// <summary>One process on one CPU mapping file <c>f</c> of <paramref name="pages"/> pages (uncached) as region <c>f</c>.</summary>
    private static Workload OneFile(string script, int pages = 32, ReadaheadRules? rules = null, VmaFlags flags = VmaFlags.Read) =>
        Make(new MachineSpec { Cpus = 1, Readahead = rules ?? ReadaheadRules.Linux },
            [Process("p", FileMap("f", FileStart, (ulong)pages * 4096, "f", flags))], script)
            .WithFiles(new FileSpec("f", (ulong)pages * 4096));

    [Fact]
    public void Reading_32_pages_of_an_uncached_file_in_order_is_one_major_fault_and_two_minor_ones()
    {
        foreach (var result in Both(OneFile("run p\nload f:0..31")))
        {
            var p = result.Of("p").Counters;
            Assert.Equal((1, 2), (p.Major, p.Minor));          // page 0 reads the window; 16 and the marker at 24 map from the cache
            Assert.Equal(2, p[ResolutionKind.PageCacheHit]);
            Assert.Equal(1, p.DiskReads);                      // the whole window in one request
            Assert.Equal(32, p.Accesses);
        }
    }

    [Fact]
    public void Without_fault_around_each_cached_page_is_a_minor_fault_and_without_readahead_each_page_a_major_one()
    {
        foreach (var result in Both(OneFile("run p\nload f:0..31", rules: ReadaheadRules.Linux with { FaultAroundPages = 0 })))
            Assert.Equal((1, 31, 1L), (result.Of("p").Counters.Major, result.Of("p").Counters.Minor, result.Of("p").Counters.DiskReads));
        foreach (var result in Both(OneFile("run p\nload f:0..31", rules: ReadaheadRules.Off)))
            Assert.Equal((32, 0, 32L), (result.Of("p").Counters.Major, result.Of("p").Counters.Minor, result.Of("p").Counters.DiskReads));
    }

    [Fact]
    public void A_private_file_page_loaded_then_written_is_one_major_fault_then_a_cow_and_the_next_page_is_minor()
    {
        foreach (var result in Both(OneFile("run p\nload f:0\nstore f:0\nstore f:1", flags: VmaFlags.Read | VmaFlags.Write)))
        {
            var p = result.Of("p").Counters;
            Assert.Equal((1, 2), (p.Major, p.Minor));
            Assert.Equal(2, p[ResolutionKind.CowBreak]);       // page 1 was mapped read-only by fault-around: its write copies it
            Assert.Equal(2, p.PagesCopied);
            Assert.Equal(1, p.DiskReads);
        }
    }

    [Fact]
    public void The_marker_of_a_window_reads_the_next_one_in_one_request()
    {
        foreach (var result in Both(OneFile("run p\nload f:0..63", pages: 64)))
        {
            var p = result.Of("p").Counters;
            Assert.Equal((1, 4), (p.Major, p.Minor));          // 0 major; 16, the marker 24 (reads 32..63), 32 and 48 minor
            Assert.Equal(2, p.DiskReads);
        }
    }

    [Fact]
    public void Windows_grow_on_sequential_hits_up_to_the_maximum()
    {
        // 32 pages, then 64, then 128, then the file's last 32: four requests where windows that do not grow take eight.
        foreach (var result in Both(OneFile("run p\nload f:0..255", pages: 256, rules: ReadaheadRules.Linux with { MaxPages = 128 })))
            Assert.Equal((1, 16, 4L), (result.Of("p").Counters.Major, result.Of("p").Counters.Minor, result.Of("p").Counters.DiskReads));
        foreach (var result in Both(OneFile("run p\nload f:0..255", pages: 256)))
            Assert.Equal((1, 16, 8L), (result.Of("p").Counters.Major, result.Of("p").Counters.Minor, result.Of("p").Counters.DiskReads));
    }

    [Fact]
    public void Madvise_random_reads_each_page_alone_and_sequential_reads_from_the_faulting_page_on()
    {
        foreach (var result in Both(OneFile("run p\nmadvise f random\nload f:0..31")))
            Assert.Equal((32, 0, 32L), (result.Of("p").Counters.Major, result.Of("p").Counters.Minor, result.Of("p").Counters.DiskReads));
        // Sequential: the window starts at page 0 with its marker halfway, at 16, which fault-around from 0 leaves alone.
        foreach (var result in Both(OneFile("run p\nmadvise f sequential\nload f:0..31")))
            Assert.Equal((1, 1, 1L), (result.Of("p").Counters.Major, result.Of("p").Counters.Minor, result.Of("p").Counters.DiskReads));
        // normal undoes random.
        foreach (var result in Both(OneFile("run p\nmadvise f random\nmadvise f normal\nload f:0..31")))
            Assert.Equal((1, 2, 1L), (result.Of("p").Counters.Major, result.Of("p").Counters.Minor, result.Of("p").Counters.DiskReads));
    }

    [Fact]
    public void Madvise_willneed_reads_the_range_ahead_so_the_reads_after_it_are_minor()
    {
        foreach (var result in Both(OneFile("run p\nmadvise f willneed\nload f:0..31")))
        {
            var p = result.Of("p").Counters;
            Assert.Equal((0, 2), (p.Major, p.Minor));          // 0 and 16, each mapping its 16 pages from the cache
            Assert.Equal(1, p.DiskReads);                      // one window of the maximum size
            Assert.Equal(0, p.SyscallErrors);
        }
        foreach (var result in Both(OneFile("run p\nmadvise f+0x100000 4096 willneed")))
            Assert.Equal(1, result.Of("p").Counters.SyscallErrors); // ENOMEM: nothing mapped there
    }

    [Fact]
    public void Readahead_takes_only_free_frames()
    {
        var workload = OneFile("run p\nload f:0..31") with { Machine = new MachineSpec { Cpus = 1, Frames = 4 } };
        foreach (var result in Both(workload))
        {
            // Page 0's window gets the three frames left (pages 1..3, mapped around it); from page 4 on memory is full, so
            // each fault evicts one page for its own and reads nothing ahead.
            var p = result.Of("p").Counters;
            Assert.Equal((29, 0, 29L, 28L), (p.Major, p.Minor, p.DiskReads, p.PagesEvicted));
        }
    }

    [Fact]
    public void A_fault_on_a_page_being_read_ahead_by_another_cpu_waits_for_that_read_as_a_follower()
    {
        var workload = Make(new MachineSpec { Cpus = 2 }, [Process("p", FileMap("f", FileStart, 32 * 4096, "f"))],
            "run p\nbarrier go\nload f:0", "run p\nbarrier go\nload f:5").WithFiles(new FileSpec("f", 32 * 4096));
        var waited = 0;
        for (ulong seed = 1; seed <= 30; seed++)
        {
            var run = _engine.Run(workload, ActorEngineTests.Settings, seed, new RandomWalkStrategy(new SimRandom(seed)));
            Assert.True(run.Violation is null, $"seed {seed}: {run.Violation}");
            var p = run.Result!.Of("p").Counters;
            Assert.Equal(1, p.DiskReads);                      // whichever faults first reads the other's page too
            Assert.Equal(2, p.Major + p.Minor);
            waited += p.Major == 2 ? 1 : 0;                     // the other waited for that read: a major fault, as Linux counts it
        }
        Assert.True(waited > 0, "no seed made a CPU wait for the other's readahead");
    }
}

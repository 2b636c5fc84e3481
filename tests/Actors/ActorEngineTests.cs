using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Common;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Replacement;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;
using Faultsim.Tests.Model;
using Faultsim.Tests.Scenarios;

namespace Faultsim.Tests.Actors;

/// <summary>
/// Whole runs of the actor engine, held against the reference machine. They run deterministically (a seed decides the
/// interleaving, with typical latencies on the virtual clock) and the invariant monitor watches every one.
/// </summary>
public sealed class ActorEngineTests : IDisposable
{
    private const string SerializeEverything = "akka.actor.serialize-messages = on";

    /// <summary>What the CLI's deterministic runs use: typical latencies, jittered by the seed, and the disk's time waited.</summary>
    public static readonly EngineSettings Settings = EngineSettings.Default with
    {
        Run = RunContext.Live with { Latencies = Latencies.Typical with { Jitter = 0.2 } },
        TimedDisk = true,
    };

    private DeterministicEngine? _engine, _serializing;

    public void Dispose()
    {
        _engine?.Dispose();
        _serializing?.Dispose();
    }

    private RunResult Actors(Workload workload, ulong seed = 1) => Run(_engine ??= new DeterministicEngine(), workload, seed);

    /// <summary>A run on an engine whose every message goes through the serializer and back.</summary>
    private RunResult Serialized(Workload workload, ulong seed = 1) =>
        Run(_serializing ??= new DeterministicEngine(SerializeEverything), workload, seed);

    private static RunResult Run(DeterministicEngine engine, Workload workload, ulong seed)
    {
        var run = engine.Run(workload, Settings, seed, new RandomWalkStrategy(new SimRandom(seed)));
        if (run.Reply is RunFailed failed)
            throw new WorkloadException(failed.Line, failed.Message);
        Assert.True(run.Violation is null, $"seed {seed}: {run.Violation}");
        return run.Result ?? throw new Xunit.Sdk.XunitException($"seed {seed}: the run did not finish ({run.Outcome}, {run.Reply})");
    }

    [Fact]
    public void Four_processes_faulting_one_file_page_read_it_from_disk_once()
    {
        var processes = Enumerable.Range(0, 4).Select(i => Workloads.Process($"p{i}", Workloads.FileMap("lib", 0x2000_0000, 4096, "lib"))).ToArray();
        var workload = Workloads.Make(new MachineSpec { Cpus = 4 }, [.. processes],
            "run p0\nload lib:0", "run p1\nload lib:0", "run p2\nload lib:0", "run p3\nload lib:0").WithFiles(new FileSpec("lib", 4096));
        for (ulong seed = 1; seed <= 20; seed++)
        {
            var result = Actors(workload, seed);
            Assert.Equal(1, result.Totals.DiskReads);
            Assert.Equal(4, result.Totals.Total);    // each process faults once: the reader, then waiters or page-cache hits
            Assert.Empty(result.Violations);
        }
    }

    [Fact]
    public void Four_threads_faulting_one_page_read_it_once_and_every_thread_resumes()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 4 }, [Workloads.Process("p", Workloads.FileMap("lib", 0x2000_0000, 4096, "lib"))],
            "run p\nload lib:0", "run p\nload lib:0", "run p\nload lib:0", "run p\nload lib:0").WithFiles(new FileSpec("lib", 4096));
        for (ulong seed = 1; seed <= 20; seed++)
        {
            var result = Actors(workload, seed);
            Assert.Equal(1, result.Totals.DiskReads);
            Assert.InRange(result.Totals.Total, 1, 4);   // followers count a fault; threads that walk after the install do not
            Assert.Equal(4, result.Totals.Accesses);
        }
    }

    [Theory]
    [InlineData("run p\nstore buf:0..3", ResolutionKind.DemandZero, 4)]
    [InlineData("run p\nload buf:0..3", ResolutionKind.ZeroPageMap, 4)]
    [InlineData("run p\nstore buf:0\nfork c\nrun c\nstore buf:0", ResolutionKind.CowBreak, 1)]
    [InlineData("run p\nstore buf:0\nfork c\nmunmap buf\nrun c\nstore buf:0", ResolutionKind.CowReuse, 1)]
    [InlineData("run p\nsp stack-8\nstore stack-8", ResolutionKind.StackGrowth, 1)]
    [InlineData("run p\nload lib:0\nstore lib:0", ResolutionKind.Major, 1)]
    [InlineData("run p\nstore 0x10", ResolutionKind.SigSegv, 1)]
    [InlineData("run p\nload lib:5", ResolutionKind.SigBus, 1)]
    [InlineData("run p\nsys-read 0x10\nstore buf:0", ResolutionKind.EfaultFixup, 1)]
    [InlineData("run p\nkernel-read 0x10", ResolutionKind.KernelOops, 1)]
    public void Each_resolution_is_reached_and_counted_as_the_reference_machine_counts_it(string script, ResolutionKind kind, int count)
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 1 },
        [
            Workloads.Process("p",
                Workloads.Anon("buf", Workloads.Heap, 16 * 4096),
                Workloads.FileMap("lib", 0x2000_0000, 8 * 4096, "lib", VmaFlags.Read | VmaFlags.Write),
                Workloads.Anon("stack", 0x7000_0000, 16 * 4096, VmaFlags.Read | VmaFlags.Write | VmaFlags.GrowsDown)),
        ], script).WithFiles(new FileSpec("lib", 4 * 4096));
        var reference = workload.Run();
        var actors = Actors(workload);
        Assert.Equal(count, actors.Totals[kind]);
        AssertSameCounts(reference, actors);
        Assert.Equal(reference.Panic is null, actors.Panic is null);
    }

    [Fact]
    public void Sigsegv_ends_only_its_process()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 2 },
            [Workloads.Process("bad", Workloads.Anon("buf", Workloads.Heap, 4096)), Workloads.Process("good", Workloads.Anon("buf", Workloads.Heap, 4 * 4096))],
            "run bad\nstore 0x10\nstore buf:0", "run good\nstore buf:0..3");
        var result = Actors(workload);
        Assert.Equal(ProcessFate.KilledBySigSegv, result.Of("bad").Fate);
        Assert.Equal(0, result.Of("bad").Counters.Accesses);      // its later store never ran
        Assert.Equal(ProcessFate.Running, result.Of("good").Fate);
        Assert.Equal(4, result.Of("good").Counters.Minor);
    }

    [Fact]
    public void A_disk_error_gives_sigbus_and_the_machine_goes_on()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 2, Disk = new DiskFailures(0, [("lib", 0)]) },
            [Workloads.Process("reader", Workloads.FileMap("lib", 0x2000_0000, 4096, "lib")), Workloads.Process("other", Workloads.Anon("buf", Workloads.Heap, 4096))],
            "run reader\nload lib:0", "run other\nstore buf:0").WithFiles(new FileSpec("lib", 4096));
        var result = Actors(workload);
        Assert.Equal(ProcessFate.KilledBySigBus, result.Of("reader").Fate);
        Assert.Equal(1, result.Of("reader").Counters.Bus);
        Assert.Equal(1, result.Of("other").Counters.Minor);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Race_free_workloads_give_the_reference_machines_counts_and_final_memory(int cpus)
    {
        for (ulong seed = 1; seed <= 30; seed++)
        {
            var workload = RaceFreeWorkloads.Generate(seed * 7919 + (ulong)cpus, cpus);
            var reference = workload.Run(seed);
            var actors = Actors(workload, seed);
            AssertSameCounts(reference, actors, $"seed {seed}, {cpus} CPUs");
            Assert.Empty(actors.Violations);
        }
    }

    [Fact]
    public void Every_message_crosses_a_serializer_unchanged()
    {
        for (ulong seed = 1; seed <= 4; seed++)
        {
            var workload = RaceFreeWorkloads.Generate(seed, 3);
            AssertSameCounts(workload.Run(seed), Serialized(workload, seed), $"seed {seed}");
        }
        var fork = Workloads.Make(new MachineSpec { Cpus = 2 }, [Workloads.Process("p", Workloads.Anon("buf", Workloads.Heap, 8 * 4096))],
            "run p\nstore buf:0..7\nfork c\nbarrier forked\nstore buf:0..3\nbarrier done",
            "barrier forked\nrun c\nstore buf:4..7\nbarrier done\nexit");
        AssertSameCounts(fork.Run(), Serialized(fork));
    }

    [Theory]
    [InlineData(ReplacementPolicyKind.Fifo, 3, 15)]
    [InlineData(ReplacementPolicyKind.Lru, 3, 12)]
    [InlineData(ReplacementPolicyKind.Clock, 3, 14)]
    [InlineData(ReplacementPolicyKind.Opt, 3, 9)]
    public void Reference_strings_evict_as_the_textbook_counts(ReplacementPolicyKind policy, int frames, int faults)
    {
        var refs = ReferenceString.Parse("7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1");
        var result = Actors(ReferenceString.ToWorkload(refs, frames, policy, new MachineSpec()));
        Assert.Equal(faults, result.Totals.Total);
        Assert.Equal(result.Totals.Major, result.Totals.DiskReads);   // every re-touch reads its page back from swap
    }

    [Fact]
    public void Fifo_shows_beladys_anomaly_on_actors_too()
    {
        var refs = ReferenceString.Parse("1,2,3,4,1,2,5,1,2,3,4,5");
        Assert.Equal(9, Actors(ReferenceString.ToWorkload(refs, 3, ReplacementPolicyKind.Fifo, new MachineSpec())).Totals.Total);
        Assert.Equal(10, Actors(ReferenceString.ToWorkload(refs, 4, ReplacementPolicyKind.Fifo, new MachineSpec())).Totals.Total);
    }

    [Theory]
    [InlineData(ReplacementPolicyKind.Lru)]
    [InlineData(ReplacementPolicyKind.Fifo)]
    public void One_cpu_under_memory_pressure_evicts_exactly_as_the_reference_machine(ReplacementPolicyKind policy)
    {
        for (ulong seed = 1; seed <= 6; seed++)
        {
            var workload = RaceFreeWorkloads.Generate(seed, 1);
            workload = workload with { Machine = workload.Machine with { Frames = 6, Policy = policy } };
            var reference = workload.Run(seed);
            var actors = Actors(workload, seed);
            AssertSameCounts(reference, actors, $"seed {seed}");
            Assert.Equal(reference.Totals.PagesEvicted, actors.Totals.PagesEvicted);
            Assert.Equal(reference.Totals.DiskWrites, actors.Totals.DiskWrites);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Many_cpus_under_memory_pressure_lose_no_write(int cpus)
    {
        for (ulong seed = 1; seed <= 6; seed++)
        {
            var workload = RaceFreeWorkloads.Generate(seed * 31, cpus);
            workload = workload with { Machine = workload.Machine with { Frames = 4 * cpus } };
            var reference = workload.Run(seed);
            var actors = Actors(workload, seed);
            Assert.Empty(actors.Violations);
            Assert.True(actors.Totals.PagesEvicted > 0, $"seed {seed}: memory was never short");
            // Which pages are evicted depends on the interleaving; what memory holds at the end does not.
            Assert.True(reference.Memory!.FirstDifference(actors.Memory!) is null, $"seed {seed}: {reference.Memory.FirstDifference(actors.Memory!)}");
        }
    }

    [Fact]
    public void Madvise_pageout_swaps_a_page_out_and_the_next_touch_reads_it_back()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 1 }, [Workloads.Process("p", Workloads.Anon("buf", Workloads.Heap, 4 * 4096))],
            "run p\nstore buf:0..3\nmadvise buf pageout\nload buf:0..3");
        var reference = workload.Run();
        var actors = Actors(workload);
        AssertSameCounts(reference, actors);
        Assert.Equal(4, actors.Totals.Major);
        Assert.Equal(4, actors.Totals.PagesEvicted);
    }

    [Fact]
    public void A_deadlocked_workload_fails_with_the_line_of_the_barrier()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 2 }, [Workloads.Process("p", Workloads.Anon("buf", Workloads.Heap, 4096))],
            "run p\nbarrier b\nbarrier b", "run p\nbarrier b\nstore buf:0");
        var error = Assert.Throws<WorkloadException>(() => Actors(workload));
        Assert.Equal(3, error.Line);                              // cpu 0's second arrival, which cpu 1 never matches
        Assert.Contains("barrier 'b'", error.Message);
    }

    /// <summary>Every figure of <paramref name="actual"/> is <paramref name="expected"/>'s (the model's one comparison, as invariant 6 makes it).</summary>
    internal static void AssertSameCounts(RunResult expected, RunResult actual, string context = "")
    {
        var differences = RunComparison.Differences(actual, expected).Select(d => d.Description).ToList();
        Assert.True(differences.Count == 0, $"{context}: {string.Join("; ", differences)}");
    }
}

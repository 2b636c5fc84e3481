using Faultsim.Actors.Machine;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;
using Faultsim.Tests.Model;
using Faultsim.Tests.Scenarios;

namespace Faultsim.Tests.Actors;

/// <summary>
/// The engine in live mode (Akka's own dispatcher on real threads, as `--mode live` and the benchmarks run it): whatever the
/// threads' timing, the protocol gives the reference machine's counts and memory. No test here depends on that timing.
/// </summary>
public sealed class LiveEngineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    [Fact]
    public void Live_threads_faulting_one_file_page_read_it_once()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 4 }, [Workloads.Process("p", Workloads.FileMap("lib", 0x2000_0000, 4096, "lib"))],
            "run p\nload lib:0", "run p\nload lib:0", "run p\nload lib:0", "run p\nload lib:0").WithFiles(new FileSpec("lib", 4096));
        for (ulong seed = 1; seed <= 3; seed++)
        {
            var result = ActorEngine.Run(workload, EngineSettings.Default, seed, Timeout);
            Assert.Equal(1, result.Totals.DiskReads);
            Assert.Equal(4, result.Totals.Accesses);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Live_race_free_workloads_give_the_reference_machines_counts_and_final_memory(int cpus)
    {
        for (ulong seed = 1; seed <= 4; seed++)
        {
            var workload = RaceFreeWorkloads.Generate(seed * 104729 + (ulong)cpus, cpus);
            var actors = ActorEngine.Run(workload, EngineSettings.Default, seed, Timeout);
            ActorEngineTests.AssertSameCounts(workload.Run(seed), actors, $"seed {seed}, {cpus} CPUs");
            Assert.Empty(actors.Violations);
        }
    }
}

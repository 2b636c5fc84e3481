using Faultsim.Actors.Scheduling;
using Faultsim.Host.Running;
using Faultsim.Host.Scenarios;
using Faultsim.Model.Faults;

namespace Faultsim.Tests.Scenarios;

/// <summary>A deterministic run is a function of (config, seed): its event log, byte for byte.</summary>
public class DeterminismTests
{
    private static readonly string GoldenDirectory = Path.Combine(AppContext.BaseDirectory, "Golden");

    [Fact]
    public void The_same_seed_gives_the_same_event_log_on_a_fresh_engine_and_on_one_that_ran_other_seeds()
    {
        var settings = ScenarioCatalog.Load("evict-race", []);
        var (freshLog, againLog) = (new WholeLog(), new WholeLog());
        var fresh = Runner.Run(settings, settings.Workload, seed: 5, sink: freshLog);
        using var reused = new DeterministicEngine();
        foreach (var other in new ulong[] { 1, 2, 3 })
            Runner.Run(settings, settings.Workload, other, reused);
        var again = Runner.Run(settings, settings.Workload, seed: 5, reused, againLog);

        Assert.NotEmpty(freshLog.Lines);
        Assert.Equal(freshLog.Lines, againLog.Lines);
        Assert.Equal(fresh.Log!.Hash, again.Log!.Hash);
        Assert.Equal(fresh.Result!.Memory!.Hash, again.Result!.Memory!.Hash);
    }

    [Fact]
    public void Different_seeds_interleave_a_race_differently()
    {
        var settings = ScenarioCatalog.Load("herd", []);
        using var engine = new DeterministicEngine();
        var hashes = Enumerable.Range(1, 20).Select(seed => Runner.Run(settings, settings.Workload, (ulong)seed, engine).Log!.Hash).ToHashSet();
        Assert.True(hashes.Count >= 10, $"20 seeds gave only {hashes.Count} different event logs");
    }

    [Theory]
    [InlineData("herd", 7, "random")]
    [InlineData("fork-cow-race", 3, "pct")]
    [InlineData("munmap-race", 11, "random")]
    public void A_scenario_and_seed_give_exactly_the_golden_event_log(string scenario, ulong seed, string strategy)
    {
        var settings = ScenarioCatalog.Load(scenario, [$"explore.strategy={strategy}"]);
        var whole = new WholeLog();
        Runner.Run(settings, settings.Workload, seed, sink: whole);
        var log = whole.Text;
        var golden = Path.Combine(GoldenDirectory, $"{scenario}-{strategy}-seed{seed}.log");
        if (Environment.GetEnvironmentVariable("FAULTSIM_UPDATE_GOLDEN") is { } sourceDirectory)
        {
            // Regenerated only on purpose: FAULTSIM_UPDATE_GOLDEN=<the repository's tests/Golden directory>.
            File.WriteAllText(Path.Combine(sourceDirectory, Path.GetFileName(golden)), log);
            return;
        }
        Assert.True(File.Exists(golden), $"no golden log {golden}; regenerate with FAULTSIM_UPDATE_GOLDEN=$PWD/tests/Golden");
        Assert.Equal(File.ReadAllText(golden), log);
    }

    [Fact]
    public void Fault_latency_is_measured_in_virtual_time_as_the_sum_of_the_configured_steps()
    {
        var settings = ScenarioCatalog.Load("herd", ["latency.jitter=0", "latency.page-walk=50ns", "latency.fault-entry=1us",
            "latency.fault-exit=500ns", "machine.disk.latency=80us", "machine.disk.bandwidth=100M"]);
        var result = Runner.Run(settings, settings.Workload, seed: 1).Result!;
        var major = result.FaultLatency.Single(l => l.Kind == ResolutionKind.Major);
        var transfer = TimeSpan.FromSeconds(4 * 4096.0 / settings.Actors.DiskBandwidth).Ticks * 100;
        // The leader's fault (the slowest): walk, entry, the disk's latency once and its transfer of the readahead window
        // (the file's four pages, one request), exit.
        Assert.Equal(50 + 1_000 + 80_000 + transfer + 500, major.Max);
    }
}

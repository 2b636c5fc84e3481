using Faultsim.Actors.Scheduling;
using Faultsim.Host.Running;
using Faultsim.Host.Scenarios;

namespace Faultsim.Tests.Scenarios;

public class ScenarioCatalogTests
{
    [Fact]
    public void The_catalog_holds_the_scenarios_users_name()
    {
        string[] required =
        [
            "herd", "fork-cow-race", "munmap-race", "evict-race", "dirty-cow", "unmap-during-load",
            "gem5-798", "go-34988", "osv-1475", "sst-2024", "cow-after-fork", "cow-mprotect", "cow-swapout", "cow-zeropage", "uffd-stress",
        ];
        Assert.Empty(required.Except(ScenarioCatalog.Names));
    }

    [Theory]
    [MemberData(nameof(PlantedBugTests.Scenarios), MemberType = typeof(PlantedBugTests))]
    public void Every_scenario_loads_runs_deterministically_and_says_in_one_line_what_races(string scenario)
    {
        var settings = ScenarioCatalog.Load(scenario, []);
        Assert.True(settings.Deterministic);
        using var engine = new DeterministicEngine();
        var first = Runner.Run(settings, settings.Workload, seed: 1, engine);
        var second = Runner.Run(settings, settings.Workload, seed: 1, engine);

        Assert.False(first.Failed, $"{scenario} seed 1: {first.Violation}");
        Assert.NotEqual(0, first.Log!.Count);
        Assert.Equal(first.Log.Count, second.Log!.Count);
        Assert.Equal(first.Log.Hash, second.Log.Hash);  // the same events, in the same order, at the same virtual times
        Assert.Equal(first.Log.Tail.Select(e => e.ToString()), second.Log.Tail.Select(e => e.ToString()));
        Assert.Equal(first.Result!.Memory!.Hash, second.Result!.Memory!.Hash);
        Assert.False(string.IsNullOrWhiteSpace(settings.Description));
        Assert.DoesNotContain('\n', settings.Description);
    }
}

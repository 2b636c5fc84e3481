using Faultsim.Host.Configuration;
using Faultsim.Host.Running;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>explore --power: seeds to the first catch per planted bug and strategy, over independent seed ranges.</summary>
public sealed class SearchPowerTests
{
    [Fact]
    public void Quantiles_count_a_range_that_never_caught_as_beyond_every_seed_and_the_rate_is_catches_per_run()
    {
        var row = new PowerRow("b", "s", SearchStrategy.All[2], [1, 3, null, 2], MaxSeeds: 10, Actors: 4, PctSteps: 100);
        Assert.Equal(3, row.Caught);
        Assert.Equal(2, row.Quantile(0.5));
        Assert.Null(row.Quantile(0.9));
        Assert.Equal(3 / 16.0, row.MeasuredRate); // 1 + 3 + 10 + 2 runs
        Assert.Equal(1 / (4 * 100.0), row.PredictedRate); // PCT d=2: 1 / (n · k)
        Assert.Equal(0, row with { Strategy = SearchStrategy.All[0] } is { PredictedRate: 0 } ? 0 : 1);
    }

    [Fact]
    public void Every_planted_bug_has_a_scenario_that_names_it_and_one_that_names_the_fewest_bugs_is_chosen()
    {
        var scenarios = SearchPower.ScenarioOf();
        Assert.Equal(SimSettings.BugKeys.Order(), scenarios.Keys.Order());
        Assert.Equal("evict-race", scenarios["skip-one-invalidation"]); // named by go-34988 too: the first in name order of those naming one bug
        Assert.Equal("gem5-798", scenarios["map-over-present"]);
    }

    [Fact]
    public void Power_measures_each_strategy_in_independent_ranges_and_a_bug_that_fires_at_once_is_caught_at_the_first_seed()
    {
        var rows = SearchPower.Measure(["no-leader-election"], ranges: 2, maxSeeds: 50, threads: 2, overrides: []);
        Assert.Equal(["random", "pct d=1", "pct d=2", "pct d=3", "swarm"], rows.Select(r => r.Strategy.Name));
        Assert.All(rows.Take(4), r => Assert.Equal([1L, 1L], r.SeedsToCatch));
        Assert.All(rows.Take(4), r => Assert.Equal("herd", r.Scenario));
        Assert.Null(rows[4].Scenario);
        Assert.True(rows[1].Actors > 0 && rows[1].PctSteps == 2000, $"n {rows[1].Actors}, k {rows[1].PctSteps}");

        var (exit, output, _) = Cli("explore", "--power", "--ranges", "2", "--seeds", "50", "--bug", "no-leader-election");
        Assert.Equal(0, exit);
        Assert.Contains("search power: seeds to the first catch over 2 independent seed ranges of at most 50 seeds", output);
        Assert.Equal(2, Cli("explore", "--power", "--scenario", "herd").Exit);
    }
}

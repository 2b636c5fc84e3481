using Faultsim.Model.Addressing;
using Faultsim.Actors.Monitoring;
using Faultsim.Actors.Tlb;
using Faultsim.Host.Running;
using Faultsim.Host.Scenarios;
using Faultsim.Model.Checking;
using Faultsim.Model.Faults;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>explore reports what its seeds touched of the protocols, and what its last tenth of seeds added.</summary>
public sealed class ExploreCoverageTests
{
    private static readonly FaultSource UserWrite = new(true, AccessKind.Write);

    [Fact]
    public void A_pair_counts_once_at_the_lowest_seed_that_reached_it_and_the_last_tenth_counts_only_what_it_reached_first()
    {
        var (early, late) = (new ProtocolCoverage(), new ProtocolCoverage());
        early.Handle(typeof(TlbActor), "Idle", typeof(string));
        late.Handle(typeof(TlbActor), "Idle", typeof(string));
        late.Handle(typeof(TlbActor), "AwaitingTranslation", typeof(string));
        var (one, other) = (new ExploreCoverage(), new ExploreCoverage());
        one.Add(95, late, [(UserWrite, ResolutionKind.DemandZero), (new FaultSource(true, AccessKind.Read), ResolutionKind.ZeroPageMap)]);
        other.Add(3, early, [(UserWrite, ResolutionKind.DemandZero)]);
        one.Add(other);

        Assert.Equal((2, 2), (one.Handled, one.Resolutions));
        Assert.Equal((1, 1), (one.HandledAbove(90), one.ResolutionsAbove(90)));
        Assert.Equal("coverage: 2 (actor, state, message) handled, 2 (fault source, resolution) met; the last 10 % of the seeds (91–100) added 1 and 1",
            one.Summary(100));
        Assert.Equal(["user read: zero_page", "user write: demand_zero"], one.ResolutionNames);
    }

    [Fact]
    public void Explore_reports_the_coverage_of_its_seeds_and_a_whole_world_covers_more_than_one_scenario()
    {
        var herd = Explorer.Explore(ScenarioCatalog.Load("herd", []), 30, threads: 2);
        Assert.Null(herd.Failure);
        Assert.Equal(["user read: major"], herd.Coverage.ResolutionNames); // a herd reads one uncached file page
        Assert.InRange(herd.Coverage.Handled, 20, 200);
        var swarm = Explorer.Explore(seed => new Faultsim.Host.Swarm.SwarmSource([]).Load(seed), 30, threads: 2);
        Assert.True(swarm.Coverage.Handled > herd.Coverage.Handled, $"swarm {swarm.Coverage.Handled}, herd {herd.Coverage.Handled}");
        Assert.True(swarm.Coverage.Resolutions > 5, string.Join(", ", swarm.Coverage.ResolutionNames));

        var (exit, output, _) = Cli("explore", "--scenario", "herd", "--seeds", "30");
        Assert.Equal(0, exit);
        Assert.Contains($"coverage: {herd.Coverage.Handled} (actor, state, message) handled, 1 (fault source, resolution) met; the last 10 % of the seeds (28–30) added", output);
    }
}

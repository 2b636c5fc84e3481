using Faultsim.Actors.Scheduling;
using Faultsim.Host.Running;
using Faultsim.Host.Scenarios;
using Faultsim.Host.Swarm;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;

namespace Faultsim.Tests.Scenarios;

/// <summary>
/// The figures an interrupted actor run reports come from its events (<see cref="Faultsim.Model.Checking.EventTally"/>):
/// on every finished run they must equal the run's own totals, figure by figure, or the partial figures would mean
/// something else than the whole ones.
/// </summary>
public sealed class EventTallyTests : IDisposable
{
    private readonly DeterministicEngine _engine = new();

    public void Dispose() => _engine.Dispose();

    private static string Figures(Counters c) =>
        string.Join(", ", Enum.GetValues<ResolutionKind>().Select(k => $"{k} {c[k]}")) +
        $"; minor {c.Minor}, major {c.Major}; disk reads {c.DiskReads}; evicted {c.PagesEvicted}; shootdowns {c.Shootdowns}, ipis {c.Ipis}";

    private void AssertTallyEqualsTotals(Faultsim.Host.Configuration.SimSettings settings, ulong seed, string what)
    {
        var report = Runner.Run(settings, settings.Workload, seed, _engine);
        if (report.Result is not { } result)
            return; // a run that stopped early has no totals to hold the tally to
        Assert.True(Figures(result.Totals) == Figures(report.Log!.Tally.Totals),
            $"{what}: totals {Figures(result.Totals)}\n tally {Figures(report.Log.Tally.Totals)}");
    }

    [Fact]
    public void On_every_shipped_scenario_the_events_tally_to_the_runs_totals()
    {
        foreach (var scenario in ScenarioCatalog.Names)
        {
            foreach (var shootdown in new[] { "eager", "lazy" })
            {
                for (ulong seed = 1; seed <= 3; seed++)
                    AssertTallyEqualsTotals(ScenarioCatalog.Load(scenario, [$"shootdown={shootdown}"]), seed, $"{scenario} {shootdown} seed {seed}");
            }
        }
    }

    [Fact]
    public void On_swarm_draws_the_events_tally_to_the_runs_totals()
    {
        // Seed 27 (with the cow-threads and late-faults shapes) has a fault that lost its race to the page after its
        // leader read it: it ends Spurious yet counts major, as Linux keeps VM_FAULT_MAJOR; its event must say so.
        var source = new SwarmSource([]);
        for (ulong seed = 1; seed <= 60; seed++)
        {
            var settings = source.Load(seed);
            AssertTallyEqualsTotals(settings, seed, $"swarm seed {seed}");
        }
    }

    [Fact]
    public void Reads_memory_makes_itself_for_a_markers_window_and_for_willneed_tally_as_the_totals_count_them()
    {
        using var dir = new Faultsim.Tests.Host.TempDirectory();
        var path = dir.Write("readahead.conf", """
            faultsim {
              machine.cpus = 1
              workload {
                files {
                  f { size = 256K }
                  g { size = 64K }
                }
                processes { p { regions {
                  f { start = 0x20000000, size = 256K, prot = r, file = f }
                  g { start = 0x30000000, size = 64K, prot = r, file = g }
                } } }
                cpus { 0 = "run p\nmadvise g willneed\nload f:0..63\nload g:0..15" }
              }
            }
            """);
        var settings = ScenarioCatalog.Load(path, []);
        var report = Runner.Run(settings, settings.Workload, 1, _engine);
        Assert.Equal(3, report.Result!.Totals.DiskReads); // willneed's one request, page 0's window, and the marker's next window
        AssertTallyEqualsTotals(settings, 1, "readahead");
    }
}

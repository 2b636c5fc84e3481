using System.Text.Json;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Scenarios;

/// <summary>
/// The simulator's own bugs that changing a knob of a shipped scenario once showed (a deadlock under lazy shootdowns,
/// IPIs on a single CPU), each reproduced by the exact command that showed it.
/// </summary>
public sealed class KnobRegressionTests
{
    /// <summary>Runs the command with its JSON on standard output: the exit code and the figures.</summary>
    private static (int Exit, JsonElement Json) Figures(params string[] args)
    {
        var (exit, output, error) = Cli([.. args, "--json", "-"]);
        Assert.True(error.Length == 0, error);
        return (exit, JsonDocument.Parse(output).RootElement);
    }

    private static long Figure(JsonElement json, string path) =>
        path.Split('.').Aggregate(json, (e, name) => e.GetProperty(name)).GetInt64();

    private static readonly string[] Compared =
        ["faults.minor", "faults.major", "faults.total", "pages.zeroed", "pages.evicted", "disk.reads", "disk.writes", "tlb.shootdowns", "ipis"];

    [Theory]
    [InlineData("lazy")]
    [InlineData("eager")]
    [InlineData("batched")]
    public void Reclaim_of_the_page_a_waiting_cpu_faults_on_finishes_in_every_shootdown_mode(string mode)
    {
        // faultsim run --refs 0,1,2,0 --frames 2 --set shootdown=lazy: the lazy flush waited for the end of a quantum that
        // waited on the eviction needing that flush ("never woken").
        string[] command = ["run", "--refs", "0,1,2,0", "--frames", "2", "--set", $"shootdown={mode}"];
        var (exit, actors) = Figures(command);
        var (_, reference) = Figures([.. command, "--engine", "reference"]);
        Assert.Equal(0, exit);
        Assert.Equal((3L, 1L), (Figure(actors, "faults.minor"), Figure(actors, "faults.major")));
        foreach (var figure in Compared)
            Assert.True(Figure(actors, figure) == Figure(reference, figure), $"{figure}: actors {Figure(actors, figure)}, reference {Figure(reference, figure)}");
    }

    [Fact]
    public async Task The_lazy_reclaim_run_finishes_on_real_threads_too()
    {
        // The same command with --mode live hung.
        var run = Task.Run(() => Cli("run", "--refs", "0,1,2,0", "--frames", "2", "--set", "shootdown=lazy", "--mode", "live"));
        var (exit, _, _) = await run.WaitAsync(TimeSpan.FromMinutes(2)); // a hang fails here instead of holding the suite
        Assert.Equal(0, exit);
    }

    [Theory]
    [InlineData("cow-swapout")]
    [InlineData("evict-race")]
    public void A_scenario_under_lazy_shootdowns_replays_without_a_violation(string scenario)
    {
        // faultsim replay --scenario cow-swapout --seed 1 --set shootdown=lazy (and evict-race) reported invariant 2.
        var (exit, json) = Figures("replay", "--scenario", scenario, "--seed", "1", "--set", "shootdown=lazy");
        Assert.Equal(0, exit);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("violation").ValueKind);
        Assert.Equal(0, Figure(json, "ipis")); // lazy shootdowns send none
    }

    [Fact]
    public void Reclaim_on_the_only_cpu_flushes_locally_and_sends_no_ipi()
    {
        // faultsim run --refs 7,0,1,2,0,3,0,4 --frames 3 --policy fifo sent 12 IPIs on the actors, none on the reference.
        string[] command = ["run", "--refs", "7,0,1,2,0,3,0,4", "--frames", "3", "--policy", "fifo"];
        var (exit, actors) = Figures(command);
        var (_, reference) = Figures([.. command, "--engine", "reference"]);
        Assert.Equal(0, exit);
        Assert.Equal(7, Figure(actors, "faults.total"));
        Assert.Equal((0L, 0L), (Figure(actors, "ipis"), Figure(actors, "tlb.shootdowns")));
        foreach (var figure in Compared)
            Assert.Equal(Figure(reference, figure), Figure(actors, figure));
    }

    [Theory]
    [InlineData("fork-cow-race", 2)]
    [InlineData("uffd-stress", 2)]
    [InlineData("Regressions/four-pages-four-orders.conf", 2)]
    [InlineData("evict-race", 1)]
    public void Under_frame_pressure_a_scenario_finishes_as_the_reference_machine_does(string scenario, int frames)
    {
        // faultsim replay --scenario fork-cow-race --seed 1 --set machine.frames=2 (and uffd-stress in its earlier shape,
        // kept in Regressions/four-pages-four-orders.conf; evict-race with one frame) spun through millions of messages: an
        // eviction took a frame whose PTE was not installed yet, was refused, and chose it again at once; two copy-on-write
        // faults took each other's source. The interleaving decides how many faults a racing run takes, but not how it ends:
        // the same fates and the same memory as the reference machine.
        if (scenario.EndsWith(".conf", StringComparison.Ordinal))
            scenario = Path.Combine(AppContext.BaseDirectory, "Scenarios", scenario);
        string[] command = ["replay", "--scenario", scenario, "--seed", "1", "--set", $"machine.frames={frames}"];
        var (exit, actors) = Figures(command);
        var (_, reference) = Figures([.. command, "--set", "engine=reference"]);
        Assert.Equal(0, exit);
        Assert.Equal(Fates(reference), Fates(actors));
        Assert.Equal(reference.GetProperty("memory").GetProperty("hash").GetString(), actors.GetProperty("memory").GetProperty("hash").GetString());
    }

    private static string Fates(JsonElement json) =>
        string.Join(",", json.GetProperty("processes").EnumerateArray().Select(p => $"{p.GetProperty("name")}:{p.GetProperty("fate")}"));

    [Fact]
    public void A_page_two_processes_swap_in_stays_copy_on_write_for_both()
    {
        // Under frame pressure fork-cow-race ended with the child's writes in the parent's memory: the second process to
        // swap the shared page in was given it writable, because no other PTE named the slot any more — though the first
        // one mapped the frame. Whatever the frame limit and the interleaving, the memory is the reference machine's.
        foreach (var frames in new[] { 2, 3, 4, 6 })
        {
            var (_, reference) = Figures("replay", "--scenario", "fork-cow-race", "--seed", "1", "--set", $"machine.frames={frames}", "--set", "engine=reference");
            for (var seed = 1; seed <= 4; seed++)
            {
                var (exit, actors) = Figures("replay", "--scenario", "fork-cow-race", "--seed", $"{seed}", "--set", $"machine.frames={frames}");
                Assert.Equal(0, exit);
                Assert.True(reference.GetProperty("memory").GetProperty("hash").GetString() == actors.GetProperty("memory").GetProperty("hash").GetString(),
                    $"{frames} frames, seed {seed}: the memory differs from the reference machine's");
            }
        }
    }

    [Fact]
    public void A_crashed_load_is_retried_without_counting_toward_the_fault_limit()
    {
        // faultsim replay --scenario loader-crash --seed 4 --set chaos.loader-crash-rate=0.9 failed with "does not converge".
        var (exit, json) = Figures("replay", "--scenario", "loader-crash", "--seed", "4", "--set", "chaos.loader-crash-rate=0.9");
        Assert.Equal(0, exit);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("violation").ValueKind);
    }
}

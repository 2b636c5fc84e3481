using Faultsim.Host.Cli;
using Faultsim.Host.Scenarios;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>faultsim scenarios, explore and replay end to end: their output, exit codes and bad input.</summary>
public sealed class ScenarioCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Scenarios_lists_every_scenario_with_its_one_line_description()
    {
        var (exit, output, _) = Cli("scenarios");
        Assert.Equal(ExitCodes.Ok, exit);
        foreach (var name in ScenarioCatalog.Names)
        {
            Assert.Contains(name, output);
            Assert.Contains(ScenarioCatalog.Load(name, []).Description[..40], output);
        }
    }

    [Fact]
    public void Explore_without_a_violation_exits_0_and_reports_the_seeds_it_ran_and_their_speed()
    {
        var (exit, output, error) = Cli("explore", "--scenario", "herd", "--seeds", "40");
        Assert.Equal("", error);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Matches(@"^no violation in 40 seeds of herd: 40 seeds in [0-9.]+ s \([0-9,]+ seeds/s, [0-9,]+ steps/s\)", output);
    }

    [Fact]
    public void Explore_that_finds_a_violation_exits_1_with_the_seed_the_invariant_the_log_the_diagram_and_how_to_replay_it()
    {
        var (exit, output, _) = Cli("explore", "--scenario", "herd", "--seeds", "50", "--set", "bugs.no-leader-election=true");
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("scenario herd, seed 1, random strategy", output);
        Assert.Contains("invariant 1 (one disk read per page per load) violated: a second read of file 0 page 0", output);
        Assert.Matches(@"event log \(\d+ events, hash [0-9a-f]{16}\):", output);
        Assert.Contains("loader-2 → disk: read file 0 page 0 for fault#", output);
        Assert.Contains("sequenceDiagram", output);
        Assert.Contains("replay it: faultsim replay --scenario herd --seed 1 --set bugs.no-leader-election=true", output);
    }

    [Fact]
    public void Explore_and_replay_take_a_config_file_over_the_scenario_and_the_replay_line_carries_it()
    {
        var config = _dir.Write("bug.conf", "faultsim.bugs.no-leader-election = on\n");
        var (exit, output, _) = Cli("explore", "--scenario", "herd", "--seeds", "50", "--config", config);
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("invariant 1 (one disk read per page per load) violated", output);
        Assert.Contains($"replay it: faultsim replay --scenario herd --seed 1 --config {config}", output);
        var replay = Cli("replay", "--scenario", "herd", "--seed", "1", "--config", config);
        Assert.Equal(ExitCodes.Violation, replay.Exit);
        Assert.Equal(ExitCodes.Ok, Cli("replay", "--scenario", "herd", "--seed", "1").Exit);
    }

    [Fact]
    public void Replay_of_the_printed_seed_prints_the_same_log_every_time()
    {
        string[] args = ["replay", "--scenario", "fork-cow-race", "--seed", "4", "--set", "bugs.cow-ignore-refcount=true", "--strategy", "pct"];
        var first = Cli(args);
        var second = Cli(args);
        Assert.Equal(ExitCodes.Violation, first.Exit);
        Assert.Contains("invariant 3 (a COW break leaves every other sharer its content) violated", first.Out);
        Assert.Equal(first.Out, second.Out);
    }

    [Fact]
    public void Replay_json_carries_the_event_count_and_hash_and_the_violation()
    {
        var (exit, output, _) = Cli("replay", "--scenario", "herd", "--seed", "3", "--set", "bugs.wake-before-pte=true", "--json", "-");
        Assert.Equal(ExitCodes.Violation, exit);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.True(root.GetProperty("events").GetProperty("count").GetInt64() > 0);
        Assert.Matches("^[0-9a-f]{16}$", root.GetProperty("events").GetProperty("hash").GetString());
        Assert.Equal(2, root.GetProperty("violation").GetProperty("invariant").GetInt32());
        Assert.Equal("at the first violation", root.GetProperty("stopped").GetString());
    }

    [Fact]
    public void A_scenario_given_as_a_file_runs_like_an_embedded_one()
    {
        var path = _dir.Write("mine.conf", """
            faultsim {
              scenario.description = "two CPUs fault one anonymous page"
              machine.cpus = 2
              workload {
                processes { app { regions { buf { start = 0x10000000, size = 4K } } } }
                cpus { 0 = "run app\nstore buf:0", 1 = "run app\nstore buf:0" }
              }
            }
            """);
        var (exit, output, error) = Cli("explore", "--scenario", path, "--seeds", "30");
        Assert.Equal("", error);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("no violation in 30 seeds", output);
    }

    [Theory]
    [InlineData(new[] { "explore", "--scenario", "hurd" }, "no scenario 'hurd'; `faultsim scenarios` lists them:")]
    [InlineData(new[] { "explore", "--scenario", "herd", "--strategy", "dfs" }, "dfs")]
    [InlineData(new[] { "explore", "--scenario", "herd", "--seeds", "0" }, "--seeds")]
    [InlineData(new[] { "explore", "--scenario", "herd", "--set", "bugs.wake-before-pte-install=true" }, "did you mean 'faultsim.bugs.wake-before-pte'?")]
    [InlineData(new[] { "replay", "--scenario", "herd" }, "--seed")]
    [InlineData(new[] { "explore", "--scenario", "missing.conf" }, "missing.conf: no such config file")]
    public void Bad_input_exits_2_with_one_line_naming_the_fix(string[] args, string expected)
    {
        var (exit, output, error) = Cli(args);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(expected, error);
        Assert.DoesNotContain("   at ", error);
        Assert.Equal("", output);
    }
}

using System.Text.Json;
using Faultsim.Host.Cli;
using Faultsim.Host.Configuration;
using Faultsim.Host.Running;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>
/// Step limits: run and replay have none unless one is set, explore has one scaled to the workload, and reaching a
/// limit is exit 3 with a message naming the limit and the key that raises it — never an invariant violation.
/// </summary>
public sealed class StepLimitTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A scenario of one CPU storing to <paramref name="pages"/> new pages: about seven messages a page.</summary>
    private string Stores(int pages) => _dir.Write($"stores-{pages}.conf", $$"""
        faultsim {
          scenario.description = "one CPU stores to {{pages}} new pages"
          machine.cpus = 1
          workload {
            processes { app { regions { buf { start = 0x10000000, size = {{pages * 4096L}} } } } }
            cpus { 0 = "run app\nstore buf:0..{{pages - 1}}" }
          }
        }
        """);

    /// <summary>The output with every run of white space one space: the terminal table wraps long lines.</summary>
    private static string Flat(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");

    private static JsonElement Json(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    [Fact]
    public void Run_stopped_by_max_steps_exits_3_naming_the_limit_and_its_key_and_reports_no_violation()
    {
        var (exit, output, error) = Cli("run", "--config", Stores(500), "--max-steps", "1000");

        Assert.Equal(ExitCodes.StoppedAtLimit, exit);
        Assert.Equal(3, exit);
        Assert.Equal("", error);
        Assert.Contains("stopped at a limit before the run finished: 1,000 messages (faultsim.max-steps); " +
            "raise it with --set max-steps=N or turn it off with --set max-steps=off", Flat(output));
        Assert.Contains("every invariant held up to there (1,000 messages)", output);
        Assert.DoesNotContain("violated", output);
        Assert.Contains("event log (", output);            // the last events, up to where it stopped
    }

    [Fact]
    public void A_limit_in_the_json_is_the_limit_object_and_violation_stays_null()
    {
        var (exit, output, _) = Cli("run", "--config", Stores(500), "--set", "max-steps=1000", "--json", "-");
        Assert.Equal(ExitCodes.StoppedAtLimit, exit);
        var json = Json(output);
        Assert.Equal(JsonValueKind.Null, json.GetProperty("violation").ValueKind);
        var limit = json.GetProperty("limit");
        Assert.Equal("faultsim.max-steps", limit.GetProperty("key").GetString());
        Assert.Equal(1000, limit.GetProperty("max_steps").GetInt64());
        Assert.Equal(1000, limit.GetProperty("steps").GetInt64());
        Assert.StartsWith("stopped at a limit before the run finished", json.GetProperty("stopped").GetString());
    }

    [Fact]
    public void A_run_that_finishes_has_a_null_limit_in_the_json()
    {
        var (exit, output, _) = Cli("run", "--config", Stores(20), "--json", "-");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal(JsonValueKind.Null, Json(output).GetProperty("limit").ValueKind);
    }

    [Fact]
    public void Run_has_no_step_limit_by_default_and_does_not_take_explores()
    {
        var defaults = SimSettings.From(ConfigLoader.Load(null, []));
        Assert.Null(defaults.StepLimit);
        Assert.Null(defaults.Explore.MaxSteps);                                    // auto

        // Explore's limit, however low, is not run's: 500 pages take some 3,500 messages.
        var (exit, output, _) = Cli("run", "--config", Stores(500), "--set", "explore.max-steps=1000", "--json", "-");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal(500, Json(output).GetProperty("faults").GetProperty("total").GetInt64());
    }

    [Fact]
    public void Run_of_more_messages_than_the_old_default_limit_finishes()
    {
        // The old default stopped every deterministic run at 5,000,000 messages (about 700,000 demand-zero faults). Two CPUs
        // meeting at a barrier 1,300,000 times take two messages each a time, 5,200,000 in all, and no memory per meeting.
        const int meetings = 1_300_000;
        var settings = SimSettings.From(ConfigLoader.Load(null, []));
        Op[] script = [new Op.Run(1, "app"), .. Enumerable.Repeat<Op>(new Op.Barrier(2, "meet"), meetings)];
        var workload = Workload("") with
        {
            Machine = new MachineSpec { Cpus = 2 },
            Scripts = [new CpuScript(new Faultsim.Model.Addressing.CpuId(0), [.. script]), new CpuScript(new Faultsim.Model.Addressing.CpuId(1), [.. script])],
        };

        var report = Runner.Run(settings, workload, seed: 1);   // as `faultsim run` runs a workload

        Assert.Null(report.StoppedAt);
        Assert.Null(report.Violation);
        Assert.True(report.Steps > 5_000_000, $"the run took only {report.Steps:N0} messages");
        Assert.Equal(2 * (meetings + 1), report.Result!.Steps);
    }

    [Fact]
    public void Replay_stopped_by_max_steps_exits_3()
    {
        var (exit, output, _) = Cli("replay", "--scenario", Stores(500), "--seed", "1", "--max-steps", "1000");
        Assert.Equal(ExitCodes.StoppedAtLimit, exit);
        Assert.Contains("stopped at a limit before the run finished: 1,000 messages (faultsim.max-steps)", output);
        Assert.DoesNotContain("violated", output);
    }

    [Fact]
    public void Explore_stopped_by_its_limit_exits_3_and_prints_a_replay_that_stops_at_the_same_place()
    {
        var scenario = Stores(500);
        var (exit, output, _) = Cli("explore", "--scenario", scenario, "--seeds", "5", "--max-steps", "1000");

        Assert.Equal(ExitCodes.StoppedAtLimit, exit);
        Assert.Contains("scenario", output);
        Assert.Contains(", seed 1,", output);
        Assert.Contains("stopped at a limit before the run finished: 1,000 messages (faultsim.explore.max-steps); raise it with --set explore.max-steps=N",
            Flat(output));
        Assert.DoesNotContain("violated", output);
        var replay = System.Text.RegularExpressions.Regex.Match(output, @"replay it: faultsim replay (.*)$", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.True(replay.Success, output);
        Assert.EndsWith("--max-steps 1000", replay.Groups[1].Value.TrimEnd());

        var hash = System.Text.RegularExpressions.Regex.Match(output, @"event log \([\d,]+ events, hash [0-9a-f]{16}\)").Value;
        var again = Cli(["replay", "--scenario", scenario, "--seed", "1", "--max-steps", "1000"]);
        Assert.Equal(ExitCodes.StoppedAtLimit, again.Exit);
        Assert.Contains(hash, again.Out);
    }

    [Fact]
    public void Explore_finds_a_violation_before_its_limit_and_exits_1()
    {
        var (exit, output, _) = Cli("explore", "--scenario", "herd", "--seeds", "5", "--set", "bugs.no-leader-election=true", "--max-steps", "100000");
        Assert.Equal(ExitCodes.Violation, exit);
        Assert.DoesNotContain("stopped at a limit", output);
    }

    [Fact]
    public void Explores_auto_limit_is_a_thousand_messages_per_unit_of_script_size_and_at_least_100000()
    {
        var small = Workload("run app\nstore buf:0..15\nmunmap buf\nbarrier done");   // 1 + 16 + the region's 16 pages + 1
        Assert.Equal(34, StepLimit.ScriptSize(small));
        Assert.Equal(100_000, StepLimit.Auto(small).Steps);

        var large = Workload("run app\nstore buf:0..15\nload buf:0..15\nmadvise buf pageout\n" + string.Concat(Enumerable.Repeat("store buf:0..15\n", 10)));
        Assert.Equal(1 + 16 + 16 + 16 + 160, StepLimit.ScriptSize(large));
        var settings = new ExploreSettings(Faultsim.Actors.Scheduling.StrategyKind.Random, 3, 2000, 10, MaxSteps: null);
        Assert.Equal(new StepLimit(209_000, "faultsim.explore.max-steps", "auto: 1,000 × a script size of 209, at least 100,000"), settings.LimitFor(large));
        Assert.Equal(new StepLimit(5_000, "faultsim.explore.max-steps"), (settings with { MaxSteps = 5_000 }).LimitFor(large));

        var big = Workload("run app\nstore buf:0..15\n" + string.Concat(Enumerable.Repeat("load buf:0..15\n", 10_000)));
        Assert.Equal(1_000 * (1 + 16 + 160_000), StepLimit.Auto(big).Steps);
    }

    private static Workload Workload(string script) => new(
        new MachineSpec { Cpus = 1 }, [],
        [new ProcessSpec("app", [new RegionSpec("buf", new Faultsim.Model.Addressing.VirtualAddress(0x1000_0000), 16 * 4096,
            Faultsim.Model.Vmas.VmaFlags.Read | Faultsim.Model.Vmas.VmaFlags.Write, null, 0)], null)],
        [new CpuScript(new Faultsim.Model.Addressing.CpuId(0), ScriptParser.Parse(script, 1))]);

    [Theory]
    [InlineData(new[] { "run", "--max-steps", "10" }, "--max-steps takes off or a whole number from 1000, not '10'")]
    [InlineData(new[] { "run", "--set", "max-steps=lots" }, "faultsim.max-steps is 'lots'; use off or a whole number from 1,000")]
    [InlineData(new[] { "explore", "--scenario", "herd", "--max-steps", "off" }, "--max-steps takes auto or a whole number from 1000, not 'off'")]
    [InlineData(new[] { "explore", "--scenario", "herd", "--set", "explore.max-steps=0" }, "faultsim.explore.max-steps is '0'; use auto or a whole number from 1,000")]
    [InlineData(new[] { "run", "--set", "event-log.tail=0" }, "faultsim.event-log.tail is '0'; use a whole number from 1 to 10000000")]
    public void A_bad_limit_is_bad_input_naming_the_option_or_key(string[] args, string expected)
    {
        var (exit, output, error) = Cli(args);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, error);
        Assert.Equal("", output);
    }
}

using System.Text.RegularExpressions;
using Faultsim.Host.Cli;
using Faultsim.Host.Shrinking;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>explore shrinks a failing seed to a minimal reproducer, written as a scenario file that replays to the same invariant.</summary>
public sealed class ShrinkTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Explore_shrinks_a_planted_bug_of_a_scenario_to_a_smaller_reproducer_that_replays_to_the_same_invariant()
    {
        var (exit, output, _) = Cli("explore", "--scenario", "herd", "--seeds", "5", "--set", "bugs.no-leader-election=true", "--out", _dir.Root);

        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Matches(@"shrunk in \d+ runs \(at most 1,000: faultsim.explore.shrink.max-runs\): 12 → 4 script lines, 4 → 2 CPUs, 11 → 9 events", output);
        var path = Path.Combine(_dir.Root, "invariant-1-seed-1.conf");
        Assert.Contains($"wrote the shrunk reproducer to {path} (invariant-1): faultsim replay --scenario {path} --seed 1", output);
        var shape = ScenarioShape.Parse(File.ReadAllText(path));
        Assert.Equal(4, shape.Lines);
        Assert.Equal("2", shape.Knob("faultsim.machine.cpus"));
        var replay = Cli("replay", "--scenario", path, "--seed", "1");
        Assert.Equal(ExitCodes.Violation, replay.Exit);
        Assert.Contains("invariant 1 (one disk read per page per load) violated", replay.Out);
        Assert.Contains("event log (9 events", replay.Out);
    }

    [Fact]
    public void Explore_shrinks_a_swarm_draw_that_a_planted_bug_breaks_and_its_reproducer_replays_without_the_set()
    {
        var (exit, output, _) = Cli("explore", "--swarm", "--seeds", "20", "--set", "bugs.free-before-acks=true", "--out", _dir.Root);

        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Matches(@"shrunk in \d+ runs \(at most 1,000: faultsim.explore.shrink.max-runs\): 36 → 3 script lines, 5 → 1 CPUs, 54 → 13 events", output);
        var path = Path.Combine(_dir.Root, "invariant-4-seed-3.conf");
        var replay = Cli("replay", "--scenario", path, "--seed", "3");
        Assert.Equal(ExitCodes.Violation, replay.Exit);
        Assert.Contains("invariant 4 (no use of a translation to a freed or reused frame) violated", replay.Out);
        Assert.Contains("event log (13 events", replay.Out);
    }

    [Fact]
    public void Explore_shrinks_a_swarm_draw_with_loader_crashes_and_its_reproducer_keeps_the_crash_rate_and_replays_to_the_same_invariant()
    {
        // lose-waiter-on-restart needs a loader to crash: the first swarm draw that catches it has chaos, and so must its reproducer.
        var (exit, output, _) = Cli("explore", "--swarm", "--seeds", "200", "--set", "bugs.lose-waiter-on-restart=true", "--out", _dir.Root);

        Assert.Equal(ExitCodes.Violation, exit);
        Assert.Contains("replay it: faultsim replay --swarm --seed 137 --set bugs.lose-waiter-on-restart=true", output);
        Assert.Matches(@"shrunk in \d+ runs \(at most 1,000: faultsim.explore.shrink.max-runs\): 48 → 3 script lines, 3 → 1 CPUs, 138 → 36 events", output);
        var path = Path.Combine(_dir.Root, "invariant-2-seed-137.conf");
        var shape = ScenarioShape.Parse(File.ReadAllText(path));
        Assert.Equal("0.1", shape.Knob("faultsim.chaos.loader-crash-rate"));
        var replay = Cli("replay", "--scenario", path, "--seed", "137");
        Assert.Equal(ExitCodes.Violation, replay.Exit);
        Assert.Contains("invariant 2 (no waiter woken before its PTE is installed, none left asleep) violated", replay.Out);
        Assert.Contains("event log (36 events", replay.Out);
        var crashes = Cli("replay", "--scenario", path, "--seed", "137", "--set", "chaos.loader-crash-rate=0");
        Assert.Equal(ExitCodes.Ok, crashes.Exit); // without the crashes the bug has nothing to lose
    }

    [Fact]
    public void No_shrink_writes_the_failing_run_as_it_is()
    {
        var (exit, output, _) = Cli("explore", "--scenario", "herd", "--seeds", "5", "--set", "bugs.no-leader-election=true", "--out", _dir.Root, "--no-shrink");

        Assert.Equal(ExitCodes.Violation, exit);
        Assert.DoesNotContain("shrunk in", output);
        var path = Path.Combine(_dir.Root, "invariant-1-seed-1.conf");
        Assert.Contains($"wrote the failing run, not shrunk (--no-shrink), to {path}", output);
        var shape = ScenarioShape.Parse(File.ReadAllText(path));
        Assert.Equal(12, shape.Lines);
        Assert.Equal("4", shape.Knob("faultsim.machine.cpus"));
        var replay = Cli("replay", "--scenario", path, "--seed", "1");
        Assert.Equal(ExitCodes.Violation, replay.Exit);
        Assert.Contains("event log (11 events", replay.Out); // the read of page 0 and its window's three pages: a read event each
    }

    [Fact]
    public void Shrinking_stops_at_its_bound_of_runs()
    {
        var (exit, output, _) = Cli("explore", "--scenario", "herd", "--seeds", "5", "--set", "bugs.no-leader-election=true", "--out", _dir.Root,
            "--set", "explore.shrink.max-runs=3");

        Assert.Equal(ExitCodes.Violation, exit);
        var sizes = Regex.Match(output, @"shrunk in 3 runs \(at most 3: faultsim.explore.shrink.max-runs\): 12 → (\d+) script lines");
        Assert.True(sizes.Success, output);
        var replay = Cli("replay", "--scenario", Path.Combine(_dir.Root, "invariant-1-seed-1.conf"), "--seed", "1");
        Assert.Equal(ExitCodes.Violation, replay.Exit);
    }

    [Fact]
    public void An_out_that_is_a_file_is_a_one_line_error_before_the_run()
    {
        var file = _dir.Write("taken", "");
        var (exit, output, error) = Cli("explore", "--scenario", "herd", "--seeds", "5", "--out", file);

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"faultsim: --out: {file} is a file; give a directory for the reproducers (it is made if missing)", error.TrimEnd());
        Assert.Equal("", output);
    }

    [Fact]
    public void An_out_that_cannot_be_written_is_a_one_line_error_before_the_run()
    {
        var under = Path.Combine(_dir.Write("taken", ""), "failures");
        var (exit, output, error) = Cli("explore", "--scenario", "herd", "--seeds", "5", "--out", under);

        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith($"faultsim: --out: cannot write to {under}: ", error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.Equal("", output);
    }
}

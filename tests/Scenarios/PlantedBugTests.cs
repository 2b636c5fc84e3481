using Faultsim.Host.Running;
using Faultsim.Host.Scenarios;

namespace Faultsim.Tests.Scenarios;

/// <summary>
/// Each planted bug, switched on in the scenario whose race it breaks, is caught by the monitor within a few seeds with
/// the invariant's exact message; the failing seed replays to the same event log; and with the bug off, the same
/// scenario survives many seeds of both strategies. Together: every check can fail, and the protocol passes it.
/// </summary>
public class PlantedBugTests
{
    /// <summary>Each bug is caught within this many seeds (in practice at the first or second).</summary>
    private const int CaughtWithin = 10;

    public static TheoryData<string, string, string, int, string> Bugs => new()
    {
        { "herd", "no-leader-election", "random", 1, "a second read of file 0 page 0 (for fault#0.1) while one is in flight" },
        { "herd", "no-leader-election", "pct", 1, "a second read of file 0 page 0 (for fault#2.1) while one is in flight" },
        { "herd", "wake-before-pte", "random", 2, "fault#0.1 was woken as resolved (Major) before any PTE for asid 1/page 0x20000 was installed" },
        { "munmap-race", "free-before-acks", "random", 4, "cpu1 accessed asid 1/page 0x10000 through a translation to frame " },
        { "munmap-race", "skip-one-invalidation", "random", 4, "cpu1 accessed asid 1/page 0x10000 through a translation to frame " },
        { "sst-2024", "skip-one-invalidation", "pct", 4, "cpu1 accessed asid 1/page 0x10000 through a translation to frame " },
        { "go-34988", "skip-one-invalidation", "random", 7, "cpu1 loaded 0x0 from asid 1/page 0x10000 word 2, but the last store there wrote 0x30000000001" },
        { "go-34988", "skip-one-invalidation", "pct", 7, "cpu1 loaded 0x0 from asid 1/page 0x10000 word 2, but the last store there wrote 0x30000000001" },
        { "fork-cow-race", "cow-ignore-refcount", "random", 3, "a COW write to asid 2/page 0x10000 reused frame 1, which 1 other mapping(s) still share" },
        { "cow-publish", "publish-before-flush", "random", 7, "cpu2 loaded 0x20000000001 from asid 1/page 0x10000 word 1, but the last store there wrote 0x20000000002" },
        { "gem5-798", "map-over-present", "random", 7, "cpu0 loaded 0x0 from asid 1/page 0x10000 word 1, but the last store there wrote" },
        { "gem5-798", "map-over-present", "pct", 7, "cpu1 loaded 0x0 from asid 1/page 0x10000 word 0, but the last store there wrote" },
        { "unmap-during-load", "skip-vma-recheck", "random", 4, "a PTE for asid 1/page 0x20000 to frame " },
        { "unmap-during-load", "skip-vma-recheck", "pct", 4, "a PTE for asid 1/page 0x20000 to frame " },
        { "uffd-stress", "map-over-present", "random", 5, "pid 1 page 0x10000 word 0 holds 0x0, but the last store there wrote 0x10000000001" },
        { "uffd-stress", "map-over-present", "pct", 5, "pid 1 page 0x10000 word 1 holds 0x0, but the last store there wrote 0x20000000001" },
        { "dirty-cow", "forced-write-in-page-cache", "random", 5, "file etc page 0 changed, though no shared writable mapping of it exists: a private write reached the file" },
        { "dirty-cow", "forced-write-in-page-cache", "pct", 5, "file etc page 0 changed, though no shared writable mapping of it exists: a private write reached the file" },
        { "cow-after-fork", "cow-ignore-refcount", "random", 3, "a COW write to asid 2/page 0x10000 reused frame 1, which 1 other mapping(s) still share" },
        { "cow-mprotect", "cow-ignore-refcount", "pct", 3, "a COW write to asid 2/page 0x10000 reused frame 1, which 1 other mapping(s) still share" },
        { "cow-swapout", "cow-ignore-refcount", "random", 3, "a COW write to asid 2/page 0x10003 reused frame 2, which 1 other mapping(s) still share" },
        { "cow-zeropage", "cow-ignore-refcount", "pct", 3, "a COW write to asid 2/page 0x10000 reused the shared zero page" },
        { "evict-race", "skip-one-invalidation", "random", 4, "cpu0 accessed asid 1/page 0x10000 through a translation to frame 1 after the frame was freed or reused" },
        { "osv-1475", "skip-one-invalidation", "pct", 4, "cpu1 accessed asid 1/page 0x10000 through a translation to frame 1 after the frame was freed or reused" },
        { "late-follower", "wake-late-follower", "random", 2, "fault#5.15 was woken as resolved (Major) before any PTE for asid 1/page 0x20000 was installed" },
        { "late-follower", "wake-late-follower", "pct", 2, "fault#1.11 was woken as resolved (Major) before any PTE for asid 1/page 0x20000 was installed" },
        { "ack-mid-quantum", "ack-before-drain", "random", 4, "cpu1 accessed asid 1/page 0x10000 through a translation to frame 1 after the frame was freed or reused" },
        { "ack-mid-quantum", "ack-before-drain", "pct", 4, "cpu1 accessed asid 1/page 0x10000 through a translation to frame 1 after the frame was freed or reused" },
        { "loader-crash", "lose-waiter-on-restart", "random", 2, "fault#2.1 on asid 1/page 0x20000 was never woken" },
    };

    [Theory]
    [MemberData(nameof(Bugs))]
    public void A_planted_bug_is_caught_within_ten_seeds_and_its_seed_replays_the_same_log(
        string scenario, string bug, string strategy, int invariant, string message)
    {
        var settings = ScenarioCatalog.Load(scenario, [$"bugs.{bug}=true", $"explore.strategy={strategy}"]);

        var found = Explorer.Explore(settings, CaughtWithin, threads: 1).Failure;

        var failure = Assert.IsType<RunReport>(found);
        var violation = Assert.IsType<Faultsim.Model.Checking.Violation>(failure.Violation);
        Assert.Equal(invariant, violation.Invariant);
        Assert.StartsWith(message, violation.Description);
        var replay = Runner.Run(settings, settings.Workload, failure.Seed); // a fresh engine, as `faultsim replay` uses
        Assert.Equal(violation, replay.Violation);
        Assert.Equal(failure.Log!.Count, replay.Log!.Count);   // the same events, byte for byte (the hash covers every line) …
        Assert.Equal(failure.Log.Hash, replay.Log.Hash);
        Assert.Equal(failure.Log.Tail.Select(e => e.ToString()), replay.Log.Tail.Select(e => e.ToString()));   // … ending in the same ones
    }

    public static TheoryData<string> Scenarios => [.. ScenarioCatalog.Names];

    /// <summary>
    /// Every shipped scenario reproduces what it is named after: its description ends by naming the planted bugs that
    /// reproduce it, and exactly those have a row above that catches them in it (the theory above); the theory below
    /// passes it without them. A scenario added without its bug, or a bug named but never caught, fails here.
    /// </summary>
    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Every_scenario_names_the_planted_bugs_that_reproduce_it_and_each_is_caught_in_it(string scenario)
    {
        var description = ScenarioCatalog.Load(scenario, []).Description;
        var named = System.Text.RegularExpressions.Regex.Match(description, @"; planted bugs? ([a-z-]+(?:, [a-z-]+)*)$");
        Assert.True(named.Success, $"{scenario}: the description names no planted bug at its end: {description}");
        var caught = Bugs.Where(row => (string)row[0] == scenario).Select(row => (string)row[1]).ToHashSet();
        Assert.Equal(caught.Order(), named.Groups[1].Value.Split(", ").Order());
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Without_planted_bugs_every_scenario_survives_its_races_under_both_strategies(string scenario)
    {
        foreach (var (strategy, seeds) in new[] { ("random", 150), ("pct", 100) })
        {
            var settings = ScenarioCatalog.Load(scenario, [$"explore.strategy={strategy}"]);
            var outcome = Explorer.Explore(settings, seeds, threads: 2);
            Assert.True(outcome.Failure is null,
                $"{scenario}, {strategy} seed {outcome.Failure?.Seed}: {outcome.Failure?.Violation?.ToString() ?? outcome.Failure?.StoppedAt?.Message}");
            Assert.Equal(seeds, outcome.SeedsRun);
        }
    }
}

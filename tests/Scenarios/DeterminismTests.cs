using Faultsim.Actors.Scheduling;
using Faultsim.Host.Configuration;
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

    /// <summary>
    /// The deterministic engine keeps its machine's actors from run to run (slots given a new actor each run): every run
    /// on it, after whatever ran before — another scenario, a run stopped mid-flight at a violation or at its step limit,
    /// a swarm draw of another shape — is exactly the run a machine made for it gives, step for step.
    /// </summary>
    [Fact]
    public void A_machine_kept_from_run_to_run_gives_every_run_exactly_what_a_machine_made_for_it_gives()
    {
        var swarm = new Faultsim.Host.Swarm.SwarmSource([]);
        var evict = ScenarioCatalog.Load("evict-race", []);
        (SimSettings Settings, ulong Seed)[] runs =
        [
            (ScenarioCatalog.Load("herd", []), 7),
            (ScenarioCatalog.Load("munmap-race", ["bugs.free-before-acks=true"]), 1),   // stops at a violation, messages in flight
            (ScenarioCatalog.Load("herd", []), 7),
            (evict with { StepLimit = new StepLimit(60, StepLimit.RunKey) }, 2),          // stops at its step limit
            (evict, 2),
            (ScenarioCatalog.Load("loader-crash", ["chaos.loader-crash-rate=0.5"]), 3),    // loaders restart
            (swarm.Load(4), 4),
            (swarm.Load(9), 9),
            (ScenarioCatalog.Load("cow-publish", ["explore.strategy=pct"]), 5),
            (swarm.Load(4), 4),
            (ScenarioCatalog.Load("herd", []), 7),
        ];
        using var kept = new DeterministicEngine();
        foreach (var (settings, seed) in runs)
        {
            var (onKept, onOwn) = (new WholeLog(), new WholeLog());
            var reused = Runner.Run(settings, settings.Workload, seed, kept, onKept);
            using var own = new DeterministicEngine(reuseMachine: false);
            var made = Runner.Run(settings, settings.Workload, seed, own, onOwn);

            Assert.NotEmpty(onOwn.Lines);
            Assert.Equal(onOwn.Lines, onKept.Lines);
            Assert.Equal(made.Log!.Hash, reused.Log!.Hash);
            Assert.Equal((made.Steps, made.Mailboxes), (reused.Steps, reused.Mailboxes));
            Assert.Equal(made.Violation?.Description, reused.Violation?.Description);
            Assert.Equal(made.StoppedAt, reused.StoppedAt);
            Assert.Equal(made.Result?.Memory?.Hash, reused.Result?.Memory?.Hash);
        }
    }

    /// <summary>
    /// What explore does: runs on one kept machine with no sink (a sink's run goes to a machine of its own), seed after seed,
    /// after passing runs, violations stopped with work in flight, loaders that crashed and restarted, a step limit and a
    /// swarm draw — each the run a fresh machine gives its seed, event for event (the log's text, its hash, the steps,
    /// the mailboxes, the verdict, the final memory).
    /// </summary>
    [Fact]
    public void A_seed_run_on_the_kept_machine_after_others_is_event_for_event_the_seed_run_on_a_fresh_machine()
    {
        var swarm = new Faultsim.Host.Swarm.SwarmSource([]);
        var herd = ScenarioCatalog.Load("herd", []);
        var evict = ScenarioCatalog.Load("evict-race", []);
        var crashing = ScenarioCatalog.Load("loader-crash", ["chaos.loader-crash-rate=0.5", "bugs.lose-waiter-on-restart=true"]);
        (SimSettings Settings, ulong Seed)[] runs =
        [
            (herd, 3),
            (ScenarioCatalog.Load("herd", ["bugs.wake-before-pte=true"]), 1),          // a violation
            (herd, 7),
            (ScenarioCatalog.Load("munmap-race", ["bugs.free-before-acks=true"]), 1),  // stops at a violation, messages in flight
            (herd, 7),
            (crashing, 1), (crashing, 2), (crashing, 3),                                // loaders crash and restart; a waiter is lost
            (herd, 7),
            (evict with { StepLimit = new StepLimit(60, StepLimit.RunKey) }, 2),        // stops at its step limit
            (evict, 2),
            (swarm.Load(4), 4),
            (herd, 7),
        ];
        using var kept = new DeterministicEngine();
        var failed = 0;
        foreach (var (settings, seed) in runs)
        {
            var onKept = Runner.Run(settings, settings.Workload, seed, kept);
            using var fresh = new DeterministicEngine(reuseMachine: false);
            var made = Runner.Run(settings, settings.Workload, seed, fresh);

            Assert.InRange(made.Log!.Count, 1, made.Log.TailCapacity); // the tail is the whole log
            Assert.Equal(made.Log.Tail.Select(e => e.ToString()), onKept.Log!.Tail.Select(e => e.ToString()));
            Assert.Equal(made.Log.Hash, onKept.Log.Hash);
            Assert.Equal((made.Steps, made.Mailboxes), (onKept.Steps, onKept.Mailboxes));
            Assert.Equal(made.Violation?.Description, onKept.Violation?.Description);
            Assert.Equal((made.StoppedAt, made.Crash), (onKept.StoppedAt, onKept.Crash));
            Assert.Equal(made.Result?.Memory?.Hash, onKept.Result?.Memory?.Hash);
            Assert.Equal((made.Result?.Totals.Accesses, made.Result?.Totals.Minor, made.Result?.Totals.Major, made.Result?.Totals.TlbHits),
                (onKept.Result?.Totals.Accesses, onKept.Result?.Totals.Minor, onKept.Result?.Totals.Major, onKept.Result?.Totals.TlbHits));
            failed += made.Failed ? 1 : 0;
        }
        Assert.True(failed >= 3, $"only {failed} of the runs failed: the sequence no longer tests a kept machine after failures");
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

using Faultsim.Actors.Monitoring;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Running;
using Faultsim.Host.Scenarios;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Common;

namespace Faultsim.Tests.Scenarios;

/// <summary>
/// The event log keeps no run whole: its hash is taken in event by event and is the hash of the whole text, a sink
/// receives every event, only a bounded tail stays in memory, and the monitor sees every event whatever the tail.
/// </summary>
public class EventLogTests
{
    private static readonly string GoldenDirectory = Path.Combine(AppContext.BaseDirectory, "Golden");

    /// <summary>The FNV-1a hash of a log's text as faultsim computed it when the log was kept whole, over each line and a newline.</summary>
    private static ulong WholeTextHash(IEnumerable<string> lines) =>
        lines.Aggregate(Fnv1a.Offset, (h, line) => Fnv1a.Mix(Fnv1a.Mix(h, System.Text.Encoding.UTF8.GetBytes(line)), (byte)'\n'));

    private static SimEvent Finished(long round) => new SimEvent.ShootdownFinished(round);

    [Theory]
    [InlineData("herd", 7, "random")]
    [InlineData("fork-cow-race", 3, "pct")]
    [InlineData("munmap-race", 11, "random")]
    public void The_incremental_hash_of_a_golden_run_is_the_hash_of_its_whole_text(string scenario, ulong seed, string strategy)
    {
        var settings = ScenarioCatalog.Load(scenario, [$"explore.strategy={strategy}"]);
        var golden = File.ReadAllBytes(Path.Combine(GoldenDirectory, $"{scenario}-{strategy}-seed{seed}.log"));

        var log = Runner.Run(settings, settings.Workload, seed).Log!;

        Assert.Equal(Fnv1a.Mix(Fnv1a.Offset, golden), log.Hash);   // the hash of the golden file's bytes, as when the log was kept whole
    }

    /// <summary>
    /// Generated workloads whose rounds became streams of operations (the herd, the churn, the COW storm) and a mix of
    /// access patterns give the event log, byte for byte, that they gave as scripts made whole: the operations are the
    /// same, and so is every message.
    /// </summary>
    [Theory]
    [InlineData("herd", "workload.generator.rounds=4")]
    [InlineData("churn", "workload.generator.rounds=3", "workload.generator.map-pages=2")]
    [InlineData("cow-storm", "workload.generator.processes=4", "workload.generator.pages=3")]
    [InlineData("mix", "workload.generator.accesses=40", "workload.generator.pages=16", "machine.cpus=2")]
    public void A_generated_workload_gives_its_golden_event_log(string kind, params string[] keys)
    {
        var settings = Faultsim.Host.Configuration.SimSettings.From(Faultsim.Host.Configuration.ConfigLoader.Load(null,
            ["seed=5", "machine.cpus=3", $"workload.generator.kind={kind}", .. keys]));
        var whole = new WholeLog();
        var log = Runner.Run(settings, settings.Workload, settings.Seed, sink: whole).Log!;
        if (Environment.GetEnvironmentVariable("FAULTSIM_UPDATE_GOLDEN") is { } sourceDirectory)
        {
            File.WriteAllText(Path.Combine(sourceDirectory, $"generator-{kind}-seed5.log"), whole.Text); // regenerated only on purpose
            return;
        }
        var golden = File.ReadAllBytes(Path.Combine(GoldenDirectory, $"generator-{kind}-seed5.log"));
        Assert.Equal(System.Text.Encoding.UTF8.GetString(golden), whole.Text);
        Assert.Equal(Fnv1a.Mix(Fnv1a.Offset, golden), log.Hash);
    }

    [Fact]
    public void The_hash_taken_event_by_event_equals_the_hash_of_the_whole_text_of_a_longer_run()
    {
        var settings = ScenarioCatalog.Load("evict-race", []);
        var whole = new WholeLog();
        var report = Runner.Run(settings, settings.Workload, seed: 2, sink: whole);
        Assert.Equal(report.Log!.Count, whole.Lines.Count);
        Assert.Equal(WholeTextHash(whole.Lines), report.Log.Hash);
    }

    /// <summary>
    /// Without a sink the lines are formatted into the hash only when the tail is about to drop one or the hash is read:
    /// whatever the tail and whenever the hash is read, it is the hash of every line so far, the same as with a sink.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(2000)]
    public void The_hash_of_a_log_without_a_sink_is_the_hash_of_every_line_so_far_whatever_its_tail(int tail)
    {
        var (lazy, eager) = (new EventLog(() => 42, tail), new WholeLog());
        var withSink = new EventLog(() => 42, tail, eager);
        for (var i = 1; i <= 25; i++)
        {
            lazy.Record($"cpu{i % 3}", i % 2 == 0 ? "memory" : null, Finished(i));
            withSink.Record($"cpu{i % 3}", i % 2 == 0 ? "memory" : null, Finished(i));
            if (i is 1 or 7 or 8 or 20) // read mid-run: later events still go into the hash after it
                Assert.Equal(WholeTextHash(eager.Lines), lazy.Hash);
        }
        Assert.Equal(25, eager.Lines.Count);
        Assert.Equal(WholeTextHash(eager.Lines), lazy.Hash);
        Assert.Equal(withSink.Hash, lazy.Hash);
        Assert.Equal(eager.Lines.TakeLast(Math.Min(tail, 25)), lazy.Tail.Select(e => e.ToString()));
    }

    [Fact]
    public void A_sink_receives_every_event_in_order_and_each_line_is_the_events_text()
    {
        var whole = new WholeLog();
        var log = new EventLog(() => 42, tail: 3, whole);
        for (var i = 1; i <= 10; i++)
            log.Record("mm1", i % 2 == 0 ? "tlb0" : null, Finished(i));

        Assert.Equal(10, log.Count);
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"{i,6}             42 ns  mm1{(i % 2 == 0 ? " → tlb0" : "")}: shootdown#{i} complete"), whole.Lines);
        Assert.Equal(WholeTextHash(whole.Lines), log.Hash);
    }

    [Fact]
    public void The_tail_holds_only_the_last_events_oldest_first_however_long_the_run()
    {
        var log = new EventLog(() => 0, tail: 4);
        for (var i = 1; i <= 1_003; i++)
            log.Record("mm1", null, Finished(i));

        Assert.Equal(4, log.TailCapacity);
        Assert.Equal(1_003, log.Count);
        Assert.Equal([1_000L, 1_001, 1_002, 1_003], log.Tail.Select(e => e.Seq));
    }

    [Fact]
    public void A_log_shorter_than_its_tail_keeps_every_event()
    {
        var log = new EventLog(() => 0, tail: 4);
        for (var i = 1; i <= 3; i++)
            log.Record("mm1", null, Finished(i));
        Assert.Equal([1L, 2, 3], log.Tail.Select(e => e.Seq));
    }

    [Fact]
    public void The_default_tail_is_the_documented_2000_events()
    {
        Assert.Equal(2000, EventLog.DefaultTail);
        Assert.Equal(2000, new EventLog(() => 0).TailCapacity);
        Assert.Equal(2000, ScenarioCatalog.Load("herd", []).EventTail);   // faultsim.event-log.tail in config/faultsim.conf
    }

    [Fact]
    public void The_monitor_sees_events_the_tail_has_dropped()
    {
        var log = new EventLog(() => 0, tail: 2);
        log.Record("memory", "tlb1", new SimEvent.StaleAccess(new CpuId(1), new PageKey(new Asid(1), new PageNumber(0x10)), new FrameNumber(3)));
        for (var i = 1; i <= 5; i++)
            log.Record("mm1", null, Finished(i));

        Assert.Equal(1, log.Violation!.AtEvent);
        Assert.Equal(4, log.Violation.Invariant);
        Assert.DoesNotContain(log.Tail, e => e.Seq == 1);
    }

    [Fact]
    public void A_deterministic_run_with_a_small_tail_keeps_only_that_many_events_and_the_same_hash()
    {
        var settings = ScenarioCatalog.Load("evict-race", ["event-log.tail=16"]);
        var whole = new WholeLog();
        var small = Runner.Run(settings, settings.Workload, seed: 3, sink: whole).Log!;
        var usual = Runner.Run(ScenarioCatalog.Load("evict-race", []), settings.Workload, seed: 3).Log!;

        Assert.True(small.Count > 16, $"the run logged only {small.Count} events");
        Assert.Equal(16, small.Tail.Count);
        Assert.Equal(whole.Lines.TakeLast(16), small.Tail.Select(e => e.ToString()));
        Assert.Equal(usual.Hash, small.Hash);
    }

    [Fact]
    public void A_run_without_its_log_records_nothing_and_finishes_the_same()
    {
        var settings = ScenarioCatalog.Load("herd", []);
        using var engine = new DeterministicEngine();
        var off = engine.Run(settings.Workload, settings.Actors, 1, settings.Explore.StrategyFor(1), EventLogOptions.Off);
        var on = engine.Run(settings.Workload, settings.Actors, 1, settings.Explore.StrategyFor(1));
        Assert.Equal(0, off.Log.Count);
        Assert.True(on.Log.Count > 0);
        Assert.Equal(on.Result!.Totals.Total, off.Result!.Totals.Total);
        Assert.Equal(on.Result.Memory!.Hash, off.Result.Memory!.Hash);
    }
}

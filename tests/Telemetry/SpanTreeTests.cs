using System.Diagnostics;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Checking;
using Faultsim.Model.Common;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;
using Faultsim.Tests.Actors;
using Faultsim.Tests.Model;
using OpenTelemetry;
using OpenTelemetry.Trace;
using Spans = Faultsim.Actors.Telemetry.Instruments.Spans;
using Attr = Faultsim.Actors.Telemetry.Instruments.Attributes;

namespace Faultsim.Tests.Telemetry;

/// <summary>Tests that listen to faultsim's ActivitySource run alone: a listener sees every span in the process.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry";
}

/// <summary>The span tree of a fault, as the in-memory exporter receives it from deterministic runs.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class SpanTreeTests : IDisposable
{
    private readonly List<Activity> _spans = [];
    private readonly TracerProvider _provider;
    private readonly DeterministicEngine _engine = new();

    public SpanTreeTests()
    {
        _provider = Sdk.CreateTracerProviderBuilder().AddSource(Instruments.Name).SetSampler(new AlwaysOnSampler()).AddInMemoryExporter(_spans).Build()!;
    }

    public void Dispose()
    {
        _engine.Dispose();
        _provider.Dispose();
    }

    private static readonly ProcessSpec App = Workloads.Process("p", Workloads.Anon("buf", 0x1000_0000, 4 * 4096));

    private DeterministicRun Run(Workload workload, ulong seed = 1, double ratio = 1, EngineSettings? settings = null)
    {
        settings ??= ActorEngineTests.Settings;
        settings = settings with { Run = settings.Run with { Tracing = TraceSettings.Sampling(ratio) } };
        var run = _engine.Run(workload, settings, seed, new RandomWalkStrategy(new SimRandom(seed)));
        Assert.Null(run.Violation);
        Assert.NotNull(run.Result);
        _provider.ForceFlush();
        return run;
    }

    private List<Activity> Named(string name) => [.. _spans.Where(s => s.DisplayName == name)];

    private List<Activity> ChildrenOf(Activity parent) => [.. _spans.Where(s => s.ParentSpanId == parent.SpanId && s.TraceId == parent.TraceId)];

    /// <summary>A span's steps in time order (steps shorter than a timestamp's 100 ns tick may share a start).</summary>
    private List<string> ChildNames(Activity parent) =>
        [.. ChildrenOf(parent).OrderBy(s => s.StartTimeUtc).ThenBy(s => Array.IndexOf(StepOrder, s.DisplayName)).Select(s => s.DisplayName)];

    private static readonly string[] StepOrder =
        [Spans.TlbLookup, Spans.PageWalk, Spans.VmaLookup, Spans.DiskRead, Spans.LoaderWait, Spans.PageZero, Spans.PageCopy, Spans.PteInstall, Spans.Shootdown];

    private Activity RootOf(string resolution) => Assert.Single(Named(Spans.Fault), s => Tag(s, Attr.Resolution) == resolution);

    private static string? Tag(Activity span, string key) => span.GetTagItem(key)?.ToString();

    [Fact]
    public void A_demand_zero_fault_has_lookup_walk_vma_zero_and_install_under_its_root()
    {
        Run(Workloads.Make(new MachineSpec { Cpus = 1 }, [App], "run p\nstore buf:0"));
        var root = RootOf("demand_zero");
        Assert.Equal(default, root.ParentSpanId);
        Assert.Equal([Spans.TlbLookup, Spans.PageWalk, Spans.VmaLookup, Spans.PageZero, Spans.PteInstall], ChildNames(root));
        Assert.Equal("0", Tag(root, Attr.Cpu));
        Assert.Equal("write", Tag(root, Attr.Access));
        Assert.Equal("retry", Tag(root, Attr.Outcome)); // the access is retried, and hits
        Assert.Equal("W|U", Tag(root, Attr.ErrorCode)); // a user-mode write to a page not present
        Assert.Equal(new[] { root.TraceId }, _spans.Select(s => s.TraceId).Distinct());
    }

    [Fact]
    public void Span_times_are_simulated_time_so_a_root_lasts_its_fault_latency_and_holds_its_steps()
    {
        Run(Workloads.Make(new MachineSpec { Cpus = 1 }, [App], "run p\nstore buf:0..3"));
        var roots = Named(Spans.Fault);
        Assert.Equal(4, roots.Count);
        foreach (var root in roots)
        {
            var latency = long.Parse(Tag(root, Attr.Latency)!);
            Assert.InRange(root.Duration.Ticks, latency / 100, latency / 100 + 1); // start and end each fall on a 100 ns tick
            Assert.True(latency > 1_000, $"a fault of typical latencies takes microseconds, not {latency} ns");
            foreach (var step in ChildrenOf(root))
                Assert.True(step.StartTimeUtc >= root.StartTimeUtc && step.StartTimeUtc + step.Duration <= root.StartTimeUtc + root.Duration,
                    $"{step.DisplayName} lies outside its fault");
        }
    }

    [Fact]
    public void A_deterministic_runs_disk_read_lasts_its_simulated_time_not_the_walls()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 1 }, [Workloads.Process("p", Workloads.FileMap("lib", 0x2000_0000, 4096, "lib"))],
            "run p\nload lib:0").WithFiles(new FileSpec("lib", 4096));
        var settings = ActorEngineTests.Settings with { DiskLatency = TimeSpan.FromSeconds(10), Run = ActorEngineTests.Settings.Run with { Latencies = Latencies.Typical } };
        var run = Run(workload, settings: settings);
        var service = settings.DiskLatency + TimeSpan.FromSeconds(4096.0 / settings.DiskBandwidth); // the latency and one page's transfer

        // On the simulation's clock the read took exactly its service time: the event log's and the span's.
        var started = Assert.Single(run.Log.Tail, e => e.Event is SimEvent.DiskReadStarted);
        var finished = Assert.Single(run.Log.Tail, e => e.Event is SimEvent.DiskReadFinished);
        Assert.Equal(service.Ticks * 100, finished.TimeNanos - started.TimeNanos);
        var read = Assert.Single(Named(Spans.DiskRead));
        Assert.Equal(service, read.Duration);
        // The major fault is its steps in simulated time and nothing else: walk, entry, the read, exit (no jitter).
        var major = Assert.Single(run.Result!.FaultLatency, l => l.Kind == ResolutionKind.Major);
        var typical = Latencies.Typical;
        Assert.Equal(typical.PageWalk + typical.FaultEntry + service.Ticks * 100 + typical.FaultExit, major.Max);
        Assert.Equal(major.Max.ToString(), Tag(RootOf("major"), Attr.Latency));
    }

    /// <summary>Four CPUs load the same four pages of a file on real threads, every fault traced.</summary>
    private RunResult LiveHerd()
    {
        // Without readahead and fault-around: each of the four pages is a herd of its own, with its own read.
        var workload = Workloads.Make(new MachineSpec { Cpus = 4, Readahead = Faultsim.Model.Memory.ReadaheadRules.Off },
            [Workloads.Process("p", Workloads.FileMap("lib", 0x2000_0000, 4 * 4096, "lib"))],
            [.. Enumerable.Repeat("run p\nload lib:0..3", 4)]).WithFiles(new FileSpec("lib", 4 * 4096));
        var result = ActorEngine.Run(workload, EngineSettings.Default with { Run = RunContext.Live with { Tracing = TraceSettings.Sampling(1) } }, 1,
            TimeSpan.FromMinutes(1));
        _provider.ForceFlush();
        return result;
    }

    [Fact]
    public void A_live_runs_spans_are_on_the_wall_clock_and_link_across_threads()
    {
        var before = DateTime.UtcNow;
        var result = LiveHerd();
        var roots = Named(Spans.Fault);
        Assert.Equal(result.Totals.Total, roots.Count(r => Tag(r, Attr.Resolution) != "retry"));
        Assert.Equal(4, Named(Spans.DiskRead).Count); // one per page, however the CPUs raced
        Assert.All(_spans.Where(s => s.DisplayName != Spans.Fault), s => Assert.Contains(roots, r => r.SpanId == s.ParentSpanId && r.TraceId == s.TraceId));

        // On the wall clock: no span began before the run did (a tick's rounding aside), and the stamps the threads took
        // agree with the protocol's order of events, which a clock each thread kept for itself would not.
        Assert.All(_spans, s => Assert.True(s.StartTimeUtc >= before.AddTicks(-1), $"{s.DisplayName} began before the run"));
        foreach (var root in roots)
        {
            var steps = ChildrenOf(root).OrderBy(s => Array.IndexOf(StepOrder, s.DisplayName)).ToList();
            for (var i = 1; i < steps.Count; i++)
                Assert.True(steps[i - 1].StartTimeUtc <= steps[i].StartTimeUtc, $"{steps[i - 1].DisplayName} began after {steps[i].DisplayName}");
            Assert.All(steps, s => Assert.True(End(s) <= End(root), $"{s.DisplayName} ended after its fault"));
        }
        foreach (var cpu in roots.GroupBy(r => Tag(r, Attr.Cpu)))
        {
            var faults = cpu.OrderBy(r => r.StartTimeUtc).ToList(); // a CPU faults again only once woken from its last fault
            for (var i = 1; i < faults.Count; i++)
                Assert.True(End(faults[i - 1]) <= faults[i].StartTimeUtc, $"cpu {cpu.Key}'s faults overlap");
        }
        foreach (var wait in Named(Spans.LoaderWait)) // a follower is woken after its page's read, which another thread recorded
            Assert.Contains(Named(Spans.DiskRead), read => End(read) <= End(wait));
    }

    [Fact]
    public void A_live_runs_fault_span_holds_every_one_of_its_steps()
    {
        LiveHerd();
        foreach (var root in Named(Spans.Fault))
            Assert.All(ChildrenOf(root), s => Assert.True(s.StartTimeUtc >= root.StartTimeUtc && End(s) <= End(root), $"{s.DisplayName} lies outside its fault"));
    }

    private static DateTime End(Activity span) => span.StartTimeUtc + span.Duration;

    [Fact]
    public void A_major_fault_reads_the_disk_and_nobody_waits()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 1 }, [Workloads.Process("p", Workloads.FileMap("lib", 0x2000_0000, 4096, "lib"))],
            "run p\nload lib:0").WithFiles(new FileSpec("lib", 4096));
        Run(workload);
        var root = RootOf("major");
        Assert.Equal([Spans.TlbLookup, Spans.PageWalk, Spans.VmaLookup, Spans.DiskRead, Spans.PteInstall], ChildNames(root));
        Assert.NotNull(Assert.Single(Named(Spans.DiskRead)).GetTagItem(Attr.Block));
        Assert.Empty(Named(Spans.LoaderWait));
    }

    [Theory]
    [InlineData(2, 7)]
    [InlineData(4, 7)]
    [InlineData(4, 11)]
    public void A_herd_of_n_cpus_gives_one_disk_read_and_n_minus_one_waits_under_n_fault_roots(int cpus, ulong seed)
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = cpus }, [Workloads.Process("p", Workloads.FileMap("lib", 0x2000_0000, 4096, "lib"))],
            [.. Enumerable.Repeat("run p\nload lib:0", cpus)]).WithFiles(new FileSpec("lib", 4096));
        Run(workload, seed);
        var roots = Named(Spans.Fault);
        Assert.Equal(cpus, roots.Count);
        Assert.Equal(Enumerable.Range(0, cpus).Select(c => c.ToString()), roots.Select(r => Tag(r, Attr.Cpu)!).Order());
        var read = Assert.Single(Named(Spans.DiskRead));
        var waits = Named(Spans.LoaderWait);
        Assert.Equal(cpus - 1, waits.Count);
        // Each trace is one fault: its root on the TLB's CPU, and either the read (the leader's) or a wait (a follower's)
        // recorded by the loader or the mm, actors away: the parent links came inside the messages.
        foreach (var root in roots)
        {
            var steps = ChildrenOf(root);
            Assert.Single(steps, s => s.DisplayName is Spans.DiskRead or Spans.LoaderWait);
            Assert.All(_spans.Where(s => s.TraceId == root.TraceId && s != root), s => Assert.Equal(root.SpanId, s.ParentSpanId));
        }
        Assert.Equal(cpus, _spans.Select(s => s.TraceId).Distinct().Count());
        Assert.All(waits, w => Assert.True(w.StartTimeUtc + w.Duration >= read.StartTimeUtc + read.Duration, "a follower is woken after the read"));
    }

    [Fact]
    public void Trace_context_survives_the_serializer_so_links_hold_when_every_message_crosses_it()
    {
        using var serializing = new DeterministicEngine("akka.actor.serialize-messages = on");
        var workload = Workloads.Make(new MachineSpec { Cpus = 3 }, [Workloads.Process("p", Workloads.FileMap("lib", 0x2000_0000, 4096, "lib"))],
            [.. Enumerable.Repeat("run p\nload lib:0", 3)]).WithFiles(new FileSpec("lib", 4096));
        var settings = ActorEngineTests.Settings with { Run = ActorEngineTests.Settings.Run with { Tracing = TraceSettings.Sampling(1) } };
        Assert.Null(serializing.Run(workload, settings, 5, new RandomWalkStrategy(new SimRandom(5))).Violation);
        _provider.ForceFlush();
        var roots = Named(Spans.Fault);
        Assert.Equal(3, roots.Count);
        Assert.Single(Named(Spans.DiskRead));
        Assert.Equal(2, Named(Spans.LoaderWait).Count);
        Assert.All(_spans.Where(s => s.DisplayName != Spans.Fault), s => Assert.Contains(roots, r => r.SpanId == s.ParentSpanId && r.TraceId == s.TraceId));
    }

    [Fact]
    public void A_cow_break_copies_and_its_shootdown_has_one_ipi_span_per_target_cpu()
    {
        Run(Workloads.Make(new MachineSpec { Cpus = 3 }, [App],
            "run p\nstore buf:0\nfork c\nbarrier forked\nstore buf:0\nbarrier done",
            "run p\nload buf:1\nbarrier forked\nbarrier done",
            "run p\nload buf:2\nbarrier forked\nbarrier done"));
        var root = RootOf("cow_break");
        var names = ChildNames(root);
        Assert.Contains(Spans.PageCopy, names);
        Assert.Contains(Spans.PteInstall, names);
        var shootdown = Assert.Single(ChildrenOf(root), s => s.DisplayName == Spans.Shootdown);
        Assert.Equal("0", Tag(shootdown, Attr.Initiator));
        Assert.Equal("2", Tag(shootdown, Attr.Targets));
        var ipis = ChildrenOf(shootdown);
        Assert.All(ipis, s => Assert.Equal(Spans.Ipi, s.DisplayName));
        Assert.Equal(["1", "2"], ipis.Select(s => Tag(s, Attr.Cpu)!).Order());
        Assert.All(ipis, s => Assert.True(s.StartTimeUtc + s.Duration <= shootdown.StartTimeUtc + shootdown.Duration));
    }

    [Fact]
    public void A_shootdown_no_fault_started_is_a_trace_of_its_own()
    {
        Run(Workloads.Make(new MachineSpec { Cpus = 2 }, [App],
            "run p\nstore buf:0\nbarrier stored\nbarrier cached\nmunmap buf", "run p\nbarrier stored\nload buf:0\nbarrier cached"));
        var own = Named(Spans.Shootdown).Where(s => s.ParentSpanId == default).ToList();
        Assert.NotEmpty(own);
        Assert.All(own, s => Assert.Equal(["1"], ChildrenOf(s).Select(i => Tag(i, Attr.Cpu)!)));
    }

    [Fact]
    public void Ratio_zero_records_nothing()
    {
        Run(Workloads.Make(new MachineSpec { Cpus = 2 }, [App], "run p\nstore buf:0..3\nfork c\nbarrier f\nstore buf:0..3", "run p\nbarrier f\nload buf:0..3"), ratio: 0);
        Assert.Empty(_spans);
    }

    [Fact]
    public void A_ratio_samples_whole_faults_and_the_same_ones_for_the_same_seed()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 2 }, [Workloads.Process("p", Workloads.Anon("buf", 0x1000_0000, 64 * 4096))],
            "run p\nstore buf:0..31", "run p\nstore buf:32..63");
        HashSet<string> Sampled(ulong seed)
        {
            _spans.Clear();
            Run(workload, seed, ratio: 0.5);
            var roots = Named(Spans.Fault);
            // Whole traces: every step's root was kept.
            Assert.All(_spans.Where(s => s.DisplayName != Spans.Fault && s.DisplayName != Spans.Shootdown),
                s => Assert.Contains(roots, r => r.TraceId == s.TraceId));
            return [.. roots.Select(r => Tag(r, Attr.Address)!)];
        }
        var first = Sampled(3);
        Assert.InRange(first.Count, 16, 48);
        Assert.Equal(first, Sampled(3));
        Assert.NotEqual(first, Sampled(4));
    }
}

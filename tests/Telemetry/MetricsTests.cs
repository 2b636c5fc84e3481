using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Common;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;
using Faultsim.Tests.Actors;
using Faultsim.Tests.Model;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace Faultsim.Tests.Telemetry;

/// <summary>The simulator's metrics, as OpenTelemetry's in-memory exporter receives them, against the run's own counters.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class MetricsTests : IDisposable
{
    private readonly List<MetricSnapshot> _metrics = [];
    private readonly MeterProvider _provider;
    private readonly DeterministicEngine _engine = new();

    public MetricsTests()
    {
        _provider = Sdk.CreateMeterProviderBuilder().AddMeter(Instruments.Name).AddInMemoryExporter(_metrics).Build()!;
    }

    public void Dispose()
    {
        _engine.Dispose();
        _provider.Dispose();
    }

    private RunResult Run(Workload workload, ulong seed = 1)
    {
        var run = _engine.Run(workload, ActorEngineTests.Settings, seed, new RandomWalkStrategy(new SimRandom(seed)));
        Assert.Null(run.Violation);
        _provider.ForceFlush();
        return run.Result!;
    }

    private IEnumerable<MetricPoint> Points(string name)
    {
        var snapshot = _metrics.Last(m => m.Name == name); // cumulative: the last export holds the totals
        foreach (var point in snapshot.MetricPoints)
            yield return point;
    }

    private static string? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key)
                return tag.Value?.ToString();
        }
        return null;
    }

    private long Sum(string name, Func<MetricPoint, bool>? where = null) =>
        Points(name).Where(p => where?.Invoke(p) ?? true).Sum(p => p.GetSumLong());

    [Fact]
    public void Fault_disk_tlb_and_shootdown_metrics_add_up_to_the_runs_own_counters()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 3 },
            [Workloads.Process("p", Workloads.Anon("buf", 0x1000_0000, 8 * 4096), Workloads.FileMap("lib", 0x2000_0000, 2 * 4096, "lib"))],
            "run p\nload lib:0..1\nstore buf:0..7\nfork c\nbarrier forked\nstore buf:0..3",
            "run p\nload lib:0..1\nload buf:4\nbarrier forked",
            "run p\nload lib:1\nbarrier forked").WithFiles(new FileSpec("lib", 2 * 4096));
        var result = Run(workload);
        var totals = result.Totals;

        Assert.Equal(totals.Total, Sum("faultsim.faults"));
        foreach (var kind in Enum.GetValues<ResolutionKind>().Where(k => totals[k] > 0))
            Assert.Equal(totals[kind], Sum("faultsim.faults", p => Tag(p, Instruments.Attributes.Resolution) == kind.Name()));
        Assert.Equal(result.Processes.Single(p => p.Name == "p").Counters.Total,
            Sum("faultsim.faults", p => Tag(p, Instruments.Attributes.Pid) == result.Processes.Single(x => x.Name == "p").Pid.Value.ToString()));
        var durations = Points("faultsim.fault.duration").ToList();
        Assert.Equal(totals.Total, durations.Sum(p => p.GetHistogramCount()));
        Assert.All(durations, p => Assert.True(p.GetHistogramSum() > 0));

        Assert.Equal(totals.DiskReads, Sum("faultsim.disk.reads"));
        Assert.Equal(0, Sum("faultsim.disk.queue.depth"));  // every request served
        Assert.Equal(0, Sum("faultsim.loaders.active"));   // every loader free again
        Assert.Equal(totals.TlbHits, Sum("faultsim.tlb.lookups", p => Tag(p, Instruments.Attributes.TlbResult) == "hit"));
        Assert.Equal(totals.TlbMisses, Sum("faultsim.tlb.lookups", p => Tag(p, Instruments.Attributes.TlbResult) == "miss"));
        Assert.True(totals.Ipis > 0, "the fork and the COW breaks shoot down the other CPUs' entries");
        Assert.Equal(totals.Ipis, Sum("faultsim.ipis"));
        Assert.Equal(totals.Shootdowns, Points("faultsim.shootdown.duration").Sum(p => p.GetHistogramCount()));
    }

    [Fact]
    public void A_herds_loaders_are_busy_while_it_reads_and_free_after()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 4 }, [Workloads.Process("p", Workloads.FileMap("lib", 0x2000_0000, 4096, "lib"))],
            [.. Enumerable.Repeat("run p\nload lib:0", 4)]).WithFiles(new FileSpec("lib", 4096));
        long peak = 0, active = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Instruments.Name && instrument.Name == "faultsim.loaders.active")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, delta, _, _) => peak = Math.Max(peak, active += delta));
        listener.Start();
        var result = Run(workload);
        Assert.Equal(1, result.Totals.DiskReads);
        Assert.Equal(1, peak);   // one page: one loader, however many CPUs wait on it
        Assert.Equal(0, active);
    }
}

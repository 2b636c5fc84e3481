using System.Diagnostics;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Common;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;
using Faultsim.Tests.Actors;
using Faultsim.Tests.Model;
using OpenTelemetry;
using OpenTelemetry.Trace;

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

    private RunResult Run(Workload workload, ulong seed = 1, double ratio = 1)
    {
        var settings = ActorEngineTests.Settings with { Run = ActorEngineTests.Settings.Run with { Tracing = new TraceSettings(ratio, seed, DateTime.UnixEpoch) } };
        var run = _engine.Run(workload, settings, seed, new RandomWalkStrategy(new SimRandom(seed)));
        Assert.Null(run.Violation);
        _provider.ForceFlush();
        return run.Result!;
    }

    private List<Activity> Named(string name) => [.. _spans.Where(s => s.DisplayName == name)];

    private List<Activity> ChildrenOf(Activity parent) => [.. _spans.Where(s => s.ParentSpanId == parent.SpanId && s.TraceId == parent.TraceId)];

    [Fact]
    public void A_herd_of_four_cpus_gives_one_disk_read_and_three_waits_under_four_fault_roots()
    {
        var workload = Workloads.Make(new MachineSpec { Cpus = 4 }, [Workloads.Process("p", Workloads.FileMap("lib", 0x2000_0000, 4096, "lib"))],
            "run p\nload lib:0", "run p\nload lib:0", "run p\nload lib:0", "run p\nload lib:0").WithFiles(new FileSpec("lib", 4096));
        Run(workload, seed: 7);
        var roots = Named(Instruments.Spans.Fault);
        Assert.Equal(4, roots.Count);
        Assert.Single(Named(Instruments.Spans.DiskRead));
        Assert.Equal(3, Named(Instruments.Spans.LoaderWait).Count);
    }
}

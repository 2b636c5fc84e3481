using System.Text.Json;
using Faultsim.Host.Cli;
using Faultsim.Tests.Host;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Telemetry;

/// <summary>Traces leaving the process: the Chrome trace file, and OTLP over HTTP to a collector on loopback.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TraceExportTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private sealed record TraceEvent(string Name, string Ph, double Ts, double Dur, int Tid, JsonElement Args);

    private sealed record TraceFile(List<TraceEvent> Events, Dictionary<int, string> Lanes)
    {
        public List<TraceEvent> Slices(string name) => [.. Events.Where(e => e.Ph == "X" && e.Name == name)];
    }

    private static TraceFile Read(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var events = document.RootElement.GetProperty("traceEvents").EnumerateArray().Select(e => new TraceEvent(
            e.GetProperty("name").GetString()!, e.GetProperty("ph").GetString()!,
            e.TryGetProperty("ts", out var ts) ? ts.GetDouble() : 0, e.TryGetProperty("dur", out var dur) ? dur.GetDouble() : 0,
            e.TryGetProperty("tid", out var tid) ? tid.GetInt32() : 0, e.TryGetProperty("args", out var args) ? args.Clone() : default)).ToList();
        var lanes = events.Where(e => e is { Ph: "M", Name: "thread_name" }).ToDictionary(e => e.Tid, e => e.Args.GetProperty("name").GetString()!);
        return new TraceFile(events, lanes);
    }

    /// <summary>On every lane, slices nest: each starts after the one open before it ends, or ends inside it.</summary>
    private static void AssertNested(TraceFile trace)
    {
        const double Epsilon = 1e-6;
        foreach (var lane in trace.Events.Where(e => e.Ph == "X").GroupBy(e => e.Tid))
        {
            var open = new Stack<TraceEvent>();
            foreach (var slice in lane.OrderBy(e => e.Ts).ThenByDescending(e => e.Dur))
            {
                while (open.Count > 0 && open.Peek().Ts + open.Peek().Dur <= slice.Ts + Epsilon)
                    open.Pop();
                if (open.Count > 0)
                    Assert.True(slice.Ts + slice.Dur <= open.Peek().Ts + open.Peek().Dur + Epsilon,
                        $"on {trace.Lanes[lane.Key]}, {slice.Name} at {slice.Ts} overlaps {open.Peek().Name} at {open.Peek().Ts} without nesting");
                open.Push(slice);
            }
        }
    }

    private static string Arg(TraceEvent e, string name) => e.Args.GetProperty(name).ToString();

    [Fact]
    public void The_trace_file_of_a_herd_has_one_lane_per_cpu_with_one_read_and_the_others_waiting()
    {
        var path = Path.Combine(_dir.Root, "herd.json");
        var (exit, output, error) = Cli("replay", "--scenario", "herd", "--seed", "1", "--trace-file", path);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal("", error);
        Assert.Contains($"trace: {path}", output);
        var trace = Read(path);
        Assert.Equal(["cpu 0", "cpu 1", "cpu 2", "cpu 3"], trace.Lanes.Values.Order());
        var faults = trace.Slices("fault");
        Assert.Equal(4, faults.Count); // 4 CPUs fault page 0 at once; its read brings page 1 along, mapped around it
        Assert.All(faults, f => Assert.Equal($"cpu {Arg(f, "faultsim.cpu.id")}", trace.Lanes[f.Tid]));
        Assert.Single(trace.Slices("disk.read"));
        Assert.Equal(3, trace.Slices("loader.wait").Count);
        // Each step sits on its fault's lane, inside it.
        foreach (var step in trace.Events.Where(e => e is { Ph: "X" } && e.Name != "fault"))
        {
            var fault = faults.Single(f => Arg(f, "trace_id") == Arg(step, "trace_id"));
            Assert.Equal(fault.Tid, step.Tid);
        }
        AssertNested(trace);
        Assert.Contains(trace.Events, e => e is { Ph: "M", Name: "process_name" });
    }

    [Fact]
    public void The_trace_file_of_the_default_run_draws_ipis_on_their_target_cpus_linked_to_their_shootdowns()
    {
        var path = Path.Combine(_dir.Root, "default.json");
        var (exit, _, _) = Cli("run", "--trace-file", path);
        Assert.Equal(ExitCodes.Ok, exit);
        var trace = Read(path);
        Assert.All(trace.Lanes.Values, name => Assert.Matches(@"^(cpu [0-3]( \(\d+\))?|reclaim)$", name));
        Assert.Equal(["cpu 0", "cpu 1", "cpu 2", "cpu 3"], trace.Lanes.Values.Where(n => !n.Contains('(')).Order());
        var ipis = trace.Slices("ipi");
        Assert.NotEmpty(ipis);
        Assert.All(ipis, i => Assert.StartsWith($"cpu {Arg(i, "faultsim.cpu.id")}", trace.Lanes[i.Tid]));
        var starts = trace.Events.Where(e => e.Ph == "s").ToList();
        Assert.Equal(ipis.Count, starts.Count);
        Assert.Equal(ipis.Count, trace.Events.Count(e => e.Ph == "f"));
        Assert.Equal(trace.Slices("fault").Count, trace.Slices("tlb.lookup").Count);
        AssertNested(trace);
    }

    [Fact]
    public void Otlp_export_sends_every_traced_fault_and_the_metrics_to_a_collector_over_http()
    {
        using var collector = new OtlpReceiver();
        var config = _dir.Write("otlp.conf", $$"""
            faultsim.telemetry {
              service-name = faultsim-test
              traces.sampler = always
              metrics = on
              exporters = [otlp]
              otlp { endpoint = "{{collector.Endpoint}}", protocol = http/protobuf }
            }
            """);
        var path = Path.Combine(_dir.Root, "sent.json");
        var (exit, _, error) = Cli("run", "--config", config, "--trace-file", path);
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal("", error);

        // The spans that arrived, decoded: ExportTraceServiceRequest{1: ResourceSpans{1: Resource, 2: ScopeSpans{2: Span{1: trace_id, 5: name}}}}.
        var traces = collector.Bodies("/v1/traces");
        Assert.NotEmpty(traces);
        Assert.All(collector.Requests, r => Assert.Equal("application/x-protobuf", r.ContentType));
        var resources = traces.SelectMany(t => Protobuf.Messages(t, 1)).ToList();
        Assert.All(resources, r => Assert.Equal("faultsim-test", Protobuf.Attributes(Protobuf.Messages(r, 1).Single(), 1)["service.name"]));
        var spans = resources.SelectMany(r => Protobuf.Messages(r, 2)).SelectMany(s => Protobuf.Messages(s, 2)).ToList();
        var sent = spans.Select(s => (Trace: Convert.ToHexStringLower(Protobuf.Messages(s, 1).Single()), Name: Protobuf.Text(s, 5))).ToList();

        // They are the run's spans: the same traces, and as many of each name, as the trace file of the same run holds.
        var written = Read(path).Events.Where(e => e.Ph == "X").Select(e => (Trace: Arg(e, "trace_id"), e.Name)).ToList();
        Assert.Equal(written.Count, sent.Count);
        Assert.Equal(written.Select(w => w.Trace).ToHashSet(), sent.Select(s => s.Trace).ToHashSet());
        Assert.Equal(written.CountBy(w => w.Name).OrderBy(c => c.Key), sent.CountBy(s => s.Name).OrderBy(c => c.Key));

        // ExportMetricsServiceRequest{1: ResourceMetrics{2: ScopeMetrics{2: Metric{1: name}}}}.
        var metrics = collector.Bodies("/v1/metrics").SelectMany(m => Protobuf.Messages(m, 1)).SelectMany(r => Protobuf.Messages(r, 2))
            .SelectMany(s => Protobuf.Messages(s, 2)).Select(m => Protobuf.Text(m, 1)).ToHashSet();
        Assert.Superset(new HashSet<string> { "faultsim.faults", "faultsim.fault.duration", "faultsim.disk.reads", "faultsim.ipis",
            "faultsim.shootdown.duration", "faultsim.tlb.lookups" }, metrics);
    }

    [Fact]
    public void The_sampler_decides_which_faults_reach_the_trace_file()
    {
        var all = Path.Combine(_dir.Root, "all.json");
        var some = Path.Combine(_dir.Root, "some.json");
        Assert.Equal(ExitCodes.Ok, Cli("run", "--trace-file", all).Exit);
        Assert.Equal(ExitCodes.Ok, Cli("run", "--trace-file", some, "--set", "telemetry.traces.sampler=ratio", "--set", "telemetry.traces.ratio=0.3").Exit);
        var (allFaults, someFaults) = (Read(all).Slices("fault").Count, Read(some).Slices("fault").Count);
        Assert.InRange(someFaults, allFaults / 10, allFaults / 2);
        Assert.Equal(someFaults, Read(some).Slices("tlb.lookup").Count); // whole faults, never parts of one
    }

    [Fact]
    public void Configured_tracing_without_an_exporter_warns_that_it_goes_nowhere()
    {
        var (exit, _, error) = Cli("run", "--set", "telemetry.traces.sampler=always");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("no exporter", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void Explore_says_it_exports_no_telemetry_and_how_to_look_at_a_seed()
    {
        var (exit, _, error) = Cli("explore", "--scenario", "herd", "--seeds", "3", "--set", "telemetry.traces.sampler=always", "--set", "telemetry.exporters=[console]");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal("faultsim: warning: explore exports no telemetry (it runs thousands of seeds); replay a seed with --trace-file or the exporters to look at it",
            error.Trim());
    }

    [Fact]
    public void A_trace_file_for_the_reference_engine_or_in_a_missing_directory_is_a_one_line_error()
    {
        var (exit, _, error) = Cli("run", "--engine", "reference", "--trace-file", Path.Combine(_dir.Root, "t.json"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("faultsim: --trace-file: the reference engine records no spans; run the actor engine (--engine actors)", error.Trim());

        (exit, _, error) = Cli("run", "--trace-file", Path.Combine(_dir.Root, "no", "such", "t.json"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith("faultsim: ", error);
        Assert.Contains("faultsim: --trace-file: cannot write", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void Bench_tracing_reports_every_setting_against_tracing_off_with_the_spans_each_exported()
    {
        var (exit, output, _) = Cli("bench", "--tracing", "--faults", "1000", "--runs", "1", "--mode", "deterministic", "--json", "-");
        Assert.Equal(ExitCodes.Ok, exit);
        using var document = JsonDocument.Parse(output);
        var rows = document.RootElement.GetProperty("tracing").EnumerateArray().ToDictionary(r => r.GetProperty("tracing").GetString()!);
        Assert.Equal(["off", "ratio-0", "ratio-0.01", "ratio-1", "file"], rows.Keys);
        Assert.All(rows.Values, r => Assert.Equal("deterministic", r.GetProperty("mode").GetString()));
        Assert.Equal(1.0, rows["off"].GetProperty("time_vs_off").GetDouble());
        Assert.Equal(0, rows["off"].GetProperty("spans").GetInt64());
        Assert.Equal(0, rows["ratio-0"].GetProperty("spans").GetInt64());
        Assert.InRange(rows["ratio-0.01"].GetProperty("spans").GetInt64(), 1, 6 * 50); // about 10 faults of 1000, 6 spans each
        Assert.Equal(6 * 1000, rows["file"].GetProperty("spans").GetInt64()); // fault, lookup, walk, vma, zero, install
        Assert.InRange(rows["ratio-1"].GetProperty("spans").GetInt64(), 5 * 1000, 6 * 1000); // the batch processor may drop a few
        Assert.Equal(1.05, rows["ratio-0"].GetProperty("target_time_vs_off").GetDouble());
        Assert.Equal(3, rows["ratio-1"].GetProperty("target_time_vs_off").GetDouble());
        Assert.False(rows["file"].TryGetProperty("target_met", out _));
    }
}

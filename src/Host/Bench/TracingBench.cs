using System.Diagnostics;
using Faultsim.Actors.Telemetry;
using Faultsim.Host.Telemetry;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace Faultsim.Host.Bench;

/// <summary>
/// One way of tracing a benchmark run: the ratio of faults the engine samples, and what listens. Off has no SDK at all;
/// the SDK settings export through OpenTelemetry's batch processor to an exporter that only counts (the cost of tracing
/// itself, not of a network); file writes the Chrome trace file as `--trace-file` does.
/// </summary>
/// <param name="Slowdown">The most this setting may cost, as a multiple of the time with tracing off (0: no target).</param>
public sealed record TracingSetting(string Name, double Ratio, TracingSink Sink, double Slowdown);

public enum TracingSink { None, Sdk, File }

/// <summary>A tracing setting's median over the timed runs, and the spans one run exported.</summary>
public sealed record TracingResult(string Mode, TracingSetting Setting, BenchCase Case, int Runs, double MedianSeconds, long Spans)
{
    public double FaultsPerSecond => Case.Faults / MedianSeconds;
    public double SpansPerFault => Spans / (double)Case.Faults;
}

/// <summary>`faultsim bench --tracing`: what tracing costs the actor engine, setting by setting, against tracing off.</summary>
public static class TracingBench
{
    public static readonly TracingSetting[] Settings =
    [
        new("off", 0, TracingSink.None, 0),
        new("ratio-0", 0, TracingSink.Sdk, 1.05),
        new("ratio-0.01", 0.01, TracingSink.Sdk, 0),
        new("ratio-1", 1, TracingSink.Sdk, 3),
        new("file", 1, TracingSink.File, 0),
    ];

    /// <summary>
    /// Times <paramref name="bench"/> on each runner under every setting. The settings take turns within each round, so a
    /// machine that slows down mid-way slows them all alike; each is warmed up first.
    /// </summary>
    /// <param name="interrupt">The user's Ctrl-C: measuring stops at once; a mode keeps the rounds that finished under every setting.</param>
    public static List<TracingResult> Measure(BenchCase bench, int runs, IEnumerable<BenchRunner> runners, string scratchFile,
        CancellationToken interrupt = default)
    {
        var results = new List<TracingResult>();
        try
        {
            foreach (var runner in runners)
            {
                var seconds = Settings.ToDictionary(s => s, _ => new List<double>());
                var spans = Settings.ToDictionary(s => s, _ => 0L);
                var rounds = 0;
                try
                {
                    foreach (var setting in Settings)
                        runner.Check(bench, RunOnce(bench, runner, setting, scratchFile, out _, out _, interrupt));
                    for (; rounds < runs; rounds++)
                    {
                        foreach (var setting in Settings)
                        {
                            RunOnce(bench, runner, setting, scratchFile, out var elapsed, out var exported, interrupt);
                            seconds[setting].Add(elapsed);
                            spans[setting] = exported;
                        }
                    }
                }
                catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
                {
                    // the rounds that finished under every setting are kept
                }
                if (rounds > 0)
                {
                    foreach (var setting in Settings)
                        results.Add(new TracingResult(runner.Mode!, setting, bench, rounds, seconds[setting].Take(rounds).Order().ElementAt(rounds / 2), spans[setting]));
                }
                if (interrupt.IsCancellationRequested)
                    break;
            }
        }
        finally
        {
            File.Delete(scratchFile);
        }
        return results;
    }

    /// <summary>One run under <paramref name="setting"/>, timed until every span is exported.</summary>
    private static Model.Machine.RunResult RunOnce(BenchCase bench, BenchRunner runner, TracingSetting setting, string scratchFile,
        out double seconds, out long spans, CancellationToken interrupt)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers(); // each timed run starts from a collected heap, as `bench` times them
        var counter = new CountingExporter();
        var file = setting.Sink == TracingSink.File ? new ChromeTraceExporter(scratchFile, DateTime.UtcNow) : null;
        using var provider = setting.Sink == TracingSink.None ? null : Sdk.CreateTracerProviderBuilder()
            .AddSource(Instruments.Name).SetSampler(new AlwaysOnSampler())
            .AddProcessor(file is null ? new BatchActivityExportProcessor(counter) : new SimpleActivityExportProcessor(file))
            .Build();
        var traced = runner with { Settings = runner.Settings with { Run = runner.Settings.Run with { Tracing = TraceSettings.Sampling(setting.Ratio) } } };
        var clock = Stopwatch.StartNew();
        Model.Machine.RunResult result;
        try
        {
            result = traced.RunOnce(bench, out _, measureMemory: false, interrupt);
        }
        finally
        {
            provider?.ForceFlush();
        }
        seconds = clock.Elapsed.TotalSeconds;
        provider?.Dispose();
        spans = file is null ? counter.Spans : file.SpansWritten;
        return result;
    }

    /// <summary>An exporter that only counts what it is given: the SDK's own cost, without a destination's.</summary>
    private sealed class CountingExporter : BaseExporter<Activity>
    {
        public long Spans;

        public override ExportResult Export(in Batch<Activity> batch)
        {
            Spans += batch.Count;
            return ExportResult.Success;
        }
    }
}

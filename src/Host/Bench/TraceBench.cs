using System.Diagnostics;
using Faultsim.Actors.Machine;
using Faultsim.Host.Traces;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Bench;

/// <summary>One engine's replay of a trace, end to end (the file read and parsed as the run goes), beside the same engine's TLB-hit ceiling.</summary>
/// <param name="CeilingSeconds">The median time of the tlb-hit workload of as many accesses on one CPU.</param>
public sealed record TraceBenchResult(string Engine, string? Mode, BenchCase Case, int Runs, double MedianSeconds, BenchCase Ceiling, double CeilingSeconds)
{
    public string Label => Mode is null ? Engine : $"{Engine} {Mode}";
    public double AccessesPerSecond => Case.Accesses / MedianSeconds;
    public double CeilingAccessesPerSecond => Ceiling.Accesses / CeilingSeconds;
    public double Share => AccessesPerSecond / CeilingAccessesPerSecond;

    /// <summary>The target on a mostly-TLB-hit trace: 8 million accesses a second on the reference machine, 4 million on the actors.</summary>
    public double Target => Engine == ReferenceMachine.EngineName ? 8e6 : 4e6;

    public bool TargetMet => AccessesPerSecond >= Target;
}

/// <summary>
/// `faultsim bench --trace FILE`: accesses per second of a trace replayed end to end on each engine — a run opens the
/// file, its reader thread parses it into the channel the CPU reads — against the TLB-hit ceiling of the same engine
/// (the tlb-hit workload, as many accesses from a script on one CPU: what the engine does with no trace to read), and
/// the trace read alone.
/// </summary>
public static class TraceBench
{
    /// <summary>
    /// Times <paramref name="trace"/> on each runner: a warm-up run, then <paramref name="runs"/> timed runs of the trace and
    /// of the ceiling, taking turns. The user's Ctrl-C (<paramref name="interrupt"/>) stops it at once: the engines measured
    /// whole are returned.
    /// </summary>
    public static List<TraceBenchResult> Measure(TraceFile trace, MachineSpec machine, int runs, IEnumerable<BenchRunner> runners, CancellationToken interrupt)
    {
        var workload = TraceWorkload.ToWorkload([trace], TraceMode.Threads, machine with { Cpus = 1 });
        var results = new List<TraceBenchResult>();
        try
        {
            foreach (var runner in runners)
                results.Add(Measure(trace, workload, machine, runs, runner, interrupt));
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            // the engines measured whole are the figures
        }
        return results;
    }

    private static TraceBenchResult Measure(TraceFile trace, Workload workload, MachineSpec machine, int runs, BenchRunner runner, CancellationToken interrupt)
    {
        var warm = runner.RunOnce(new BenchCase("trace", trace.Path, workload, 0, 0), out _, measureMemory: false, interrupt);
        var bench = new BenchCase("trace", $"{Path.GetFileName(trace.Path)}: {warm.Totals.Accesses:N0} accesses replayed on 1 CPU",
            workload, warm.Totals.Total, warm.Totals.Accesses);
        var ceiling = BenchWorkloads.Create("tlb-hit", (int)Math.Clamp(bench.Accesses, 1_000, 50_000_000), cpus: 1, machine with { Frames = 0 }); // TLB hits, whatever the trace's frame limit
        runner.Check(ceiling, runner.RunOnce(ceiling, out _, measureMemory: false, interrupt));
        var (seconds, ceilingSeconds) = (new double[runs], new double[runs]);
        for (var i = 0; i < runs; i++)
        {
            seconds[i] = Time(() => runner.Check(bench, runner.RunOnce(bench, out _, measureMemory: false, interrupt)));
            ceilingSeconds[i] = Time(() => runner.RunOnce(ceiling, out _, measureMemory: false, interrupt));
        }
        return new TraceBenchResult(runner.Engine, runner.Mode, bench, runs, Median(seconds), ceiling, Median(ceilingSeconds));
    }

    /// <summary>Accesses per second of the trace read alone (the reader thread parsing into the channel, nothing simulated): the median of <paramref name="runs"/> passes.</summary>
    public static double ReadAlone(TraceFile trace, int runs, CancellationToken interrupt)
    {
        long accesses = 0;
        var seconds = new double[runs];
        for (var i = 0; i < runs; i++)
        {
            seconds[i] = Time(() =>
            {
                accesses = 0;
                using var pass = trace.Open();
                for (var batch = pass.NextBatch(); !batch.IsEmpty && !interrupt.IsCancellationRequested; batch = pass.NextBatch())
                    accesses += batch.Length;
            });
        }
        return accesses / Median(seconds);
    }

    private static double Time(Action run)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var clock = Stopwatch.StartNew();
        run();
        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        return values[values.Length / 2];
    }
}

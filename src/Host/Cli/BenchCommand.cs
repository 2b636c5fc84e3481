using System.CommandLine;
using System.Diagnostics;
using Faultsim.Host.Bench;
using Faultsim.Host.Output;
using Faultsim.Model.Machine;

namespace Faultsim.Host.Cli;

/// <summary>faultsim bench: times the engines on workloads that isolate one kind of fault, and reports rates.</summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output)
    {
        var faults = CommonOptions.Count("--faults", "Faults (or accesses, for tlb-hit) per run; default 1000000", 1000, 50_000_000);
        var runs = CommonOptions.Count("--runs", "Timed runs per workload, the median reported; default 5", 1, 100);
        var only = new Option<string[]>("--workload") { Description = "Run only these workloads (repeatable)", HelpName = string.Join('|', BenchWorkloads.Names) };
        only.AcceptOnlyFromAmong(BenchWorkloads.Names);
        var json = CommonOptions.Json();

        var command = new Command("bench", "Measure simulated faults per second of the engines") { faults, runs, only, json };
        command.SetAction(parse =>
        {
            var names = parse.GetValue(only) is { Length: > 0 } chosen ? chosen : BenchWorkloads.Names;
            var results = new List<BenchResult>();
            foreach (var name in names)
            {
                var bench = BenchWorkloads.Create(name, parse.GetValue(faults) ?? 1_000_000);
                results.Add(Measure(bench, parse.GetValue(runs) ?? 5));
            }
            var target = parse.GetValue(json);
            if (target != "-")
                BenchReport.Write(output, results);
            if (target is not null)
                CommonOptions.WriteJson(target, BenchReport.Json(results), output);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>One warm-up run (the JIT), then timed runs; the median time gives the rates.</summary>
    private static BenchResult Measure(BenchCase bench, int runs)
    {
        var warm = ReferenceMachine.Run(bench.Workload, seed: 1, captureMemory: false);
        if (warm.Totals.Total != bench.Faults)
            throw new InvalidOperationException($"benchmark {bench.Name} took {warm.Totals.Total} faults, not the {bench.Faults} it is built for");
        var seconds = new double[runs];
        var allocated = 0L;
        for (var i = 0; i < runs; i++)
        {
            GC.Collect();
            var before = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            ReferenceMachine.Run(bench.Workload, seed: 1, captureMemory: false);
            seconds[i] = clock.Elapsed.TotalSeconds;
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Array.Sort(seconds);
        return new BenchResult(ReferenceMachine.EngineName, bench, runs, seconds[runs / 2], allocated);
    }
}

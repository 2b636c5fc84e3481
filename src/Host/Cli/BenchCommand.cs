using System.CommandLine;
using System.Diagnostics;
using Akka.Actor;
using Faultsim.Actors.Machine;
using Faultsim.Host.Bench;
using Faultsim.Host.Output;
using Faultsim.Model.Machine;

namespace Faultsim.Host.Cli;

/// <summary>faultsim bench: times the engines on workloads that isolate one kind of fault, and reports rates.</summary>
internal static class BenchCommand
{
    private static readonly string[] Engines = [ReferenceMachine.EngineName, MachineActor.EngineName];

    public static Command Create(TextWriter output)
    {
        var faults = CommonOptions.Count("--faults", "Faults (or accesses, for tlb-hit) per run; default 1000000", 1000, 50_000_000);
        var runs = CommonOptions.Count("--runs", "Timed runs per workload, the median reported; default 5", 1, 100);
        var cpus = CommonOptions.Count("--cpus", "Simulated CPUs for demand-zero and tlb-hit; default 4", 1, 64);
        var only = new Option<string[]>("--workload") { Description = "Run only these workloads (repeatable)", HelpName = string.Join('|', BenchWorkloads.Names) };
        only.AcceptOnlyFromAmong(BenchWorkloads.Names);
        var engines = new Option<string[]>("--engine") { Description = "Run only these engines (repeatable)", HelpName = string.Join('|', Engines) };
        engines.AcceptOnlyFromAmong(Engines);
        var json = CommonOptions.Json();

        var command = new Command("bench", "Measure simulated faults per second of the engines") { faults, runs, cpus, only, engines, json };
        command.SetAction(parse =>
        {
            var names = parse.GetValue(only) is { Length: > 0 } chosen ? chosen : BenchWorkloads.Names;
            var which = parse.GetValue(engines) is { Length: > 0 } e ? e : Engines;
            var results = new List<BenchResult>();
            using var system = which.Contains(MachineActor.EngineName) ? ActorSystem.Create("faultsim-bench", ActorEngine.SystemConfig(EngineSettings.Default)) : null;
            foreach (var name in names)
            {
                var bench = BenchWorkloads.Create(name, parse.GetValue(faults) ?? 1_000_000, parse.GetValue(cpus) ?? 4);
                foreach (var engine in which)
                    results.Add(Measure(bench, parse.GetValue(runs) ?? 5, engine == MachineActor.EngineName ? system : null));
            }
            system?.Terminate().Wait(TimeSpan.FromSeconds(10));
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
    private static BenchResult Measure(BenchCase bench, int runs, ActorSystem? actors)
    {
        var engine = actors is null ? ReferenceMachine.EngineName : MachineActor.EngineName;
        var warm = RunOnce(bench, actors, out _);
        if (warm.Totals.Total != bench.Faults)
            throw new InvalidOperationException($"benchmark {bench.Name} took {warm.Totals.Total} faults on {engine}, not the {bench.Faults} it is built for");
        var seconds = new double[runs];
        var bytesPerPage = 0.0;
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            RunOnce(bench, actors, out var resident);
            seconds[i] = clock.Elapsed.TotalSeconds;
            bytesPerPage = resident;
        }
        Array.Sort(seconds);
        return new BenchResult(engine, bench, runs, seconds[runs / 2], warm.Messages, bytesPerPage);
    }

    /// <summary>Runs once; <paramref name="bytesPerPage"/> is the managed memory the finished run still holds per page it made resident.</summary>
    private static RunResult RunOnce(BenchCase bench, ActorSystem? actors, out double bytesPerPage)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        long held = 0;
        RunResult result;
        if (actors is null)
        {
            result = ReferenceMachine.Run(bench.Workload, seed: 1, captureMemory: false);
        }
        else
        {
            var settings = EngineSettings.Default;
            result = ActorEngine.Run(actors, bench.Workload, settings, seed: 1, TimeSpan.FromMinutes(30), captureMemory: false,
                keepAlive: _ => held = GC.GetTotalMemory(forceFullCollection: true) - before);
        }
        var pages = result.Totals.PagesZeroed + result.Totals.PagesCopied + result.Totals.Major;
        bytesPerPage = actors is null || pages == 0 ? 0 : held / (double)pages;
        return result;
    }
}

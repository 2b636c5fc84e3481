using System.CommandLine;
using System.Diagnostics;
using Akka.Actor;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Bench;
using Faultsim.Host.Configuration;
using Faultsim.Host.Output;
using Faultsim.Model.Machine;

namespace Faultsim.Host.Cli;

/// <summary>faultsim bench: times the engines on workloads that isolate one kind of fault, and reports rates.</summary>
internal static class BenchCommand
{
    private static readonly string[] Engines = [ReferenceMachine.EngineName, MachineActor.EngineName];
    private static readonly string[] Modes = ["live", "deterministic"];

    public static Command Create(TextWriter output)
    {
        var faults = CommonOptions.Count("--faults", "Faults (or accesses, for tlb-hit) per run; default 1000000", 1000, 50_000_000);
        var runs = CommonOptions.Count("--runs", "Timed runs per workload, the median reported; default 5", 1, 100);
        var cpus = CommonOptions.Count("--cpus", "Simulated CPUs for demand-zero and tlb-hit; default 4", 1, 64);
        var only = new Option<string[]>("--workload") { Description = "Run only these workloads (repeatable)", HelpName = string.Join('|', BenchWorkloads.Names) };
        only.AcceptOnlyFromAmong(BenchWorkloads.Names);
        var engines = new Option<string[]>("--engine") { Description = "Run only these engines (repeatable)", HelpName = string.Join('|', Engines) };
        engines.AcceptOnlyFromAmong(Engines);
        var modes = new Option<string[]>("--mode") { Description = "Run the actor engine only in these modes (repeatable)", HelpName = string.Join('|', Modes) };
        modes.AcceptOnlyFromAmong(Modes);
        var json = CommonOptions.Json();

        var command = new Command("bench", "Measure simulated faults per second of the engines") { faults, runs, cpus, only, engines, modes, json };
        command.SetAction(parse =>
        {
            var names = parse.GetValue(only) is { Length: > 0 } chosen ? chosen : BenchWorkloads.Names;
            var which = parse.GetValue(engines) is { Length: > 0 } e ? e : Engines;
            var actorModes = which.Contains(MachineActor.EngineName) ? parse.GetValue(modes) is { Length: > 0 } m ? m : Modes : [];
            var results = new List<BenchResult>();
            using var live = actorModes.Contains("live") ? ActorSystem.Create("faultsim-bench", ActorEngine.SystemConfig(EngineSettings.Default)) : null;
            using var deterministic = actorModes.Contains("deterministic") ? new DeterministicEngine() : null;
            var runners = new List<Runner>();
            if (which.Contains(ReferenceMachine.EngineName))
                runners.Add(new Runner(ReferenceMachine.EngineName, null, null));
            if (live is not null)
                runners.Add(new Runner(MachineActor.EngineName, "live", live));
            if (deterministic is not null)
                runners.Add(new Runner(MachineActor.EngineName, "deterministic", null, deterministic, DeterministicSettings()));
            foreach (var name in names)
            {
                var bench = BenchWorkloads.Create(name, parse.GetValue(faults) ?? 1_000_000, parse.GetValue(cpus) ?? 4);
                foreach (var runner in runners)
                    results.Add(Measure(bench, parse.GetValue(runs) ?? 5, runner));
            }
            live?.Terminate().Wait(TimeSpan.FromSeconds(10));
            var target = parse.GetValue(json);
            if (target != "-")
                BenchReport.Write(output, results);
            if (target is not null)
                CommonOptions.WriteJson(target, BenchReport.Json(results), output);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>An engine to time: the reference machine, the actors live on a system, or the actors on the deterministic driver.</summary>
    private sealed record Runner(string Engine, string? Mode, ActorSystem? Live, DeterministicEngine? Deterministic = null, EngineSettings? Settings = null);

    /// <summary>A deterministic run as `faultsim run` makes one: the default config's latencies on the virtual clock, the disk's time waited.</summary>
    private static EngineSettings DeterministicSettings() =>
        SimSettings.From(ConfigLoader.Load(null, [])).Actors with { TimedDisk = true, CaptureMemory = false };

    /// <summary>One warm-up run (the JIT), then timed runs; the median time gives the rates.</summary>
    private static BenchResult Measure(BenchCase bench, int runs, Runner runner)
    {
        var warm = RunOnce(bench, runner, out _);
        if (warm.Totals.Total != bench.Faults)
            throw new InvalidOperationException($"benchmark {bench.Name} took {warm.Totals.Total} faults on {runner.Engine} {runner.Mode}, not the {bench.Faults} it is built for");
        var seconds = new double[runs];
        var bytesPerPage = 0.0;
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            RunOnce(bench, runner, out var resident);
            seconds[i] = clock.Elapsed.TotalSeconds;
            bytesPerPage = resident;
        }
        Array.Sort(seconds);
        return new BenchResult(runner.Engine, bench, runs, seconds[runs / 2], warm.Messages, bytesPerPage) { Mode = runner.Mode };
    }

    /// <summary>
    /// Runs once; <paramref name="bytesPerPage"/> is the managed memory a finished live run still holds per page it made
    /// resident (0 where not measured). A deterministic run keeps no event log here: its speed, not its check, is timed.
    /// </summary>
    private static RunResult RunOnce(BenchCase bench, Runner runner, out double bytesPerPage)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        long held = 0;
        RunResult result;
        if (runner.Deterministic is { } engine)
        {
            var run = engine.Run(bench.Workload, runner.Settings!, seed: 1, new RandomWalkStrategy(new Faultsim.Model.Common.SimRandom(1)), logEvents: false);
            result = run.Result ?? throw new InvalidOperationException($"benchmark {bench.Name} did not finish deterministically: {run.Outcome}");
        }
        else if (runner.Live is { } system)
        {
            result = ActorEngine.Run(system, bench.Workload, EngineSettings.Default, seed: 1, TimeSpan.FromMinutes(30), captureMemory: false,
                keepAlive: _ => held = GC.GetTotalMemory(forceFullCollection: true) - before);
        }
        else
        {
            result = ReferenceMachine.Run(bench.Workload, seed: 1, captureMemory: false);
        }
        var pages = result.Totals.PagesZeroed + result.Totals.PagesCopied + result.Totals.Major;
        bytesPerPage = held == 0 || pages == 0 ? 0 : held / (double)pages;
        return result;
    }
}

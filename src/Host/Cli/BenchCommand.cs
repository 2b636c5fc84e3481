using System.CommandLine;
using System.Diagnostics;
using Faultsim.Actors.Machine;
using Faultsim.Host.Bench;
using Faultsim.Host.Configuration;
using Faultsim.Host.Output;
using Faultsim.Host.Traces;
using Faultsim.Model.Machine;

namespace Faultsim.Host.Cli;

/// <summary>faultsim bench: times the engines on workloads that isolate one kind of fault, and reports rates.</summary>
internal static class BenchCommand
{
    private static readonly string[] Engines = [ReferenceMachine.EngineName, MachineActor.EngineName];

    public static Command Create(CliContext cli)
    {
        var output = cli.Output;
        var config = CommonOptions.Config();
        var set = CommonOptions.Set();
        var faults = CommonOptions.Count("--faults", "Faults (or accesses, for tlb-hit) per run; default 1000000", 1000, 50_000_000);
        var runs = CommonOptions.Count("--runs", "Timed runs per workload, the median reported; default 5", 1, 100);
        var cpus = CommonOptions.Count("--cpus", "Simulated CPUs for demand-zero and tlb-hit; default 4", 1, 64);
        var only = new Option<string[]>("--workload") { Description = "Run only these workloads (repeatable)", HelpName = string.Join('|', BenchWorkloads.Names) };
        only.AcceptOnlyFromAmong(BenchWorkloads.Names);
        var engines = new Option<string[]>("--engine") { Description = "Run only these engines (repeatable)", HelpName = string.Join('|', Engines) };
        engines.AcceptOnlyFromAmong(Engines);
        var modes = new Option<string[]>("--mode") { Description = "Run the actor engine only in these modes (repeatable)", HelpName = string.Join('|', BenchEngines.Modes) };
        modes.AcceptOnlyFromAmong(BenchEngines.Modes);
        var json = CommonOptions.Json();
        var tracing = new Option<bool>("--tracing")
        {
            Description = "Measure what tracing costs the actor engine: off, sampling ratio 0, 1% and 100% through the OpenTelemetry SDK, and the trace file (default workload demand-zero, 100000 faults)",
        };

        var trace = new Option<string?>(TraceSet.Option)
        {
            Description = "Time a program's memory trace replayed end to end (parse included) on each engine, beside the engine's TLB-hit ceiling",
            HelpName = "FILE",
        };

        var cluster = new Option<bool>("--cluster")
        {
            Description = "Time demand-zero on a 3-node cluster on loopback in this process, in each layout, against one node (default 100000 faults)",
        };

        var command = new Command("bench", "Measure simulated faults per second of the engines")
        {
            faults, runs, cpus, only, engines, modes, tracing, trace, cluster, config, set, json,
        };
        command.SetAction(parse =>
        {
            OutputPaths.Check([("--json", parse.GetValue(json))], [("--config", parse.GetValue(config))]);
            var tracePath = parse.GetValue(trace);
            var settings = Settings(cli, parse.GetValue(config), parse.GetValue(set) ?? [], ownFaults: tracePath is null);
            if (parse.GetValue(cluster))
                return Cluster(parse, output, settings, parse.GetValue(set) ?? [], faults, runs, cpus, only, engines, modes, tracing, trace, config, json, cli.Interrupt);
            if (tracePath is not null)
                return Trace(parse, output, settings, tracePath, runs, engines, modes, only, tracing, faults, cpus, json, cli.Interrupt);
            if (parse.GetValue(tracing))
                return Tracing(parse, output, settings, faults, runs, cpus, only, modes, engines, json, cli.Interrupt);
            var names = parse.GetValue(only) is { Length: > 0 } chosen ? chosen : BenchWorkloads.Names;
            var results = new List<BenchResult>();
            using var timed = Chosen(parse, engines, modes, settings);
            foreach (var name in names)
            {
                var bench = BenchWorkloads.Create(name, parse.GetValue(faults) ?? 1_000_000, parse.GetValue(cpus) ?? 4, settings.Workload.Machine);
                foreach (var runner in timed.Runners.TakeWhile(_ => !cli.Interrupt.IsCancellationRequested))
                {
                    if (Measure(bench, parse.GetValue(runs) ?? 5, runner, cli.Interrupt) is { } measured)
                        results.Add(measured);
                }
            }
            var partial = cli.Interrupt.IsCancellationRequested;
            CommonOptions.Report(parse.GetValue(json), output, () => BenchReport.Write(output, results, partial), () => BenchReport.Json(results, partial));
            return partial ? ExitCodes.Interrupted : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>bench --tracing: each chosen workload (demand-zero by default) in each actor mode, under every tracing setting.</summary>
    private static int Tracing(ParseResult parse, TextWriter output, SimSettings settings, Option<int?> faults, Option<int?> runs, Option<int?> cpus,
        Option<string[]> only, Option<string[]> modes, Option<string[]> engines, Option<string?> json, CancellationToken interrupt)
    {
        if (parse.GetValue(engines) is { Length: > 0 } e && !e.Contains(MachineActor.EngineName))
            throw new ConfigException("--tracing", null, "only the actor engine is traced; leave out --engine reference");
        var names = parse.GetValue(only) is { Length: > 0 } chosen ? chosen : ["demand-zero"];
        var actorModes = parse.GetValue(modes) is { Length: > 0 } m ? m : BenchEngines.Modes;
        using var timed = new BenchEngines(reference: false, actorModes, DeterministicSettings(settings), LiveSettings(settings));
        var scratch = Path.Combine(Path.GetTempPath(), $"faultsim-bench-{Environment.ProcessId}.trace.json");
        var results = new List<TracingResult>();
        foreach (var name in names.TakeWhile(_ => !interrupt.IsCancellationRequested))
        {
            var bench = BenchWorkloads.Create(name, parse.GetValue(faults) ?? 100_000, parse.GetValue(cpus) ?? 4, settings.Workload.Machine);
            results.AddRange(TracingBench.Measure(bench, parse.GetValue(runs) ?? 5, timed.Runners, scratch, interrupt));
        }
        var partial = interrupt.IsCancellationRequested;
        CommonOptions.Report(parse.GetValue(json), output, () => BenchReport.WriteTracing(output, results, partial), () => BenchReport.TracingJson(results, partial));
        return partial ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    /// <summary>bench --cluster: demand-zero on a 3-node loopback cluster in each layout, against the live engine on one node.</summary>
    private static int Cluster(ParseResult parse, TextWriter output, SimSettings settings, IReadOnlyList<string> overrides, Option<int?> faults, Option<int?> runs,
        Option<int?> cpus, Option<string[]> only, Option<string[]> engines, Option<string[]> modes, Option<bool> tracing, Option<string?> trace, Option<string?> config,
        Option<string?> json, CancellationToken interrupt)
    {
        if (parse.GetValue(tracing) || parse.GetValue(trace) is not null || parse.GetValue(engines) is { Length: > 0 } || parse.GetValue(modes) is { Length: > 0 })
            throw new ConfigException("--cluster", null, "bench --cluster times the live actor engine on a cluster and on one node; leave out --tracing, --trace, --engine and --mode");
        if (parse.GetValue(only) is { Length: > 0 } chosen && chosen.Any(n => n != "demand-zero"))
            throw new ConfigException("--cluster", null, "bench --cluster times the demand-zero workload; leave out --workload or give --workload demand-zero");
        if (parse.GetValue(config) is not null)
            throw new ConfigException("--cluster", null, "the cluster's nodes rebuild bench's run from its workload and --set alone; leave out --config (give settings with --set)");
        var count = parse.GetValue(faults) ?? 100_000;
        var cpuCount = parse.GetValue(cpus) ?? 4;
        var bench = BenchWorkloads.Create("demand-zero", count, cpuCount, settings.Workload.Machine);
        using var timed = new BenchEngines(reference: false, ["live"], DeterministicSettings(settings), LiveSettings(settings));
        var results = ClusterBench.Measure(bench, BenchWorkloads.DemandZeroHocon(count, cpuCount), overrides, parse.GetValue(runs) ?? 5, timed.Runners[0],
            ClusterLayout.All, interrupt);
        var partial = interrupt.IsCancellationRequested;
        CommonOptions.Report(parse.GetValue(json), output, () => ClusterBenchReport.Write(output, results, partial), () => ClusterBenchReport.Json(results, partial));
        return partial ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    /// <summary>bench --trace FILE: the trace end to end on each chosen engine, beside the engine's TLB-hit ceiling and the trace read alone.</summary>
    private static int Trace(ParseResult parse, TextWriter output, SimSettings settings, string path, Option<int?> runs, Option<string[]> engines,
        Option<string[]> modes, Option<string[]> only, Option<bool> tracing, Option<int?> faults, Option<int?> cpus, Option<string?> json,
        CancellationToken interrupt)
    {
        if (parse.GetValue(tracing) || parse.GetValue(only) is { Length: > 0 } || parse.GetValue(faults) is not null || parse.GetValue(cpus) is not null)
            throw new ConfigException(TraceSet.Option, null, "bench --trace times the trace alone; leave out --tracing, --workload, --faults and --cpus");
        using var traces = TraceSet.Open([path])!;
        var file = traces.Files[0];
        var count = parse.GetValue(runs) ?? 5;
        using var timed = Chosen(parse, engines, modes, settings);
        var (results, readAlone) = traces.Run(error: null,
            () => (TraceBench.Measure(file, settings.Workload.Machine, count, timed.Runners, interrupt), TraceBench.ReadAlone(file, count, interrupt)));
        var partial = interrupt.IsCancellationRequested;
        CommonOptions.Report(parse.GetValue(json), output, () => TraceBenchReport.Write(output, path, readAlone, results, partial),
            () => TraceBenchReport.Json(path, readAlone, results, partial));
        return partial ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    /// <summary>The engines --engine and --mode choose (all of them by default), set up to be timed.</summary>
    private static BenchEngines Chosen(ParseResult parse, Option<string[]> engines, Option<string[]> modes, SimSettings settings)
    {
        var which = parse.GetValue(engines) is { Length: > 0 } e ? e : Engines;
        var actorModes = which.Contains(MachineActor.EngineName) ? parse.GetValue(modes) is { Length: > 0 } m ? m : BenchEngines.Modes : [];
        return new BenchEngines(which.Contains(ReferenceMachine.EngineName), actorModes, DeterministicSettings(settings), LiveSettings(settings));
    }

    /// <summary>A deterministic run as `faultsim run` makes one: the default config's latencies on the virtual clock (the OTEL_* variables play no part).</summary>
    internal static EngineSettings DeterministicSettings() => DeterministicSettings(SimSettings.From(ConfigLoader.Load(null, []), environment: _ => null));

    /// <summary>A deterministic run of <paramref name="settings"/>, as `faultsim run` makes one: the latencies on the virtual clock.</summary>
    private static EngineSettings DeterministicSettings(SimSettings settings) => settings.Actors with { CaptureMemory = false };

    /// <summary>A live run of <paramref name="settings"/>: its threads, quantum and disk, and no latencies (a live run waits none).</summary>
    private static EngineSettings LiveSettings(SimSettings settings) => settings.Actors with { CaptureMemory = false, Run = Faultsim.Actors.Machine.RunContext.Live };

    /// <summary>
    /// The settings bench's workloads run with: the config's and the --set's (latencies, the machine's TLB, zero page and
    /// policy, the actors' settings), its workloads its own. A key that would change the faults a workload takes — a frame
    /// limit, injected disk errors, a planted bug, loader crashes — is bad input: a benchmark checks it took exactly its faults.
    /// </summary>
    /// <param name="ownFaults">
    /// Whether bench runs workloads of its own, of a known number of faults; a trace's are the machine's to decide, so a frame
    /// limit is allowed with it — but not what makes runs differ (injected errors, planted bugs, loader crashes).
    /// </param>
    private static SimSettings Settings(CliContext cli, string? config, IReadOnlyList<string> overrides, bool ownFaults = true)
    {
        var loaded = ConfigLoader.Load(config, overrides);
        var settings = SimSettings.From(loaded, environment: _ => null);
        var machine = settings.Workload.Machine;
        var bugs = settings.Actors.Run.Bugs;
        var changes = machine.Frames != 0 && ownFaults ? "faultsim.machine.frames"
            : machine.Disk.ReadErrorRate > 0 ? "faultsim.machine.disk.read-error-rate"
            : machine.Disk.BadPages.Length > 0 ? "faultsim.machine.disk.bad-pages"
            : settings.Actors.Run.LoaderCrashRate > 0 ? "faultsim.chaos.loader-crash-rate"
            : bugs != Faultsim.Actors.Machine.PlantedBugs.None
                ? "faultsim.bugs." + SimSettings.BugKeys.First(k => loaded.Merged.GetString("faultsim.bugs." + k) is "on" or "true" or "yes")
                : null;
        if (changes is not null)
            throw loaded.Error(changes, $"{changes}: bench times workloads of a known number of faults, and this changes it; leave it at its default for bench (`faultsim run` runs with it)");
        if (loaded.WorkloadSource.Origin != ConfigLoader.EmbeddedOrigin)
            cli.Error.WriteLine($"faultsim: warning: bench runs its own workloads (--workload); the workload of {loaded.WorkloadSource.Origin} is not used");
        return settings;
    }

    /// <summary>
    /// One warm-up run (the JIT), which also measures the memory a run holds with its event log, and the ceiling's warm-up;
    /// then timed runs from a collected heap, each followed by a measurement of Akka.NET's ceiling in the same mode; the
    /// medians give the rates.
    /// </summary>
    /// <returns>The medians; with an interruption (<paramref name="interrupt"/>) those of the timed runs that finished, null if none did.</returns>
    private static BenchResult? Measure(BenchCase bench, int runs, BenchRunner runner, CancellationToken interrupt)
    {
        RunResult warm;
        double bytesPerPage;
        try
        {
            warm = runner.RunOnce(bench, out bytesPerPage, interrupt: interrupt);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            return null;
        }
        runner.Check(bench, warm);
        var seconds = new double[runs];
        var ceiling = new double[runs];
        var roundTrips = (int)Math.Clamp(warm.Messages / 2, CeilingRoundTrips.Min, CeilingRoundTrips.Max);
        runner.Ceiling?.WarmUp(roundTrips, CeilingWarmUp);
        for (var i = 0; i < runs; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var clock = Stopwatch.StartNew();
            try
            {
                runner.RunOnce(bench, out _, measureMemory: false, interrupt);
            }
            catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
            {
                if (i == 0)
                    return null;
                runs = i; // the runs that finished
                Array.Resize(ref seconds, runs);
                Array.Resize(ref ceiling, runs);
                break;
            }
            seconds[i] = clock.Elapsed.TotalSeconds;
            if (runner.Ceiling is { } akka)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                ceiling[i] = akka.MessagesPerSecond(roundTrips);
            }
        }
        Array.Sort(seconds);
        Array.Sort(ceiling);
        return new BenchResult(runner.Engine, bench, runs, seconds[runs / 2], warm.Messages, bytesPerPage)
        {
            Mode = runner.Mode,
            CeilingMessagesPerSecond = runner.Ceiling is null ? 0 : ceiling[runs / 2],
        };
    }

    /// <summary>
    /// Round trips of each measurement of the ceiling: as many messages as one run of the engine, within these bounds
    /// (enough to be timed steadily on a shared machine, few enough to take about a second at most).
    /// </summary>
    internal static readonly (long Min, long Max) CeilingRoundTrips = (20_000, 2_000_000);

    /// <summary>How long the ceiling runs before it is timed: long enough for the JIT's optimised code (see <see cref="AkkaCeiling.WarmUp"/>).</summary>
    internal static readonly TimeSpan CeilingWarmUp = TimeSpan.FromSeconds(1);
}

using System.CommandLine;
using Faultsim.Host.Cluster;
using Faultsim.Host.Configuration;
using Faultsim.Actors.Placement;
using Faultsim.Host.Output;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Running;
using Faultsim.Host.Telemetry;
using Faultsim.Host.Traces;
using Faultsim.Actors.Machine;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Cli;

/// <summary>A trace file written by a run: where, and how many trace events it holds.</summary>
internal sealed record TraceFileSummary(string Path, long Events);

/// <summary>faultsim run: runs a workload (the config's, or a page reference string) and reports what happened.</summary>
internal static class RunCommand
{
    public static Command Create(CliContext cli)
    {
        var (output, error) = (cli.Output, cli.Error);
        var config = CommonOptions.Config();
        var seed = CommonOptions.Seed();
        var json = CommonOptions.Json();
        var set = CommonOptions.Set();
        var engine = new Option<string?>("--engine") { Description = "Engine to run (same as --set engine=NAME)", HelpName = "actors|reference" };
        engine.AcceptOnlyFromAmong(SimSettings.Engines);
        var mode = new Option<string?>("--mode") { Description = "How the actor engine runs (same as --set mode=NAME)", HelpName = "deterministic|live" };
        mode.AcceptOnlyFromAmong(SimSettings.Modes);
        var strategy = CommonOptions.Strategy();
        var traceFile = CommonOptions.TraceFile();
        var events = CommonOptions.Events();
        var maxSteps = CommonOptions.MaxSteps("max-steps", "off", "Stop a deterministic run after N messages (exit 3); off: no limit, the default");
        var refs = new Option<string?>("--refs")
        {
            Description = "Run a page reference string instead of the workload: CPU 0 stores to page n of one region for each n, e.g. 7,0,1,2,0,3",
            HelpName = "LIST",
        };
        var trace = new Option<string[]>(TraceSet.Option)
        {
            Description = "Replay a program's memory trace instead of the workload (valgrind lackey, or pinatrace's ADDR R|W; .gz read directly): " +
                "one process on CPU 0 whose one region covers the user address space; repeat for several traces, one CPU each",
            HelpName = "FILE",
            AllowMultipleArgumentsPerToken = false,
        };
        var traceMode = new Option<string?>(TraceSet.ModeOption) { Description = "How several --trace run: threads of one process (the default), or processes of their own", HelpName = "threads|processes" };
        traceMode.AcceptOnlyFromAmong(TraceSet.Modes);
        var frames = CommonOptions.Count("--frames", "Physical frames (same as --set machine.frames=N; 0 = no limit)", 0, 1 << 28);
        var policy = new Option<string?>("--policy") { Description = "Replacement policy (same as --set machine.policy=NAME)", HelpName = "fifo|lru|clock|opt" };
        policy.AcceptOnlyFromAmong("fifo", "lru", "clock", "opt");

        var cluster = new Option<string?>("--cluster")
        {
            Description = "Run on a running cluster instead, its seed nodes named by FILE (e.g. config/cluster/local.conf): live, on the actor engine",
            HelpName = "FILE",
        };

        var command = new Command("run", "Run a workload and print a summary of its faults")
        {
            config, seed, json, set, engine, mode, strategy, events, traceFile, maxSteps, refs, trace, traceMode, frames, policy, cluster,
        };
        command.SetAction(parse =>
        {
            OutputPaths.Check([("--json", parse.GetValue(json)), ("--events", parse.GetValue(events)), ("--trace-file", parse.GetValue(traceFile))],
                [("--config", parse.GetValue(config))]);
            var overrides = new List<string>(parse.GetValue(set) ?? []);
            if (parse.GetValue(seed) is { } s) overrides.Add($"seed={s}");
            if (parse.GetValue(engine) is { } e) overrides.Add($"engine={e}");
            if (parse.GetValue(mode) is { } m) overrides.Add($"mode={m}");
            if (parse.GetValue(strategy) is { } st) overrides.Add($"explore.strategy={st}");
            if (parse.GetValue(frames) is { } f) overrides.Add($"machine.frames={f}");
            if (parse.GetValue(policy) is { } p) overrides.Add($"machine.policy={p}");
            if (parse.GetValue(maxSteps) is { } ms) overrides.Add($"max-steps={ms}");
            var configPath = parse.GetValue(config);
            if (parse.GetValue(cluster) is { } clusterFile)
            {
                foreach (var (option, given, why) in new[]
                         {
                             ("--refs", parse.GetValue(refs), "runs the workload of --config"),
                             ("--trace", parse.GetValue(trace) is { Length: > 0 } ? "" : null, "runs the workload of --config"),
                             ("--events", parse.GetValue(events), "keeps no event log"),
                             ("--trace-file", parse.GetValue(traceFile), "records no spans"),
                             ("--max-steps", parse.GetValue(maxSteps), "is live, and a step limit stops deterministic runs"),
                         })
                {
                    if (given is not null)
                        throw new ConfigException(option, null, $"a cluster run (--cluster) {why}; drop {option} or --cluster");
                }
                if (parse.GetValue(mode) == "deterministic")
                    throw new ConfigException("--mode", null, "a cluster run is live (its actors run on several nodes); drop --mode deterministic or --cluster");
                return RunOnCluster(cli, clusterFile, configPath, overrides, parse.GetValue(json));
            }
            var settings = SimSettings.From(ConfigLoader.Load(configPath, overrides), cli.Environment);

            var workload = settings.Workload;
            var refsText = parse.GetValue(refs);
            if (parse.GetValue(traceMode) is not null && parse.GetValue(trace) is not { Length: > 0 })
                throw new ConfigException(TraceSet.ModeOption, null, "--trace-mode says how several --trace run; give the traces with --trace FILE");
            if (refsText is not null && parse.GetValue(trace) is { Length: > 0 })
                throw new ConfigException(TraceSet.Option, null, "--trace and --refs each replace the workload; give one of them");
            if (refsText is not null)
            {
                if (workload.Machine.Frames == 0)
                    throw new WorkloadException(null, "--refs needs a frame limit: add --frames N");
                workload = ReferenceString.ToWorkload(ReferenceString.Parse(refsText), workload.Machine.Frames, workload.Machine.Policy, workload.Machine);
            }
            using var traces = TraceSet.Open(parse.GetValue(trace));
            if (traces is not null)
                workload = traces.Workload(TraceSet.ModeOf(parse.GetValue(traceMode)), workload.Machine);

            using var eventFile = OpenEvents(settings, parse.GetValue(events), output);
            (RunReport, TraceFileSummary?) RunIt() => RunTraced(settings, workload, parse.GetValue(traceFile), error, eventFile, output, cli.Interrupt);
            var (report, spans) = traces is null ? RunIt() : traces.Run(error, RunIt);
            eventFile?.Finish("--events");
            var source = refsText is not null ? $"reference string {refsText}" : traces?.Source ?? configPath ?? ConfigLoader.EmbeddedOrigin;
            Report(output, parse.GetValue(json), report, workload, settings, source, spans, alwaysLog: false,
                OutputPaths.AnyToStandardOutput(parse.GetValue(events), parse.GetValue(traceFile)));
            return ExitCodes.Of(report, error);
        });
        return command;
    }

    /// <summary>
    /// faultsim run --cluster FILE: the run submitted to the cluster FILE names, from a client member that leaves when the
    /// run is done; the same summary and JSON as a run on one node, and where each actor ran.
    /// </summary>
    private static int RunOnCluster(CliContext cli, string clusterFile, string? configPath, IReadOnlyList<string> overrides, string? json)
    {
        var nodeSettings = ClusterCommands.Load("--cluster", clusterFile, []);
        ConfigLoader.Load(configPath, overrides); // bad input is reported here, before any cluster is contacted
        var spec = new RunSpec(configPath ?? "", configPath is null ? "" : ConfigLoader.ReadFile("--config", configPath) ?? "", [.. overrides]);
        var (settings, workload) = ClusterRun.Load(spec);
        return RunOnCluster(cli, nodeSettings, spec, settings, workload, json, configPath ?? ConfigLoader.EmbeddedOrigin).GetAwaiter().GetResult();
    }

    private static async Task<int> RunOnCluster(CliContext cli, NodeSettings nodeSettings, RunSpec spec, SimSettings settings, Workload workload,
        string? json, string source)
    {
        await using var client = await ClusterCommands.Client(cli, nodeSettings);
        if (client is null)
            return ExitCodes.Unavailable;
        RunReport report;
        try
        {
            report = await ClusterRun.RunAsync(client, spec, Runner.LiveTimeout, cli.Interrupt, events: true);
        }
        catch (WorkloadException ex) when (ex.Line is not null)
        {
            throw new ConfigException(settings.WorkloadOrigin, ex.Line, ex.Message);
        }
        catch (OperationCanceledException) when (cli.Interrupt.IsCancellationRequested)
        {
            report = new RunReport(null, null, null, 0, settings.Seed) { Interrupted = true }; // the machine is stopped, and its parts with it
        }
        Report(cli.Output, json, report, workload, settings, source, null, alwaysLog: false);
        return ExitCodes.Of(report, cli.Error);
    }

    /// <summary>--events FILE: the file every event is streamed to (- for <paramref name="output"/>), opened before the run; null without the option.</summary>
    internal static EventFile? OpenEvents(SimSettings settings, string? path, TextWriter output)
    {
        if (path is null)
            return null;
        if (settings.Engine != MachineActor.EngineName)
            throw new ConfigException("--events", null, "the reference engine keeps no event log; run the actor engine (--engine actors)");
        return EventFile.Open("--events", path, output);
    }

    /// <summary>
    /// Runs the workload with the telemetry the settings ask for and, with <paramref name="traceFile"/>, its spans written
    /// there (every fault traced, unless a sampler says which). The exporters have flushed when it returns.
    /// </summary>
    /// <param name="events">Receives every event as it happens (--events FILE).</param>
    /// <param name="output">Standard output, where a trace file of "-" goes.</param>
    /// <param name="interrupt">The user's Ctrl-C: the run stops and reports what it did (partial), and the trace file is marked partial.</param>
    internal static (RunReport Report, TraceFileSummary? Trace) RunTraced(SimSettings settings, Workload workload, string? traceFile, TextWriter error,
        EventFile? events = null, TextWriter? output = null, CancellationToken interrupt = default)
    {
        if (settings.Engine != MachineActor.EngineName)
        {
            if (traceFile is not null)
                throw new ConfigException("--trace-file", null, "the reference engine records no spans; run the actor engine (--engine actors)");
            return (Run(settings, workload, events, interrupt), null);
        }
        if (traceFile is not null && settings.Telemetry.TraceRatio == 0)
            settings = settings.WithTraceRatio(1);
        RunReport report;
        var telemetry = TelemetryHost.Start(settings.Telemetry, traceFile, error, output);
        using (telemetry)
        {
            report = Run(settings, workload, events, interrupt);
            if (report.Interrupted)
                telemetry.MarkPartial();
        }
        return (report, traceFile is null ? null : new TraceFileSummary(traceFile, telemetry.TraceFileEvents));
    }

    /// <summary>
    /// The report of a run or a replay: its summary, the last events of its log (when it went wrong or stopped before
    /// the end, or always with <paramref name="alwaysLog"/>), the trace file written; and the JSON where --json says.
    /// </summary>
    /// <param name="outputTaken">Whether another output (--events -, --trace-file -) writes to standard output: then only the JSON may.</param>
    internal static void Report(TextWriter output, string? jsonTarget, RunReport report, Workload workload, SimSettings settings, string source,
        TraceFileSummary? trace, bool alwaysLog, bool outputTaken = false) =>
        CommonOptions.Report(jsonTarget, output, () =>
        {
            RunSummary.Write(output, report, workload, settings, source);
            if (alwaysLog || report.Unfinished)
                ExploreReport.WriteLog(output, report);
            if (trace is not null)
                output.WriteLine($"trace: {trace.Path} ({trace.Events:N0} events; open it in https://ui.perfetto.dev)");
        }, () => RunJson.Serialize(report, settings.Engine), outputTaken);

    /// <summary>Runs the workload; a workload error found while running points into the file its script came from.</summary>
    internal static RunReport Run(SimSettings settings, Workload workload, EventFile? events = null, CancellationToken interrupt = default)
    {
        try
        {
            return Runner.Run(settings, workload, settings.Seed, sink: events, interrupt: interrupt);
        }
        catch (WorkloadException ex) when (ex.Line is not null)
        {
            throw settings.ErrorIn(ex);
        }
    }
}

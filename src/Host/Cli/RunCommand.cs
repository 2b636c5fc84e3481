using System.CommandLine;
using Faultsim.Host.Configuration;
using Faultsim.Host.Output;
using Faultsim.Actors.Scheduling;
using Faultsim.Host.Running;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Cli;

/// <summary>faultsim run: runs a workload (the config's, or a page reference string) and reports what happened.</summary>
internal static class RunCommand
{
    public static Command Create(TextWriter output)
    {
        var config = CommonOptions.Config();
        var seed = CommonOptions.Seed();
        var json = CommonOptions.Json();
        var set = CommonOptions.Set();
        var engine = new Option<string?>("--engine") { Description = "Engine to run (same as --set engine=NAME)", HelpName = "actors|reference" };
        engine.AcceptOnlyFromAmong(SimSettings.Engines);
        var mode = new Option<string?>("--mode") { Description = "How the actor engine runs (same as --set mode=NAME)", HelpName = "deterministic|live" };
        mode.AcceptOnlyFromAmong(SimSettings.Modes);
        var strategy = CommonOptions.Strategy();
        var events = new Option<string?>("--events") { Description = "Write the run's whole event log to FILE, one event a line", HelpName = "FILE" };
        var refs = new Option<string?>("--refs")
        {
            Description = "Run a page reference string instead of the workload: CPU 0 stores to page n of one region for each n, e.g. 7,0,1,2,0,3",
            HelpName = "LIST",
        };
        var frames = CommonOptions.Count("--frames", "Physical frames (same as --set machine.frames=N; 0 = no limit)", 0, 1 << 28);
        var policy = new Option<string?>("--policy") { Description = "Replacement policy (same as --set machine.policy=NAME)", HelpName = "fifo|lru|clock|opt" };
        policy.AcceptOnlyFromAmong("fifo", "lru", "clock", "opt");

        var command = new Command("run", "Run a workload and print a summary of its faults")
        {
            config, seed, json, set, engine, mode, strategy, events, refs, frames, policy,
        };
        command.SetAction(parse =>
        {
            var overrides = new List<string>(parse.GetValue(set) ?? []);
            if (parse.GetValue(seed) is { } s) overrides.Add($"seed={s}");
            if (parse.GetValue(engine) is { } e) overrides.Add($"engine={e}");
            if (parse.GetValue(mode) is { } m) overrides.Add($"mode={m}");
            if (parse.GetValue(strategy) is { } st) overrides.Add($"explore.strategy={st}");
            if (parse.GetValue(frames) is { } f) overrides.Add($"machine.frames={f}");
            if (parse.GetValue(policy) is { } p) overrides.Add($"machine.policy={p}");
            var configPath = parse.GetValue(config);
            var settings = SimSettings.From(ConfigLoader.Load(configPath, overrides));

            var workload = settings.Workload;
            var refsText = parse.GetValue(refs);
            if (refsText is not null)
            {
                if (workload.Machine.Frames == 0)
                    throw new WorkloadException(null, "--refs needs a frame limit: add --frames N");
                workload = ReferenceString.ToWorkload(ReferenceString.Parse(refsText), workload.Machine.Frames, workload.Machine.Policy, workload.Machine);
            }

            var report = Run(settings, workload);
            var jsonTarget = parse.GetValue(json);
            if (jsonTarget != "-")
            {
                var source = refsText is not null ? $"reference string {refsText}" : configPath ?? ConfigLoader.EmbeddedOrigin;
                RunSummary.Write(output, report, workload, settings, source);
                if (report.Violation is not null || report.Stall is not null)
                    ExploreReport.WriteLog(output, report); // the events up to where it went wrong
            }
            if (parse.GetValue(events) is { } eventsPath && report.Log is { } log)
                File.WriteAllLines(eventsPath, log.Lines);
            if (jsonTarget is not null)
                CommonOptions.WriteJson(jsonTarget, RunJson.Serialize(report, settings.Engine), output);
            return report.Violation is not null || report.Result is null ? ExitCodes.Violation : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Runs the workload; a workload error found while running points into the file its script came from.</summary>
    internal static RunReport Run(SimSettings settings, Workload workload, DeterministicEngine? engine = null)
    {
        try
        {
            return Runner.Run(settings, workload, settings.Seed, engine);
        }
        catch (WorkloadException ex) when (ex.Line is not null)
        {
            throw new ConfigException(settings.WorkloadOrigin, ex.Line, ex.Message);
        }
    }
}

using System.CommandLine;
using Faultsim.Host.Output;
using Faultsim.Host.Running;
using Faultsim.Host.Scenarios;
using Spectre.Console;

namespace Faultsim.Host.Cli;

/// <summary>faultsim scenarios, explore and replay: race scenarios, searched over seeds and replayed exactly.</summary>
internal static class ScenarioCommands
{
    public static Command List(CliContext cli)
    {
        var output = cli.Output;
        var command = new Command("scenarios", "List the race scenarios, one line each");
        command.SetAction(_ =>
        {
            var console = Terminal.On(output);
            var table = new Table().Border(TableBorder.Rounded).Title("race scenarios (config/scenarios)");
            table.AddColumn("scenario");
            table.AddColumn("what races");
            foreach (var name in ScenarioCatalog.Names)
                table.AddRow(name, Markup.Escape(ScenarioCatalog.Load(name, []).Description));
            console.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Explore(CliContext cli)
    {
        var (output, error) = (cli.Output, cli.Error);
        var (scenario, strategy, set, config) = (ScenarioOption(), CommonOptions.Strategy(), CommonOptions.Set(), CommonOptions.Config());
        var seeds = CommonOptions.Count("--seeds", "Seeds to run, from 1 (default: faultsim.explore.seeds)", 1, int.MaxValue);
        var threads = CommonOptions.Count("--threads", "Seeds run in parallel, one engine each (default: the cores)", 1, 256);
        var maxSteps = CommonOptions.MaxSteps("explore.max-steps", "auto", "Stop each seed's run after N messages (exit 3); auto, the default, scales it to the scripts");
        var command = new Command("explore",
            "Run a scenario over many seeds until one violates an invariant (exit 1), reaches the step limit (exit 3) or crashes the simulation (exit 70), or none does (exit 0)")
        {
            scenario, seeds, strategy, config, set, threads, maxSteps,
        };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(scenario)!;
            var settings = ScenarioCatalog.Load(name, Overrides(parse, set, strategy, maxSteps, "explore.max-steps"), parse.GetValue(config), cli.Environment);
            if (settings.Telemetry.TraceRatio > 0 || settings.Telemetry.Metrics)
                error.WriteLine("faultsim: warning: explore exports no telemetry (it runs thousands of seeds); replay a seed with --trace-file or the exporters to look at it");
            var count = parse.GetValue(seeds) ?? settings.Explore.Seeds;
            var outcome = WithProgress(output, count, report =>
                Explorer.Explore(settings, count, parse.GetValue(threads) ?? Environment.ProcessorCount, report));
            var speed = $"{outcome.SeedsRun:N0} seeds in {outcome.Elapsed.TotalSeconds:F1} s ({outcome.SeedsPerSecond:N0} seeds/s)";
            if (outcome.Failure is not { } failure)
            {
                output.WriteLine($"no violation in {count:N0} seeds of {name}: {speed}");
                return ExitCodes.Ok;
            }
            ExploreReport.WriteFailure(output, name, parse.GetValue(set) ?? [], settings, failure, parse.GetValue(config));
            output.WriteLine(speed);
            return ExitCodes.Of(failure, error);
        });
        return command;
    }

    public static Command Replay(CliContext cli)
    {
        var (output, error) = (cli.Output, cli.Error);
        var (scenario, strategy, set, traceFile, config) = (ScenarioOption(), CommonOptions.Strategy(), CommonOptions.Set(), CommonOptions.TraceFile(), CommonOptions.Config());
        var seed = CommonOptions.Seed();
        seed.Description = "The seed to replay";
        seed.Required = true;
        var json = CommonOptions.Json();
        var events = CommonOptions.Events();
        var maxSteps = CommonOptions.MaxSteps("max-steps", "off", "Stop the run after N messages (exit 3); off: no limit, the default");
        var command = new Command("replay", "Replay one run of a scenario exactly: the same events, the same verdict")
        {
            scenario, seed, strategy, config, set, json, traceFile, events, maxSteps,
        };
        command.SetAction(parse =>
        {
            var name = parse.GetValue(scenario)!;
            OutputPaths.Check([("--json", parse.GetValue(json)), ("--events", parse.GetValue(events)), ("--trace-file", parse.GetValue(traceFile))],
                [("--config", parse.GetValue(config)), ("--scenario", name)]);
            var settings = ScenarioCatalog.Load(name, Overrides(parse, set, strategy, maxSteps, "max-steps"), parse.GetValue(config), cli.Environment);
            settings = settings with { Seed = parse.GetValue(seed)!.Value };
            using var eventFile = RunCommand.OpenEvents(settings, parse.GetValue(events), output);
            var (report, trace) = RunCommand.RunTraced(settings, settings.Workload, parse.GetValue(traceFile), error, eventFile, output);
            eventFile?.Finish("--events");
            RunCommand.Report(output, parse.GetValue(json), report, settings.Workload, settings, $"scenario {name}", trace, alwaysLog: true,
                OutputPaths.AnyToStandardOutput(parse.GetValue(events), parse.GetValue(traceFile)));
            return ExitCodes.Of(report, error);
        });
        return command;
    }

    private static Option<string> ScenarioOption() => new("--scenario")
    {
        Description = "A scenario of config/scenarios (see `faultsim scenarios`), or a path to a scenario file",
        HelpName = "NAME",
        Required = true,
    };

    private static List<string> Overrides(ParseResult parse, Option<string[]> set, Option<string?> strategy, Option<string?> maxSteps, string maxStepsKey)
    {
        var overrides = new List<string>(parse.GetValue(set) ?? []);
        if (parse.GetValue(strategy) is { } s)
            overrides.Add($"explore.strategy={s}");
        if (parse.GetValue(maxSteps) is { } m)
            overrides.Add($"{maxStepsKey}={m}");
        return overrides;
    }

    /// <summary>A progress bar on a terminal; nothing when the output is a file or a pipe.</summary>
    private static ExploreOutcome WithProgress(TextWriter output, int seeds, Func<Action<long>?, ExploreOutcome> explore)
    {
        if (!ReferenceEquals(output, Console.Out) || Console.IsOutputRedirected)
            return explore(null);
        ExploreOutcome? outcome = null;
        AnsiConsole.Progress().Start(context =>
        {
            var task = context.AddTask("exploring seeds", maxValue: seeds);
            outcome = explore(done => task.Value = done);
        });
        return outcome!;
    }
}

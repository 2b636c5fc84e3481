using System.CommandLine;
using Faultsim.Host.Output;
using Faultsim.Host.Running;
using Faultsim.Host.Configuration;
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
        var (scenario, swarm, strategy, set, config, write) =
            (ScenarioOption(), SwarmOption(), CommonOptions.Strategy(), CommonOptions.Set(), CommonOptions.Config(), WriteScenarioOption());
        var seeds = CommonOptions.Count("--seeds", "Seeds to run, from 1 (default: faultsim.explore.seeds)", 1, int.MaxValue);
        var threads = CommonOptions.Count("--threads", "Seeds run in parallel, one engine each (default: the cores)", 1, 256);
        var maxSteps = CommonOptions.MaxSteps("explore.max-steps", "auto", "Stop each seed's run after N messages (exit 3); auto, the default, scales it to the scripts");
        var outDir = new Option<string?>("--out")
        {
            Description = $"Write the failing seed's reproducer (shrunk unless --no-shrink) as a scenario file to DIR, named after the invariant and the seed (default: {Reproducers.DefaultDirectory}/)",
            HelpName = "DIR",
        };
        var noShrink = new Option<bool>("--no-shrink") { Description = "Write the failing seed's run as it is, without shrinking it to a minimal reproducer" };
        var power = new Option<bool>("--power")
        {
            Description = "Measure the search's power instead: for every planted bug and strategy (random, PCT d=1..3 on its scenario, swarm), the seeds to the first catch over --ranges independent seed ranges of at most --seeds (default 10000)",
        };
        var ranges = CommonOptions.Count("--ranges", "With --power: independent seed ranges per bug and strategy (default 20)", 1, 1000);
        var bugs = new Option<string[]>("--bug") { Description = "With --power: measure only these planted bugs (repeatable; default every one)", HelpName = "NAME" };
        bugs.AcceptOnlyFromAmong([.. SimSettings.BugKeys]);
        var command = new Command("explore",
            "Run a scenario (or a swarm draw per seed) over many seeds until one violates an invariant (exit 1), reaches the step limit (exit 3) or crashes the simulation (exit 70), or none does (exit 0)")
        {
            scenario, swarm, seeds, strategy, config, set, threads, maxSteps, write, outDir, noShrink, power, ranges, bugs,
        };
        OneSource(command, scenario, swarm, power);
        command.SetAction(parse =>
        {
            if (parse.GetValue(power))
                return Power(cli, parse.GetValue(bugs) is { Length: > 0 } chosen ? chosen : SimSettings.BugKeys, parse.GetValue(ranges) ?? 20,
                    parse.GetValue(seeds) ?? 10_000, parse.GetValue(threads) ?? Environment.ProcessorCount, parse.GetValue(set) ?? []);
            OutputPaths.Check([("--write-scenario", parse.GetValue(write))], [("--config", parse.GetValue(config)), ("--scenario", parse.GetValue(scenario))]);
            var overrides = Overrides(parse, set, strategy, maxSteps, "explore.max-steps");
            var source = ExploreSource.Of(parse.GetValue(scenario), parse.GetValue(swarm), overrides, parse.GetValue(config), cli.Environment);
            var first = source.Settings(1);
            if (first.Telemetry.TraceRatio > 0 || first.Telemetry.Metrics)
                error.WriteLine("faultsim: warning: explore exports no telemetry (it runs thousands of seeds); replay a seed with --trace-file or the exporters to look at it");
            var count = parse.GetValue(seeds) ?? first.Explore.Seeds;
            var directory = parse.GetValue(outDir) ?? Reproducers.DefaultDirectory;
            Reproducers.Check(directory);
            var outcome = WithProgress(output, count, report =>
                Explorer.Explore(source.Settings, count, parse.GetValue(threads) ?? Environment.ProcessorCount, report, cli.Interrupt));
            var speed = outcome.Speed;
            if (outcome.Interrupted && outcome.Failure is null)
            {
                output.WriteLine($"interrupted (SIGINT): partial: no violation in the {outcome.SeedsRun:N0} of {count:N0} seeds of {source.Name} that finished" +
                    $" — seeds 1 to {outcome.PassedThrough:N0} all passed{(outcome.SeedsRun > outcome.PassedThrough ? $", and {outcome.SeedsRun - outcome.PassedThrough:N0} above" : "")}: {speed}");
                output.WriteLine(outcome.Coverage.Summary(outcome.PassedThrough));
                return ExitCodes.Interrupted;
            }
            if (outcome.Failure is not { } failure)
            {
                output.WriteLine($"no violation in {count:N0} seeds of {source.Name}{source.Tally()}: {speed}");
                output.WriteLine(outcome.Coverage.Summary(count));
                return ExitCodes.Ok;
            }
            ExploreReport.WriteFailure(output, source.Title(failure.Seed), source.Argument, parse.GetValue(set) ?? [], outcome.FailureSettings!, failure,
                parse.GetValue(config));
            if (parse.GetValue(write) is { } path)
                source.Write(path, failure.Seed, output);
            if (failure.Failed) // (interrupted, it is written as it failed: shrinking would run on)
                Reproducers.Write(output, directory, !parse.GetValue(noShrink) && !outcome.Interrupted, source.Title(failure.Seed), source.Text(failure.Seed),
                    overrides, failure, outcome.FailureSettings!.Explore.ShrinkMaxRuns);
            output.WriteLine(speed);
            return ExitCodes.Of(failure, error);
        });
        return command;
    }

    public static Command Replay(CliContext cli)
    {
        var (output, error) = (cli.Output, cli.Error);
        var (scenario, swarm, strategy, set, traceFile, config) =
            (ScenarioOption(), SwarmOption(), CommonOptions.Strategy(), CommonOptions.Set(), CommonOptions.TraceFile(), CommonOptions.Config());
        var seed = CommonOptions.Seed();
        seed.Description = "The seed to replay (under --swarm, also the seed of the draw)";
        seed.Required = true;
        var json = CommonOptions.Json();
        var events = CommonOptions.Events();
        var write = WriteScenarioOption();
        var maxSteps = CommonOptions.MaxSteps("max-steps", "off", "Stop the run after N messages (exit 3); off: no limit, the default");
        var command = new Command("replay", "Replay one run of a scenario (or of a seed's swarm draw) exactly: the same events, the same verdict")
        {
            scenario, swarm, seed, strategy, config, set, json, traceFile, events, maxSteps, write,
        };
        OneSource(command, scenario, swarm);
        command.SetAction(parse =>
        {
            var (jsonPath, eventsPath, tracePath, writePath) = (parse.GetValue(json), parse.GetValue(events), parse.GetValue(traceFile), parse.GetValue(write));
            OutputPaths.Check([("--json", jsonPath), ("--events", eventsPath), ("--trace-file", tracePath), ("--write-scenario", writePath)],
                [("--config", parse.GetValue(config)), ("--scenario", parse.GetValue(scenario))]);
            var source = ExploreSource.Of(parse.GetValue(scenario), parse.GetValue(swarm), Overrides(parse, set, strategy, maxSteps, "max-steps"),
                parse.GetValue(config), cli.Environment);
            var at = parse.GetValue(seed)!.Value;
            var settings = source.Settings(at) with { Seed = at };
            if (writePath is { } path)
                source.Write(path, at, output);
            using var eventFile = RunCommand.OpenEvents(settings, eventsPath, output);
            var (report, trace) = RunCommand.RunTraced(settings, settings.Workload, tracePath, error, eventFile, output, cli.Interrupt);
            eventFile?.Finish("--events");
            RunCommand.Report(output, jsonPath, report, settings.Workload, settings, source.Title(at), trace, alwaysLog: true,
                OutputPaths.AnyToStandardOutput(eventsPath, tracePath));
            return ExitCodes.Of(report, error);
        });
        return command;
    }

    private static Option<string?> ScenarioOption() => new("--scenario")
    {
        Description = "A scenario of config/scenarios (see `faultsim scenarios`), or a path to a scenario file",
        HelpName = "NAME",
    };

    private static Option<bool> SwarmOption() => new("--swarm")
    {
        Description = "Instead of a scenario, each seed draws a whole run (knobs, processes, regions, scripts) within faultsim.swarm.*; --set pins a knob",
    };

    private static Option<string?> WriteScenarioOption() => new("--write-scenario")
    {
        Description = "Write the seed's run (explore: the failing seed's) as a scenario file, which `replay --scenario FILE --seed S` runs the same",
        HelpName = "FILE",
    };

    /// <summary>explore --power: the search-power table, exit 0 (130 if interrupted).</summary>
    private static int Power(CliContext cli, IReadOnlyList<string> bugs, int ranges, long maxSeeds, int threads, IReadOnlyList<string> overrides)
    {
        var rows = SearchPower.Measure(bugs, ranges, maxSeeds, threads, overrides, interrupt: cli.Interrupt);
        var partial = cli.Interrupt.IsCancellationRequested;
        PowerReport.Write(cli.Output, rows, ranges, maxSeeds, partial);
        return partial ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    /// <summary>A command runs either a scenario or swarm draws: exactly one of the two (explore --power runs its own).</summary>
    private static void OneSource(Command command, Option<string?> scenario, Option<bool> swarm, Option<bool>? power = null) =>
        command.Validators.Add(result =>
        {
            var (named, drawn) = (result.GetResult(scenario) is not null, result.GetValue(swarm));
            if (power is not null && result.GetValue(power))
            {
                if (named || drawn)
                    result.AddError("--power measures every planted bug on its own scenario and on swarm draws: leave out --scenario and --swarm");
                return;
            }
            if (named == drawn)
                result.AddError(named
                    ? "--scenario and --swarm exclude each other: give a scenario, or --swarm for a draw per seed"
                    : "give --scenario NAME (see `faultsim scenarios`) or --swarm (a whole run drawn per seed)");
        });

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

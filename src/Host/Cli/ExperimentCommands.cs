using System.CommandLine;
using Faultsim.Host.Experiments;

namespace Faultsim.Host.Cli;

/// <summary>faultsim experiments and experiment: the sweeps that ship, and a sweep run over its points and seeds.</summary>
internal static class ExperimentCommands
{
    public static Command List(CliContext cli)
    {
        var command = new Command("experiments", "List the experiments that ship (config/experiments), one line each");
        command.SetAction(_ =>
        {
            var width = ExperimentCatalog.Names.Max(n => n.Length);
            foreach (var name in ExperimentCatalog.Names)
                cli.Output.WriteLine($"{name.PadRight(width)}  {ExperimentCatalog.Load(name, quick: false).Description}");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Run(CliContext cli)
    {
        var (output, error) = (cli.Output, cli.Error);
        var experiment = new Argument<string>("EXPERIMENT") { Description = "A shipped experiment's name (see `faultsim experiments`) or an experiment FILE.conf" };
        var outDir = new Option<string?>(ExperimentOutput.Option) { Description = "Where results go (default: experiments/NAME/)", HelpName = "DIR" };
        var quick = new Option<bool>("--quick") { Description = "Run the experiment's reduced size (its quick section: fewer seeds, values, accesses)" };
        var jobs = CommonOptions.Count("--jobs", "Runs at once (default: the cores)", 1, 256);
        var command = new Command("experiment",
            "Run an experiment: every point on every seed in parallel, each run deterministic; write results.csv, summary.csv (mean, sd, 95% CI), runs/*.json and a plot per figure (PNG, SVG)")
        {
            experiment, outDir, quick, jobs,
        };
        command.SetAction(parse =>
        {
            var spec = ExperimentCatalog.Load(parse.GetValue(experiment)!, parse.GetValue(quick));
            ExperimentRunner.Check(spec);
            var results = ExperimentOutput.Create(parse.GetValue(outDir) ?? Path.Combine("experiments", spec.Name));
            var progress = new ExperimentProgress(spec.Points.Length * spec.Seeds.Length);
            var runs = ExperimentProgressBar.Run(progress, error,
                () => ExperimentRunner.Run(spec, parse.GetValue(jobs) ?? Environment.ProcessorCount, progress, results.WriteRun, cli.Interrupt));
            var written = results.Write(spec, runs);
            ExperimentOutput.Table(output, spec, runs);
            var finished = runs.Count(r => r is not null);
            if (cli.Interrupt.IsCancellationRequested)
                output.WriteLine($"interrupted (SIGINT): {finished} of {runs.Length} runs finished; the points whose every seed finished are kept");
            foreach (var path in written)
                output.WriteLine($"wrote {path}");
            output.WriteLine($"wrote {finished} run{(finished == 1 ? "" : "s")} to {results.Runs}");
            var failed = runs.Count(r => r is not null && r.Status != "ok");
            if (failed > 0)
                error.WriteLine($"faultsim: {failed} of {finished} runs did not finish cleanly (see the status column of results.csv)");
            return cli.Interrupt.IsCancellationRequested ? ExitCodes.Interrupted : failed > 0 ? ExitCodes.Violation : ExitCodes.Ok;
        });
        return command;
    }
}

using Faultsim.Host.Cli;
using Faultsim.Host.Experiments;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>`faultsim experiment` and `experiments`: the shipped sweeps at their quick size, determinism, the statistics, Ctrl-C and bad files.</summary>
public sealed class ExperimentTests
{
    private const string Small = """
        experiment {
          description = "a small sweep"
          vary {
            machine.frames = [8, 24]
            machine.policy = [fifo, lru]
          }
          seeds = [3, 4]
          figures = ["faults.total", "faults.major", "faults.total/accesses"]
        }
        faultsim {
          engine = reference
          machine.cpus = 1
          workload.generator { kind = zipf, pages = 32, accesses = 400 }
        }
        """;

    private static string RepositoryFile(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
                return Path.Combine([dir.FullName, .. parts]);
        }
        throw new InvalidOperationException("no Actors.sln above " + AppContext.BaseDirectory);
    }

    public static TheoryData<string> Shipped => [.. ExperimentCatalog.Names];

    [Fact]
    public void The_experiments_the_issue_names_ship_and_are_listed_one_line_each()
    {
        Assert.Equal(["belady", "cow-storm", "herd-latency", "policies-trace", "shootdown-churn", "thrashing"], ExperimentCatalog.Names);
        Assert.Equal(ExperimentCatalog.Names, Directory.GetFiles(RepositoryFile("config", "experiments"), "*.conf").Select(Path.GetFileNameWithoutExtension).Order());
        var (exit, output, _) = Cli("experiments");
        Assert.Equal(ExitCodes.Ok, exit);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal(ExperimentCatalog.Names, lines.Select(l => l.Split(' ')[0]));
        Assert.All(lines, l => Assert.True(l.Length > 40, l));
    }

    [Theory]
    [MemberData(nameof(Shipped))]
    public void Every_shipped_experiment_runs_quick_and_writes_every_figure_its_plot_and_its_runs(string name)
    {
        using var dir = new TempDirectory();
        var (exit, output, error) = Cli("experiment", RepositoryFile("config", "experiments", name + ".conf"), "--quick", "--out", dir.Root);
        Assert.True(exit == ExitCodes.Ok, error + output);
        var spec = ExperimentCatalog.Load(RepositoryFile("config", "experiments", name + ".conf"), quick: true);
        var runs = spec.Points.Length * spec.Seeds.Length;
        var results = File.ReadAllLines(Path.Combine(dir.Root, "results.csv"));
        Assert.Equal(runs + 1, results.Length);
        Assert.All(results.Skip(1), row => Assert.DoesNotContain(",,", row + ","));   // every figure of every run is there
        Assert.Equal(spec.Points.Length + 1, File.ReadAllLines(Path.Combine(dir.Root, "summary.csv")).Length);
        Assert.Equal(runs, Directory.GetFiles(Path.Combine(dir.Root, "runs"), "*.json").Length);
        foreach (var figure in spec.Figures)
        {
            Assert.True(new FileInfo(Path.Combine(dir.Root, Figures.FileName(figure) + ".png")).Length > 1000);
            Assert.Contains("<svg", File.ReadAllText(Path.Combine(dir.Root, Figures.FileName(figure) + ".svg")));
        }
        Assert.Contains(spec.Description, output);
        Assert.DoesNotContain('\u001b', output + error);                                // no progress bar, no colour when redirected
    }

    [Fact]
    public void The_same_experiment_file_and_seeds_give_byte_identical_csvs()
    {
        using var dir = new TempDirectory();
        var file = dir.Write("small.conf", Small);
        var actors = dir.Write("actors.conf", Small.Replace("engine = reference", "engine = actors").Replace("accesses = 400", "accesses = 100"));
        foreach (var experiment in new[] { file, actors })
        {
            Assert.Equal(ExitCodes.Ok, Cli("experiment", experiment, "--out", Path.Combine(dir.Root, "a"), "--jobs", "2").Exit);
            Assert.Equal(ExitCodes.Ok, Cli("experiment", experiment, "--out", Path.Combine(dir.Root, "b"), "--jobs", "1").Exit);
            foreach (var csv in new[] { "results.csv", "summary.csv" })
                Assert.Equal(File.ReadAllBytes(Path.Combine(dir.Root, "a", csv)), File.ReadAllBytes(Path.Combine(dir.Root, "b", csv)));
        }
        var rows = File.ReadAllLines(Path.Combine(dir.Root, "a", "results.csv"));
        Assert.Equal("point,seed,machine.frames,machine.policy,status,faults.total,faults.major,faults.total/accesses", rows[0]);
        Assert.Equal(["0,3,8,fifo", "0,4,8,fifo", "1,3,8,lru", "1,4,8,lru", "2,3,24,fifo", "2,4,24,fifo", "3,3,24,lru", "3,4,24,lru"],
            rows.Skip(1).Select(r => string.Join(',', r.Split(',').Take(4))));
    }

    [Fact]
    public void Each_run_of_an_experiment_is_the_run_of_its_config_and_seed()
    {
        using var dir = new TempDirectory();
        Assert.Equal(ExitCodes.Ok, Cli("experiment", dir.Write("small.conf", Small), "--out", dir.Root).Exit);
        var row = File.ReadAllLines(Path.Combine(dir.Root, "results.csv"))[4].Split(',');   // point 1 (8 frames, lru), seed 4
        var (exit, json, _) = Cli("run", "--config", Path.Combine(dir.Root, "small.conf"), "--seed", "4", "--frames", "8", "--policy", "lru", "--json", "-");
        Assert.Equal(ExitCodes.Ok, exit);
        using var document = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(row[5], Figures.Of(document.RootElement, "faults.total"));
        Assert.Equal(row[6], Figures.Of(document.RootElement, "faults.major"));
        Assert.Equal(json, File.ReadAllText(Path.Combine(dir.Root, "runs", "p001-seed4.json")));
    }

    [Fact]
    public void The_summary_is_the_mean_sample_deviation_and_students_95_percent_interval()
    {
        var stats = FigureStats.Of([1, 2, 3, 4]);
        Assert.Equal(2.5, stats.Mean);
        Assert.Equal(Math.Sqrt(5.0 / 3), stats.Sd, 12);
        Assert.Equal(2.5 - 3.182 * Math.Sqrt(5.0 / 3) / 2, stats.Low, 12);
        Assert.Equal(2.5 + 3.182 * Math.Sqrt(5.0 / 3) / 2, stats.High, 12);
        Assert.True(double.IsNaN(FigureStats.Of([7]).Sd));
        Assert.Equal(1.960, FigureStats.T975(1000));
    }

    [Fact]
    public void Zipped_keys_pair_their_values_and_crossed_keys_vary_the_last_fastest()
    {
        using var dir = new TempDirectory();
        var crossed = ExperimentCatalog.Load(dir.Write("c.conf", Small), quick: false);
        Assert.Equal(["machine.frames=8, machine.policy=fifo", "machine.frames=8, machine.policy=lru", "machine.frames=24, machine.policy=fifo", "machine.frames=24, machine.policy=lru"],
            crossed.Points.Select(p => p.ToString()));
        var zipped = ExperimentCatalog.Load(dir.Write("z.conf", Small.Replace("seeds = [3, 4]", "seeds = 2\n  combine = zip")), quick: false);
        Assert.Equal(["machine.frames=8, machine.policy=fifo", "machine.frames=24, machine.policy=lru"], zipped.Points.Select(p => p.ToString()));
        Assert.Equal([1UL, 2UL], zipped.Seeds.ToArray());
        var ranged = ExperimentCatalog.Load(dir.Write("r.conf", Small.Replace("machine.frames = [8, 24]", "machine.frames { from = 1, to = 16, factor = 2 }")), quick: false);
        Assert.Equal(["1", "2", "4", "8", "16"], ranged.Parameters[0].Values.ToArray());
    }

    [Fact]
    public void Ctrl_c_before_the_first_run_keeps_nothing_but_writes_every_output_whole_and_exits_130()
    {
        using var dir = new TempDirectory();
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = FaultsimCli.Run(["experiment", dir.Write("small.conf", Small), "--out", dir.Root], output, error, _ => null, new CancellationToken(canceled: true));
        Assert.Equal(ExitCodes.Interrupted, exit);
        Assert.Contains("interrupted (SIGINT): 0 of 8 runs finished", output.ToString());
        Assert.Single(File.ReadAllLines(Path.Combine(dir.Root, "results.csv")));
    }

    [Fact]
    public void Ctrl_c_mid_sweep_keeps_the_runs_that_finished()
    {
        using var dir = new TempDirectory();
        var spec = ExperimentCatalog.Load(dir.Write("small.conf", Small), quick: false);
        using var interrupt = new CancellationTokenSource();
        var runs = ExperimentRunner.Run(spec, jobs: 1, new ExperimentProgress(8), _ => interrupt.Cancel(), interrupt.Token);
        Assert.Single(runs, r => r is not null);
        Assert.Equal(2, ExperimentSummary.Results(spec, runs).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Empty(ExperimentSummary.Of(spec, runs));   // its point's other seed never ran
    }

    [Theory]
    [InlineData("figures = [\"faults.total\",", "figures = [\"faults.totl\",", 8, "experiment.figures names 'faults.totl', which is not a figure of a run's JSON; use one of cpus,")]
    [InlineData("seeds = [3, 4]", "seeds = [3, 4]\n  colour = blue", 8, "unknown key 'experiment.colour'; an experiment takes description, vary,")]
    [InlineData("machine.frames = [8, 24]", "machine.frames = 8", 4, "experiment.vary.machine.frames should be a list of values, e.g. machine.frames = [1, 2, 4]")]
    [InlineData("machine.frames = [8, 24]", "machine.frames = [8, 24, 32]", 8, "experiment.combine is zip, but the lists have different lengths (machine.frames: 3, machine.policy: 2)")]
    [InlineData("machine.frames = [8, 24]", "machine.frames = [8, lots]", 4, "vary machine.frames=lots: faultsim.machine.frames is 'lots'; use a whole number from 0 to")]
    [InlineData("machine.frames = [8, 24]", "machine.fraems = [8, 24]", 4, "vary machine.fraems=8: unknown key 'faultsim.machine.fraems'")]
    [InlineData("machine.frames = [8, 24]", "machine.frames { from = 8, to = 2 }", 4, "experiment.vary.machine.frames goes from 8 down to 2; give to at least from")]
    [InlineData("seeds = [3, 4]", "seeds = [3, 4]\n  traces = [\"nope.lackey.gz\"]", 8, "experiment.traces names ")]
    [InlineData("accesses = 400", "accesses = 0", 13, "faultsim.workload.generator.accesses is '0'; use a whole number from 1 to")]
    public void A_bad_experiment_file_is_one_error_at_its_line_and_exit_2(string from, string to, int line, string message)
    {
        using var dir = new TempDirectory();
        var text = Small.Replace(from, to);
        if (message.Contains("zip", StringComparison.Ordinal))
            text = text.Replace("seeds = [3, 4]", "seeds = [3, 4]\n  combine = zip");
        var file = dir.Write("bad.conf", text);
        var (exit, output, error) = Cli("experiment", file, "--out", Path.Combine(dir.Root, "out"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", output);
        Assert.StartsWith($"faultsim: {file}:", error);
        Assert.StartsWith($"{line}: {message}", error[$"faultsim: {file}:".Length..]);
        Assert.Single(error.TrimEnd().Split('\n'));
    }
}

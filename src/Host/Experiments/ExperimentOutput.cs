using System.Collections.Immutable;
using System.Globalization;
using Faultsim.Host.Configuration;
using Faultsim.Host.Output;
using ScottPlot;
using Spectre.Console;

namespace Faultsim.Host.Experiments;

/// <summary>
/// Where an experiment's results go (--out DIR): results.csv, summary.csv, runs/pPOINT-seedSEED.json, and FIGURE.png and
/// FIGURE.svg for each figure — every file written whole — and the summary table on the terminal.
/// </summary>
public sealed class ExperimentOutput
{
    public const string Option = "--out";

    private ExperimentOutput(string directory) => Directory = directory;

    public string Directory { get; }

    public string Runs => Path.Combine(Directory, "runs");

    /// <summary>The output directory, made if need be, with the run files an earlier sweep left there removed.</summary>
    public static ExperimentOutput Create(string directory)
    {
        try
        {
            if (File.Exists(directory))
                throw new ConfigException(Option, null, $"'{directory}' is a file; give {Option} a directory");
            System.IO.Directory.CreateDirectory(Path.Combine(directory, "runs"));
            foreach (var stale in System.IO.Directory.EnumerateFiles(Path.Combine(directory, "runs"), "p*-seed*.json"))
                File.Delete(stale);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw OutputPaths.CannotWrite(Option, directory, e);
        }
        return new ExperimentOutput(directory);
    }

    public void WriteRun(ExperimentRun run) =>
        WholeFile.WriteAllText(Option, Path.Combine(Runs, string.Create(CultureInfo.InvariantCulture, $"p{run.Point.Index:D3}-seed{run.Seed}.json")), run.Json + "\n");

    /// <summary>The CSVs and plots of the runs that finished; the files written, in order.</summary>
    public IReadOnlyList<string> Write(ExperimentSpec spec, IReadOnlyList<ExperimentRun?> runs)
    {
        var written = new List<string>();
        void Text(string name, string text)
        {
            var path = Path.Combine(Directory, name);
            WholeFile.WriteAllText(Option, path, text);
            written.Add(path);
        }
        Text("results.csv", ExperimentSummary.Results(spec, runs));
        Text("summary.csv", ExperimentSummary.Summary(spec, runs));
        var summary = ExperimentSummary.Of(spec, runs);
        for (var f = 0; f < spec.Figures.Length; f++)
        {
            if (ExperimentPlots.Of(spec, summary, f) is not { } plot)
                continue;
            var png = Path.Combine(Directory, Figures.FileName(spec.Figures[f]) + ".png");
            using (var file = WholeFile.Create(Option, png))
            {
                file.Stream.Write(plot.GetImageBytes(ExperimentPlots.Width, ExperimentPlots.Height, ImageFormat.Png));
                file.Commit();
            }
            written.Add(png);
            Text(Figures.FileName(spec.Figures[f]) + ".svg", plot.GetSvgXml(ExperimentPlots.Width, ExperimentPlots.Height));
        }
        return written;
    }

    /// <summary>The summary as a table: a row per point, each figure's mean ± the half-width of its 95 % interval.</summary>
    public static void Table(TextWriter output, ExperimentSpec spec, IReadOnlyList<ExperimentRun?> runs)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var parameter in spec.Parameters)
            table.AddColumn(new TableColumn(Markup.Escape(parameter.Key)));
        table.AddColumn(new TableColumn("runs").RightAligned());
        foreach (var figure in spec.Figures)
            table.AddColumn(new TableColumn(Markup.Escape(figure)).RightAligned());
        foreach (var (point, figures) in ExperimentSummary.Of(spec, runs))
        {
            var failed = runs.OfType<ExperimentRun>().Count(r => r.Point.Index == point.Index && r.Status != "ok");
            table.AddRow([.. point.Values.Select(v => Markup.Escape(v.Value)),
                $"{figures.Select(f => f.Count).DefaultIfEmpty(0).Max()}{(failed > 0 ? $" ({failed} failed)" : "")}",
                .. figures.Select(Cell)]);
        }
        var console = Terminal.On(output);
        console.Write(new Markup($"[bold]{Markup.Escape(spec.Name)}[/]: {Markup.Escape(spec.Description)}\n"));
        console.Write(table);
    }

    private static string Cell(FigureStats stats) =>
        stats.Count == 0 ? "–" : stats.Count == 1 || stats.HalfWidth == 0 ? Short(stats.Mean) : $"{Short(stats.Mean)} ± {Short(stats.HalfWidth)}";

    /// <summary>A number for the table: whole from 1000 on, else to three significant digits.</summary>
    private static string Short(double value) =>
        Math.Abs(value) >= 1000 ? ExperimentSummary.Format(Math.Round(value))
        : value != 0 && Math.Abs(value) < 1 ? value.ToString("G3", CultureInfo.InvariantCulture)
        : ExperimentSummary.Format(Math.Round(value, 1));
}

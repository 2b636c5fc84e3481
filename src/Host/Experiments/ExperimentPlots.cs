using System.Collections.Immutable;
using System.Globalization;
using ScottPlot;

namespace Faultsim.Host.Experiments;

/// <summary>
/// One line chart per figure (ScottPlot): the figure's mean against the experiment's x key, one series per value of its
/// series key (and of any other key it varies), each point with its 95 % confidence interval as an error bar.
/// </summary>
public static class ExperimentPlots
{
    public const int Width = 900, Height = 560;

    private static readonly Lazy<string?> FontName = new(LoadFont);

    /// <summary>The plot of figure <paramref name="figure"/> (its index in the spec's figures), null when no point has it.</summary>
    public static Plot? Of(ExperimentSpec spec, ImmutableArray<(ExperimentPoint Point, ImmutableArray<FigureStats> Figures)> summary, int figure)
    {
        var x = spec.Parameters.First(p => p.Key == spec.X);
        var numeric = x.Values.All(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
        double Position(string value) => numeric ? double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture) : x.Values.IndexOf(value);
        var others = spec.Parameters.Where(p => p.Key != spec.X).OrderBy(p => p.Key == spec.Series ? 0 : 1).ToList();
        var groups = summary.Where(s => s.Figures[figure].Count > 0)
            .GroupBy(s => string.Join(", ", others.Select(p => p.Key == spec.Series ? $"{Short(p.Key)} {s.Point.ValueOf(p.Key)}" : $"{Short(p.Key)}={s.Point.ValueOf(p.Key)}")))
            .ToList();
        if (groups.Count == 0)
            return null;
        var plot = new Plot();
        if (FontName.Value is { } font)
            plot.Font.Set(font);
        var palette = new ScottPlot.Palettes.Category10();
        var (rising, marked) = (false, false);
        foreach (var (group, index) in groups.Select((g, i) => (g, i)))
        {
            var points = group.OrderBy(s => Position(s.Point.ValueOf(spec.X))).ToList();
            var xs = points.Select(s => Position(s.Point.ValueOf(spec.X))).ToArray();
            var ys = points.Select(s => s.Figures[figure].Mean).ToArray();
            var errors = points.Select(s => s.Figures[figure].HalfWidth).ToArray();
            var color = palette.GetColor(index);
            var line = plot.Add.Scatter(xs, ys, color);
            line.LineWidth = 2;
            line.MarkerSize = 7;
            if (group.Key.Length > 0)
                line.LegendText = group.Key;
            var bars = plot.Add.ErrorBar(xs, ys, errors);
            bars.Color = color;
            rising |= ys.Length > 1 && ys[^1] > ys[0];
            if (spec.MarkRises)
                MarkRises(plot, Short(spec.X), xs, ys, ref marked);
        }
        if (!numeric)
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. x.Values.Select((_, i) => (double)i)], [.. x.Values]);
        plot.Title($"{spec.Figures[figure]} — {spec.Name}");
        plot.XLabel(spec.X);
        plot.YLabel(spec.Seeds.Length == 1 ? $"{spec.Figures[figure]} (seed {spec.Seeds[0]})" : $"{spec.Figures[figure]} (mean, 95% CI over {spec.Seeds.Length} seeds)");
        if (groups.Count > 1 || groups[0].Key.Length > 0)
            plot.ShowLegend(rising ? Alignment.UpperLeft : Alignment.UpperRight);
        plot.Axes.Margins(0.05, 0.1);
        return plot;
    }

    /// <summary>
    /// A red ring on each point where a series rises as x grows although it falls overall (plot.mark-rises): for faults
    /// against frames, Belady's anomaly — more memory, more faults.
    /// </summary>
    private static void MarkRises(Plot plot, string x, double[] xs, double[] ys, ref bool marked)
    {
        if (ys.Length < 2 || ys[^1] >= ys[0])
            return;
        for (var i = 1; i < ys.Length; i++)
        {
            if (ys[i] <= ys[i - 1])
                continue;
            var ring = plot.Add.Marker(xs[i], ys[i], MarkerShape.OpenCircle, 16, Colors.Red);
            ring.MarkerLineWidth = 2;
            if (!marked)
                ring.LegendText = $"rises with {x} (Belady's anomaly)";
            marked = true;
        }
    }

    /// <summary>A key's last part (shootdown, cpus), for legends.</summary>
    private static string Short(string key) => key[(key.LastIndexOf('.') + 1)..];

    /// <summary>
    /// A font file registered with ScottPlot: its native renderer ignores fontconfig, so text comes out empty unless a font
    /// is loaded by path. DejaVu Sans where the system has it, else the first TrueType font under the system's font directories.
    /// </summary>
    private static string? LoadFont()
    {
        string[] roots = ["/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts", "/System/Library/Fonts", Environment.GetFolderPath(Environment.SpecialFolder.Fonts)];
        var files = roots.Where(r => r.Length > 0 && Directory.Exists(r))
            .SelectMany(r => Directory.EnumerateFiles(r, "*.ttf", SearchOption.AllDirectories)).ToList();
        var file = files.FirstOrDefault(f => Path.GetFileName(f) == "DejaVuSans.ttf") ?? files.Order(StringComparer.Ordinal).FirstOrDefault();
        if (file is null)
            return null;
        const string name = "faultsim-plot";
        Fonts.AddFontFile(name, file);
        return name;
    }
}

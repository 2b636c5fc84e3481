using System.Collections.Immutable;
using System.Globalization;
using System.Text;

namespace Faultsim.Host.Experiments;

/// <summary>One figure at one point over its seeds: how many runs gave it, their mean, standard deviation and 95 % confidence interval.</summary>
public readonly record struct FigureStats(int Count, double Mean, double Sd, double Low, double High)
{
    /// <summary>The stats of <paramref name="values"/>: the sample standard deviation, and the interval of Student's t with n − 1 degrees of freedom.</summary>
    public static FigureStats Of(IReadOnlyList<double> values)
    {
        var n = values.Count;
        if (n == 0)
            return new(0, double.NaN, double.NaN, double.NaN, double.NaN);
        var mean = values.Average();
        if (n == 1)
            return new(1, mean, double.NaN, double.NaN, double.NaN);
        var sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1));
        var half = T975(n - 1) * sd / Math.Sqrt(n);
        return new(n, mean, sd, mean - half, mean + half);
    }

    /// <summary>The half-width of the interval (0 when there is none).</summary>
    public double HalfWidth => double.IsNaN(High) ? 0 : (High - Low) / 2;

    private static readonly double[] TTable =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>Student's t quantile 0.975 for <paramref name="df"/> degrees of freedom (from the table to 30, then 40, 60, 120 and the normal's 1.96).</summary>
    public static double T975(int df) => df switch
    {
        <= 30 => TTable[df - 1],
        <= 40 => 2.021,
        <= 60 => 2.000,
        <= 120 => 1.980,
        _ => 1.960,
    };
}

/// <summary>An experiment's results as CSV text: one row per run (results.csv), one per point with each figure's stats (summary.csv).</summary>
public static class ExperimentSummary
{
    /// <summary>The stats of every figure at every point, for the points whose every seed finished, in point order.</summary>
    public static ImmutableArray<(ExperimentPoint Point, ImmutableArray<FigureStats> Figures)> Of(ExperimentSpec spec, IReadOnlyList<ExperimentRun?> runs)
    {
        var seeds = spec.Seeds.Length;
        return
        [
            .. runs.Chunk(seeds).Where(point => point.All(r => r is not null)).Select(point =>
            {
                var ok = point.Where(r => r!.Status == "ok").ToList();
                var figures = spec.Figures.Select((_, f) => FigureStats.Of([.. ok.Select(r => r!.Values[f]).OfType<string>().Select(Number)]));
                return (point[0]!.Point, figures.ToImmutableArray());
            }),
        ];
    }

    public static string Results(ExperimentSpec spec, IReadOnlyList<ExperimentRun?> runs)
    {
        var csv = new StringBuilder();
        Row(csv, ["point", "seed", .. spec.Parameters.Select(p => p.Key), "status", .. spec.Figures]);
        foreach (var run in runs.OfType<ExperimentRun>())
            Row(csv, [Int(run.Point.Index), run.Seed.ToString(CultureInfo.InvariantCulture), .. run.Point.Values.Select(v => v.Value), run.Status, .. run.Values.Select(v => v ?? "")]);
        return csv.ToString();
    }

    public static string Summary(ExperimentSpec spec, IReadOnlyList<ExperimentRun?> runs)
    {
        var csv = new StringBuilder();
        Row(csv, ["point", .. spec.Parameters.Select(p => p.Key), "runs", .. spec.Figures.SelectMany(f => new[] { $"{f}.mean", $"{f}.sd", $"{f}.ci95_low", $"{f}.ci95_high" })]);
        foreach (var (point, figures) in Of(spec, runs))
        {
            Row(csv, [Int(point.Index), .. point.Values.Select(v => v.Value), Int(figures.Select(f => f.Count).DefaultIfEmpty(0).Max()),
                .. figures.SelectMany(f => new[] { Format(f.Mean), Format(f.Sd), Format(f.Low), Format(f.High) })]);
        }
        return csv.ToString();
    }

    /// <summary>A number as the CSVs and the table write it: up to three decimals, invariant, empty when there is none.</summary>
    public static string Format(double value) => double.IsNaN(value) ? "" : value.ToString("0.###", CultureInfo.InvariantCulture);

    public static double Number(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Row(StringBuilder csv, IEnumerable<string> cells) =>
        csv.Append(string.Join(',', cells.Select(Escape))).Append('\n');

    /// <summary>A cell quoted as RFC 4180 asks when it holds a comma, a quote or a line end.</summary>
    private static string Escape(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\n\r") < 0 ? cell : $"\"{cell.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}

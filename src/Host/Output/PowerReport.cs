using System.Globalization;
using Faultsim.Host.Running;
using Spectre.Console;

namespace Faultsim.Host.Output;

/// <summary>The search-power table of `explore --power`.</summary>
public static class PowerReport
{
    public static void Write(TextWriter writer, IReadOnlyList<PowerRow> rows, int ranges, long maxSeeds, bool partial)
    {
        var console = Terminal.On(writer);
        var table = new Table().Border(TableBorder.Rounded).Title(
            $"search power: seeds to the first catch over {ranges} independent seed ranges of at most {maxSeeds:N0} seeds{(partial ? " — partial: interrupted (SIGINT)" : "")}");
        table.AddColumn("planted bug");
        table.AddColumn("scenario");
        table.AddColumn("strategy");
        foreach (var name in new[] { "caught", "median", "p90", "rate", "PCT guarantee" })
            table.AddColumn(name, c => c.RightAligned());
        foreach (var row in rows)
        {
            table.AddRow(row.Bug, row.Scenario ?? "(none)", row.Strategy.Name, $"{row.Caught}/{row.SeedsToCatch.Count}",
                Seeds(row.Quantile(0.5), maxSeeds), Seeds(row.Quantile(0.9), maxSeeds), Rate(row.MeasuredRate),
                row.PredictedRate == 0 ? "-" : $"{Rate(row.PredictedRate)} (n {row.Actors}, k {row.PctSteps:N0}): {(row.MeasuredRate >= row.PredictedRate ? "met" : "[red]below[/]")}");
        }
        console.Write(table);
        console.MarkupLine("  rate: runs that caught the bug per run made; PCT guarantee: 1 / (n · k^(d−1)) per run, n the actors of the scenario's run, k faultsim.explore.pct-steps");
    }

    private static string Seeds(long? seeds, long max) => seeds is { } s ? s.ToString("N0", CultureInfo.InvariantCulture) : $"> {max.ToString("N0", CultureInfo.InvariantCulture)}";

    private static string Rate(double rate) => rate == 0 ? "0" : rate >= 0.01 ? rate.ToString("P0", CultureInfo.InvariantCulture) : rate.ToString("0.0e0", CultureInfo.InvariantCulture);
}

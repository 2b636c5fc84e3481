using System.Globalization;
using System.Text;
using System.Text.Json;
using Faultsim.Host.Bench;
using Spectre.Console;

namespace Faultsim.Host.Output;

/// <summary>Prints `bench --trace` figures: each engine's replay of the trace beside its TLB-hit ceiling and the target, as a table or as JSON.</summary>
public static class TraceBenchReport
{
    /// <param name="partial">Whether the user interrupted the bench: the engines measured whole are shown.</param>
    public static void Write(TextWriter writer, string trace, double readAlone, IReadOnlyList<TraceBenchResult> results, bool partial)
    {
        var console = Terminal.On(writer);
        var table = new Table().Border(TableBorder.Rounded).Title(partial
            ? "faultsim bench --trace — partial: interrupted (SIGINT); the engines measured whole"
            : "faultsim bench --trace (median of the timed runs, end to end: the trace read and parsed as it runs)");
        table.AddColumn("engine");
        foreach (var name in new[] { "accesses", "faults", "median", "accesses/s", "tlb-hit ceiling/s", "share" })
            table.AddColumn(name, c => c.RightAligned());
        table.AddColumn("target");
        foreach (var r in results)
        {
            table.AddRow(r.Label, N(r.Case.Accesses), N(r.Case.Faults), $"{r.MedianSeconds * 1000:F1} ms", N(r.AccessesPerSecond),
                N(r.CeilingAccessesPerSecond), $"{r.Share * 100:F0} %", $"≥ {r.Target / 1e6:0} M/s: {(r.TargetMet ? "met" : "[red]missed[/]")}");
        }
        console.Write(table);
        if (results.Count > 0)
            console.MarkupLine($"  trace: {Markup.Escape(results[0].Case.Description)}; ceiling: {Markup.Escape(results[0].Ceiling.Description)}; {results[0].Runs} timed runs each");
        if (!partial)
            console.MarkupLine($"  the trace read alone (reader thread and channel, nothing simulated): {N(readAlone)} accesses/s");
        console.MarkupLine($"{Environment.ProcessorCount} cores, .NET {Environment.Version}");
    }

    /// <param name="partial">Whether the user interrupted the bench ("partial": true; "read_accesses_per_second" null).</param>
    public static string Json(string trace, double readAlone, IReadOnlyList<TraceBenchResult> results, bool partial)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("cores", Environment.ProcessorCount);
            json.WriteBoolean("partial", partial);
            json.WriteString("trace", trace);
            if (partial)
                json.WriteNull("read_accesses_per_second");
            else
                json.WriteNumber("read_accesses_per_second", Math.Round(readAlone));
            json.WriteStartArray("results");
            foreach (var r in results)
            {
                json.WriteStartObject();
                BenchReport.WriteEngine(json, r.Engine, r.Mode);
                json.WriteNumber("accesses", r.Case.Accesses);
                json.WriteNumber("faults", r.Case.Faults);
                json.WriteNumber("runs", r.Runs);
                json.WriteNumber("median_seconds", r.MedianSeconds);
                json.WriteNumber("accesses_per_second", Math.Round(r.AccessesPerSecond));
                json.WriteNumber("ceiling_accesses_per_second", Math.Round(r.CeilingAccessesPerSecond));
                json.WriteNumber("share", Math.Round(r.Share, 3));
                json.WriteNumber("target_accesses_per_second", r.Target);
                json.WriteBoolean("target_met", r.TargetMet);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using Faultsim.Host.Bench;
using Spectre.Console;

namespace Faultsim.Host.Output;

/// <summary>The measured figures of one benchmark workload on one engine.</summary>
/// <param name="Messages">Actor messages of one run (0 for the reference machine).</param>
/// <param name="BytesPerResidentPage">Managed memory a finished actor run holds per page it made resident (0 where not measured).</param>
public sealed record BenchResult(string Engine, BenchCase Case, int Runs, double MedianSeconds, long Messages, double BytesPerResidentPage)
{
    /// <summary>The actor engine's mode (live or deterministic); null for the reference machine.</summary>
    public string? Mode { get; init; }

    public string Label => Mode is null ? Engine : $"{Engine} {Mode}";

    public double FaultsPerSecond => Case.Faults / MedianSeconds;
    public double AccessesPerSecond => Case.Accesses / MedianSeconds;
    public double MessagesPerFault => Messages / (double)Case.Faults;

    /// <summary>Whether faults dominate the workload (not so for tlb-hit, where messages per fault mean little).</summary>
    public bool FaultBound => Case.Faults * 10 >= Case.Accesses;

    /// <summary>Akka.NET's request/response ceiling in the same mode, measured in the same bench (0 for the reference machine).</summary>
    public double CeilingMessagesPerSecond { get; init; }

    /// <summary>The engine's actor messages per second.</summary>
    public double MessagesPerSecond => Messages / MedianSeconds;

    /// <summary>The engine's messages per second as a share of the ceiling (0 where no ceiling was measured).</summary>
    public double ShareOfCeiling => CeilingMessagesPerSecond == 0 ? 0 : MessagesPerSecond / CeilingMessagesPerSecond;

    /// <summary>The share of the ceiling the issue sets as the target of this mode (0: none: the reference machine, and
    /// tlb-hit, whose work is TLB hits inside the actors rather than messages).</summary>
    public double TargetShare => CeilingMessagesPerSecond == 0 || !FaultBound ? 0 : BenchReport.TargetShare(Mode);

    public bool TargetMet => ShareOfCeiling >= TargetShare;

    /// <summary>Whether bytes per resident page were measured (an actor run of enough faults for the figure to mean something).</summary>
    public bool MeasuredBytes => BytesPerResidentPage > 0 && Case.Faults >= 10_000;

    public bool BytesTargetMet => BytesPerResidentPage <= BenchReport.BytesPerPageTarget;
}

/// <summary>Prints benchmark figures as a table, or as JSON for scripts.</summary>
public static class BenchReport
{
    /// <param name="partial">Whether the user interrupted the bench: the figures are those of the runs that finished.</param>
    public static void Write(TextWriter writer, IReadOnlyList<BenchResult> results, bool partial = false)
    {
        var console = Terminal.On(writer);
        var table = new Table().Border(TableBorder.Rounded)
            .Title(partial ? "faultsim bench — partial: interrupted (SIGINT); medians of the timed runs that finished" : "faultsim bench (median of the timed runs)");
        table.AddColumn("engine");
        table.AddColumn("workload");
        foreach (var name in new[] { "faults", "accesses", "median", "faults/s", "accesses/s", "msgs/fault", "B/page" })
            table.AddColumn(name, c => c.RightAligned());
        table.AddColumn("B/page target");
        foreach (var r in results)
        {
            table.AddRow(
                r.Label, r.Case.Name, N(r.Case.Faults), N(r.Case.Accesses),
                $"{r.MedianSeconds * 1000:F1} ms", N(r.FaultsPerSecond), N(r.AccessesPerSecond),
                r.Messages == 0 || !r.FaultBound ? "-" : r.MessagesPerFault.ToString("F2", CultureInfo.InvariantCulture),
                r.MeasuredBytes ? N(r.BytesPerResidentPage) : "-",
                r.MeasuredBytes ? $"≤ {BytesPerPageTarget}: {(r.BytesTargetMet ? "met" : "[red]missed[/]")}" : "-");
        }
        console.Write(table);
        foreach (var r in results.DistinctBy(r => r.Case.Name))
            console.MarkupLine($"  {r.Case.Name}: {Markup.Escape(r.Case.Description)}");
        if (results.Any(r => r.CeilingMessagesPerSecond > 0))
            console.Write(CeilingTable(results));
        console.MarkupLine($"{Environment.ProcessorCount} cores, .NET {Environment.Version}");
    }

    /// <summary>The most managed memory a resident page may cost a finished run with its event log (the target is set at 10,000,000 faults).</summary>
    public const int BytesPerPageTarget = 150;

    /// <summary>The share of Akka.NET's own ceiling the actor engine's messages reach, against the target of its mode.</summary>
    public static double TargetShare(string? mode) => mode switch
    {
        "live" => 0.80,
        "deterministic" => 0.50,
        _ => 0,
    };

    private static Table CeilingTable(IReadOnlyList<BenchResult> results)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title("actor messages against Akka.NET's ceiling (one pair of actors, one message in flight; medians)");
        table.AddColumn("engine");
        table.AddColumn("workload");
        foreach (var name in new[] { "msgs/s", "ceiling msgs/s", "share" })
            table.AddColumn(name, c => c.RightAligned());
        table.AddColumn("target");
        foreach (var r in results.Where(r => r.CeilingMessagesPerSecond > 0))
        {
            table.AddRow(r.Label, r.Case.Name, N(r.MessagesPerSecond), N(r.CeilingMessagesPerSecond), $"{r.ShareOfCeiling * 100:F0} %",
                r.TargetShare == 0 ? "-" : $"≥ {r.TargetShare * 100:F0} %: {(r.TargetMet ? "met" : "[red]missed[/]")}");
        }
        return table;
    }

    /// <param name="partial">Whether the user interrupted the bench ("partial": true): the results are of the runs that finished.</param>
    /// <summary>A result's engine and mode (null for the reference machine), as every bench JSON names them.</summary>
    internal static void WriteEngine(Utf8JsonWriter json, string engine, string? mode)
    {
        json.WriteString("engine", engine);
        if (mode is null)
            json.WriteNull("mode");
        else
            json.WriteString("mode", mode);
    }

    public static string Json(IReadOnlyList<BenchResult> results, bool partial = false)
    {
        return BenchJson.Of(partial, "results", results, static (json, r) =>
        {
            WriteEngine(json, r.Engine, r.Mode);
            json.WriteString("workload", r.Case.Name);
            json.WriteNumber("faults", r.Case.Faults);
            json.WriteNumber("accesses", r.Case.Accesses);
            json.WriteNumber("runs", r.Runs);
            json.WriteNumber("median_seconds", r.MedianSeconds);
            json.WriteNumber("faults_per_second", Math.Round(r.FaultsPerSecond));
            json.WriteNumber("accesses_per_second", Math.Round(r.AccessesPerSecond));
            json.WriteNumber("messages_per_fault", Math.Round(r.MessagesPerFault, 2));
            json.WriteNumber("bytes_per_resident_page", Math.Round(r.BytesPerResidentPage));
            if (r.MeasuredBytes)
            {
                json.WriteNumber("bytes_per_resident_page_target", BytesPerPageTarget);
                json.WriteBoolean("bytes_per_resident_page_target_met", r.BytesTargetMet);
            }
            else
            {
                json.WriteNull("bytes_per_resident_page_target");
                json.WriteNull("bytes_per_resident_page_target_met");
            }
            if (r.CeilingMessagesPerSecond == 0)
            {
                json.WriteNull("ceiling");
            }
            else
            {
                json.WriteStartObject("ceiling");
                json.WriteNumber("messages_per_second", Math.Round(r.MessagesPerSecond));
                json.WriteNumber("ceiling_messages_per_second", Math.Round(r.CeilingMessagesPerSecond));
                json.WriteNumber("share", Math.Round(r.ShareOfCeiling, 3));
                if (r.TargetShare == 0)
                {
                    json.WriteNull("target_share");
                    json.WriteNull("target_met");
                }
                else
                {
                    json.WriteNumber("target_share", r.TargetShare);
                    json.WriteBoolean("target_met", r.TargetMet);
                }
                json.WriteEndObject();
            }
        });
    }

    /// <summary>bench --tracing: faults per second under each tracing setting, against tracing off in the same mode.</summary>
    public static void WriteTracing(TextWriter writer, IReadOnlyList<TracingResult> results, bool partial = false)
    {
        var console = Terminal.On(writer);
        var table = new Table().Border(TableBorder.Rounded).Title(partial
            ? "faultsim bench --tracing — partial: interrupted (SIGINT); medians of the rounds that finished"
            : "faultsim bench --tracing (median of the timed runs)");
        table.AddColumn("mode");
        table.AddColumn("workload");
        table.AddColumn("tracing");
        foreach (var name in new[] { "faults/s", "time vs off", "spans/fault" })
            table.AddColumn(name, c => c.RightAligned());
        table.AddColumn("target");
        foreach (var r in results)
        {
            var slowdown = Slowdown(results, r);
            table.AddRow(r.Mode, r.Case.Name, r.Setting.Name, N(r.FaultsPerSecond), $"{slowdown:F2}×",
                r.SpansPerFault.ToString("F2", CultureInfo.InvariantCulture),
                r.Setting.Slowdown == 0 ? "" : $"≤ {r.Setting.Slowdown:0.##}×: {(slowdown <= r.Setting.Slowdown ? "met" : "[red]missed[/]")}");
        }
        console.Write(table);
        if (results.Count == 0)
            return;
        console.MarkupLine($"  {Markup.Escape(results[0].Case.Name)}: {Markup.Escape(results[0].Case.Description)}; {results[0].Runs} timed runs per setting");
        console.MarkupLine("  sdk settings export through OpenTelemetry's batch processor to an exporter that only counts; file writes the Chrome trace file");
        console.MarkupLine($"{Environment.ProcessorCount} cores, .NET {Environment.Version}");
    }

    public static string TracingJson(IReadOnlyList<TracingResult> results, bool partial = false)
    {
        return BenchJson.Of(partial, "tracing", results, (json, r) =>
        {
            json.WriteString("mode", r.Mode);
            json.WriteString("workload", r.Case.Name);
            json.WriteString("tracing", r.Setting.Name);
            json.WriteNumber("ratio", r.Setting.Ratio);
            json.WriteNumber("faults", r.Case.Faults);
            json.WriteNumber("runs", r.Runs);
            json.WriteNumber("median_seconds", r.MedianSeconds);
            json.WriteNumber("faults_per_second", Math.Round(r.FaultsPerSecond));
            json.WriteNumber("time_vs_off", Math.Round(Slowdown(results, r), 3));
            json.WriteNumber("spans", r.Spans);
            if (r.Setting.Slowdown > 0)
            {
                json.WriteNumber("target_time_vs_off", r.Setting.Slowdown);
                json.WriteBoolean("target_met", Slowdown(results, r) <= r.Setting.Slowdown);
            }
        });
    }

    /// <summary>How many times longer <paramref name="r"/> took than tracing off, same mode and workload.</summary>
    private static double Slowdown(IReadOnlyList<TracingResult> results, TracingResult r) =>
        r.MedianSeconds / results.First(o => o.Mode == r.Mode && o.Case == r.Case && o.Setting.Sink == TracingSink.None).MedianSeconds;

    private static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

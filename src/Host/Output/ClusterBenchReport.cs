using System.Globalization;
using System.Text;
using System.Text.Json;
using Faultsim.Host.Bench;
using Spectre.Console;

namespace Faultsim.Host.Output;

/// <summary>bench --cluster's figures: each layout's cluster against one node, and where the cluster's time went.</summary>
public static class ClusterBenchReport
{
    public static void Write(TextWriter writer, IReadOnlyList<ClusterBenchResult> results, bool partial = false)
    {
        var console = Terminal.On(writer);
        var table = new Table().Border(TableBorder.Rounded).Title(partial
            ? "faultsim bench --cluster — partial: interrupted (SIGINT); medians of the runs that finished"
            : "faultsim bench --cluster: 3 nodes on loopback against one node (median of the timed runs)");
        table.AddColumn("layout");
        foreach (var name in new[] { "faults/s", "one node", "ratio", "msgs/fault", "crossed/fault", "crossed", "µs/fault", "serialization", "transport", "B/crossed msg" })
            table.AddColumn(name, c => c.RightAligned());
        table.AddColumn($"≥ {N(ClusterBenchResult.Target)}/s");
        foreach (var r in results)
        {
            table.AddRow(Markup.Escape(r.Layout.Name), N(r.FaultsPerSecond), N(r.OneNodeFaultsPerSecond), $"{r.Ratio:F2}×", F(r.MessagesPerFault), F(r.CrossedPerFault),
                $"{100 * r.CrossedShare:F1} %", F(r.MicrosPerFault), F(r.SerializationMicrosPerFault), F(r.TransportMicrosPerFault), F(r.BytesPerCrossedMessage),
                r.TargetMet ? "met" : "[red]missed[/]");
        }
        console.Write(table);
        if (results.Count > 0)
            console.MarkupLine($"  {Markup.Escape(results[0].Case.Name)}: {Markup.Escape(results[0].Case.Description)}; {results[0].Runs} timed runs per layout, each after a one-node run");
        foreach (var r in results)
            console.MarkupLine($"  {Markup.Escape(r.Layout.Name)}: {Markup.Escape(r.Layout.Description)} ({Markup.Escape(string.Join(" | ", r.Layout.Roles.Select(n => string.Join(",", n))))})");
        console.MarkupLine("  µs/fault on the cluster = one node's + serialization (faultsim's serializer, to and from bytes, thread time) + transport (the rest: remoting and its hops)");
        console.MarkupLine($"{Environment.ProcessorCount} cores, .NET {Environment.Version}");
    }

    public static string Json(IReadOnlyList<ClusterBenchResult> results, bool partial = false)
    {
        return BenchJson.Of(partial, "cluster", results, static (json, r) =>
        {
            json.WriteString("layout", r.Layout.Name);
            json.WriteStartArray("nodes");
            foreach (var roles in r.Layout.Roles)
            {
                json.WriteStartArray();
                foreach (var role in roles)
                    json.WriteStringValue(role);
                json.WriteEndArray();
            }
            json.WriteEndArray();
            json.WriteString("placement", r.Layout.Rule.ToString().ToLowerInvariant());
            json.WriteString("workload", r.Case.Name);
            json.WriteNumber("faults", r.Case.Faults);
            json.WriteNumber("runs", r.Runs);
            json.WriteNumber("median_seconds", r.ClusterSeconds);
            json.WriteNumber("faults_per_second", Math.Round(r.FaultsPerSecond));
            json.WriteNumber("one_node_median_seconds", r.OneNodeSeconds);
            json.WriteNumber("one_node_faults_per_second", Math.Round(r.OneNodeFaultsPerSecond));
            json.WriteNumber("ratio_to_one_node", Math.Round(r.Ratio, 3));
            json.WriteNumber("messages_per_fault", Math.Round(r.MessagesPerFault, 3));
            json.WriteNumber("crossed_per_fault", Math.Round(r.CrossedPerFault, 3));
            json.WriteNumber("crossed_share", Math.Round(r.CrossedShare, 4));
            json.WriteNumber("micros_per_fault", Math.Round(r.MicrosPerFault, 3));
            json.WriteNumber("one_node_micros_per_fault", Math.Round(r.OneNodeMicrosPerFault, 3));
            json.WriteNumber("serialization_micros_per_fault", Math.Round(r.SerializationMicrosPerFault, 3));
            json.WriteNumber("transport_micros_per_fault", Math.Round(r.TransportMicrosPerFault, 3));
            json.WriteNumber("bytes_per_crossed_message", Math.Round(r.BytesPerCrossedMessage, 1));
            json.WriteNumber("target_faults_per_second", ClusterBenchResult.Target);
            json.WriteBoolean("target_met", r.TargetMet);
        });
    }

    private static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}

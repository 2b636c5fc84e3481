using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Faultsim.Host.KernelCheck;
using Spectre.Console;

namespace Faultsim.Host.Output;

/// <summary>
/// kernel-check's report: the table (pattern, part, Linux, reference, actors, agree; the reasons below it) and its JSON,
/// whose names are a contract: host.{zero_page, smap, swap, readahead_bytes, fault_around_bytes, thp, assumed},
/// patterns[i].{pattern, part, what, linux, reference, actors (each {minor, major, copies, signal} or null), agree, reason},
/// agreed, differ, host_dependent.
/// </summary>
internal static class KernelCheckReport
{
    public static void Write(TextWriter output, HostSettings host, ImmutableArray<CheckRow> rows)
    {
        var console = Terminal.On(output);
        console.MarkupLine("[bold]faultsim kernel-check[/] — this machine's Linux kernel beside faultsim (reference machine; actor engine, deterministic, seed 1)");
        console.MarkupLine(Markup.Escape(HostLine(host)));
        var table = new Table().Border(TableBorder.Rounded)
            .Title("page faults: minor/major, cN: pages copied (pagemap), and the signal that ended the part")
            .AddColumn("pattern").AddColumn("part").AddColumn(new TableColumn("Linux").RightAligned())
            .AddColumn(new TableColumn("reference").RightAligned()).AddColumn(new TableColumn("actors").RightAligned()).AddColumn("agree");
        var reasons = new List<string>();
        foreach (var row in rows)
        {
            var agree = row.Agree switch { true => "yes", false => "[red]NO[/]", null => "—" };
            if (row.Reason is { } reason)
            {
                if (!reasons.Contains(reason))
                    reasons.Add(reason);
                agree += $" ({reasons.IndexOf(reason) + 1})";
            }
            table.AddRow(Markup.Escape(row.Pattern), Markup.Escape(row.Part), Markup.Escape(row.Linux?.ToString() ?? "not run"),
                Markup.Escape(row.Reference.Text(row.Linux?.Copies is not null)), Markup.Escape(row.Actors.Text(row.Linux?.Copies is not null)), agree);
        }
        console.Write(table);
        for (var i = 0; i < reasons.Count; i++)
            console.MarkupLine($"({i + 1}) {Markup.Escape(reasons[i])}");
        var (agreed, differ, dependent) = (rows.Count(r => r.Agree == true), rows.Count(r => r.Agree == false), rows.Count(r => r.Agree is null));
        console.MarkupLine($"{agreed} of {agreed + differ} host-independent parts agree{(differ > 0 ? $", [red]{differ} differ[/]" : "")}; {dependent} depend on this host (the reason under each)");
    }

    private static string HostLine(HostSettings host) =>
        $"host: zero page {(host.ZeroPage ? "on" : "off")}, SMAP {(host.Smap ? "on" : "off")}, swap {(host.Swap ? "on" : "off")}, " +
        $"readahead {host.ReadaheadBytes / 1024}K, fault-around {host.FaultAroundBytes / 1024}K, transparent huge pages {host.Thp} (off for every pattern: MADV_NOHUGEPAGE)" +
        (host.Assumed.IsEmpty ? "" : $"; assumed: {string.Join("; ", host.Assumed)}");

    public static string Json(HostSettings host, ImmutableArray<CheckRow> rows)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("host");
            json.WriteBoolean("zero_page", host.ZeroPage);
            json.WriteBoolean("smap", host.Smap);
            json.WriteBoolean("swap", host.Swap);
            json.WriteNumber("readahead_bytes", host.ReadaheadBytes);
            json.WriteNumber("fault_around_bytes", host.FaultAroundBytes);
            json.WriteString("thp", host.Thp);
            json.WriteStartArray("assumed");
            foreach (var a in host.Assumed)
                json.WriteStringValue(a);
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteStartArray("patterns");
            foreach (var row in rows)
            {
                json.WriteStartObject();
                json.WriteString("pattern", row.Pattern);
                json.WriteString("part", row.Part);
                json.WriteString("what", row.What);
                WriteCount(json, "linux", row.Linux);
                WriteCount(json, "reference", row.Reference);
                WriteCount(json, "actors", row.Actors);
                if (row.Agree is { } agree)
                    json.WriteBoolean("agree", agree);
                else
                    json.WriteNull("agree");
                json.WriteString("reason", row.Reason);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteNumber("agreed", rows.Count(r => r.Agree == true));
            json.WriteNumber("differ", rows.Count(r => r.Agree == false));
            json.WriteNumber("host_dependent", rows.Count(r => r.Agree is null));
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteCount(Utf8JsonWriter json, string name, PartCount? count)
    {
        if (count is null)
        {
            json.WriteNull(name);
            return;
        }
        json.WriteStartObject(name);
        json.WriteNumber("minor", count.Minor);
        json.WriteNumber("major", count.Major);
        if (count.Copies is { } copies)
            json.WriteNumber("copies", copies);
        else
            json.WriteNull("copies");
        json.WriteString("signal", count.Signal);
        json.WriteEndObject();
    }
}

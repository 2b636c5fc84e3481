using System.Text;
using System.Text.Json;
using Faultsim.Host.Running;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;

namespace Faultsim.Host.Output;

/// <summary>
/// The figures of a run as JSON for scripts. The names are a contract: engine, seed, cpus,
/// faults.{minor,major,total,cow,segv,…}, disk.reads, tlb.{hits,misses,shootdowns}, ipis, and
/// the same per process under processes[i]; never_started; events.{count,hash}, partial (Ctrl-C), limit, violation, latency;
/// a cluster run's cluster.{messages_crossed_nodes,nodes[i].{address,actors}}.
/// </summary>
public static class RunJson
{
    public static string Serialize(RunReport report, string engine)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("engine", engine);
            json.WriteNumber("seed", report.Seed);
            json.WriteBoolean("partial", report.Interrupted);
            if (report.Interrupted)
                json.WriteString("stopped", Interruption(report));
            if (report.Result is { } result)
                WriteResult(json, result);
            else if (report.Interrupted && report.Log is { } log)
                WriteSoFar(json, log.Tally);
            else if (!report.Interrupted)
                json.WriteString("stopped", report.Crash ?? (report.Violation is null ? report.StoppedAt?.Message : null) ?? "at the first violation");
            WriteVerdict(json, report);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteResult(Utf8JsonWriter json, RunResult result)
    {
        json.WriteNumber("cpus", result.Cpus);
        json.WriteNumber("steps", result.Steps);
        WriteCounters(json, result.Totals);
        if (result.Memory is { } memory)
        {
            json.WriteStartObject("memory");
            json.WriteNumber("pages", memory.Pages.Length);
            json.WriteNumber("file_pages", memory.Files.Length);
            json.WriteString("hash", $"{memory.Hash:x16}");
            json.WriteEndObject();
        }
        if (result.Panic is { } panic)
            json.WriteString("panic", panic);
        else
            json.WriteNull("panic");
        json.WriteStartObject("latency");
        foreach (var l in result.FaultLatency)
        {
            json.WriteStartObject(Names.Of(l.Kind));
            json.WriteNumber("count", l.Count);
            json.WriteNumber("p50_ns", l.P50);
            json.WriteNumber("p99_ns", l.P99);
            json.WriteNumber("max_ns", l.Max);
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteStartArray("processes");
        foreach (var process in result.Processes)
        {
            json.WriteStartObject();
            json.WriteNumber("pid", process.Pid.Value);
            json.WriteString("name", process.Name);
            json.WriteString("fate", Names.Of(process.Fate));
            WriteCounters(json, process.Counters);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("never_started");
        foreach (var name in result.NeverStarted)
            json.WriteStringValue(name);
        json.WriteEndArray();
        if (!result.Placement.IsEmpty)
        {
            json.WriteStartObject("cluster");
            json.WriteNumber("messages_crossed_nodes", result.CrossNodeMessages);
            json.WriteStartArray("nodes");
            foreach (var node in result.Placement.GroupBy(p => p.Node))
            {
                json.WriteStartObject();
                json.WriteString("address", node.Key);
                json.WriteStartArray("actors");
                foreach (var placed in node)
                    json.WriteStringValue(placed.Actor);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("nodes_left");
            foreach (var left in result.NodesLeft)
            {
                json.WriteStartObject();
                json.WriteString("address", left.Node);
                json.WriteString("what", left.What);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
    }

    /// <summary>What an interrupted run's report says of where it stopped.</summary>
    public static string Interruption(RunReport report) =>
        report.Result is { } result
            ? $"interrupted (SIGINT) after {result.Steps:N0} steps: the figures are those so far"
            : $"interrupted (SIGINT) after {(report.Steps > 0 ? $"{report.Steps:N0} messages and " : "")}{report.Log?.Count ?? 0:N0} events: the figures are those its events show so far";

    /// <summary>
    /// An interrupted actor run's figures, from its events: the names and meanings of a finished run's, those that events
    /// do not show (accesses, TLB hits and misses, pages zeroed and copied, disk writes) left out.
    /// </summary>
    private static void WriteSoFar(Utf8JsonWriter json, Faultsim.Model.Checking.EventTally tally)
    {
        var c = tally.Totals;
        WriteFaults(json, c);
        json.WriteStartObject("pages");
        json.WriteNumber("evicted", c.PagesEvicted);
        json.WriteEndObject();
        json.WriteStartObject("disk");
        json.WriteNumber("reads", c.DiskReads);
        json.WriteEndObject();
        json.WriteStartObject("tlb");
        json.WriteNumber("shootdowns", c.Shootdowns);
        json.WriteEndObject();
        json.WriteNumber("ipis", c.Ipis);
        json.WriteNumber("syscalls", tally.Syscalls);
    }

    private static void WriteVerdict(Utf8JsonWriter json, RunReport report)
    {
        json.WriteStartObject("events");
        json.WriteNumber("count", report.Log?.Count ?? 0);
        json.WriteString("hash", report.Log is { } log ? $"{log.Hash:x16}" : "");
        json.WriteEndObject();
        if (report.StoppedAt is { } limit)
        {
            json.WriteStartObject("limit");
            json.WriteString("key", limit.Key);
            json.WriteNumber("max_steps", limit.Steps);
            json.WriteNumber("steps", report.Steps);
            json.WriteString("message", limit.Message);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("limit");
        }
        if (report.Violation is not { } violation)
        {
            json.WriteNull("violation");
            return;
        }
        json.WriteStartObject("violation");
        json.WriteNumber("invariant", violation.Invariant);
        json.WriteString("name", violation.Name);
        json.WriteString("description", violation.Description);
        json.WriteNumber("event", violation.AtEvent);
        json.WriteEndObject();
    }

    private static void WriteCounters(Utf8JsonWriter json, Counters c)
    {
        WriteFaults(json, c);
        json.WriteStartObject("pages");
        json.WriteNumber("zeroed", c.PagesZeroed);
        json.WriteNumber("copied", c.PagesCopied);
        json.WriteNumber("evicted", c.PagesEvicted);
        json.WriteEndObject();
        json.WriteStartObject("disk");
        json.WriteNumber("reads", c.DiskReads);
        json.WriteNumber("writes", c.DiskWrites);
        json.WriteEndObject();
        json.WriteStartObject("tlb");
        json.WriteNumber("hits", c.TlbHits);
        json.WriteNumber("misses", c.TlbMisses);
        json.WriteNumber("shootdowns", c.Shootdowns);
        json.WriteEndObject();
        json.WriteNumber("ipis", c.Ipis);
        json.WriteNumber("accesses", c.Accesses);
        json.WriteNumber("syscall_errors", c.SyscallErrors);
    }

    private static void WriteFaults(Utf8JsonWriter json, Counters c)
    {
        json.WriteStartObject("faults");
        json.WriteNumber("minor", c.Minor);
        json.WriteNumber("major", c.Major);
        json.WriteNumber("total", c.Total);
        json.WriteNumber("cow", c.Cow);
        json.WriteNumber("segv", c.Segv);
        json.WriteNumber("bus", c.Bus);
        json.WriteNumber("efault", c.Efault);
        json.WriteNumber("oops", c.Oops);
        json.WriteNumber("spurious", c.Spurious);
        json.WriteStartObject("by_resolution");
        foreach (var kind in Enum.GetValues<ResolutionKind>())
            json.WriteNumber(Names.Of(kind), c[kind]);
        json.WriteEndObject();
        json.WriteEndObject();
    }
}

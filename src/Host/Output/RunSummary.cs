using System.Globalization;
using Faultsim.Host.Configuration;
using Faultsim.Host.Running;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;
using Spectre.Console;

namespace Faultsim.Host.Output;

/// <summary>The human summary of a run: what ran, per-process fault counts, and faults by resolution.</summary>
public static class RunSummary
{
    public static void Write(TextWriter writer, RunReport report, Workload workload, SimSettings settings, string source)
    {
        var console = Terminal.On(writer);
        var machine = workload.Machine;
        console.MarkupLine($"[bold]faultsim run[/] — {Markup.Escape(source)}");
        var how = settings.Engine == "reference" ? InterleavingText(machine.Interleaving)
            : settings.Deterministic ? $"deterministic, {settings.Explore.Strategy.ToString().ToLowerInvariant()} schedule" : "live";
        console.MarkupLine(
            $"engine [bold]{settings.Engine}[/] ({EngineText(settings.Engine)}, {how}), " +
            $"seed {report.Seed}, {machine.Cpus} CPUs, {FramesText(machine)}, {machine.Policy.ToString().ToUpperInvariant()} replacement");
        console.WriteLine();
        if (report.Result is not { } result)
        {
            if (report.Interrupted && report.Log is { } soFar)
                SoFar(console, soFar.Tally);
            Verdict(console, report);
            return;
        }
        if (result.Interrupted)
            console.MarkupLine("[yellow]partial: the figures so far[/]");
        console.Write(ProcessTable(result));
        console.Write(ResolutionTable(result.Totals));
        var t = result.Totals;
        console.MarkupLine(
            $"{result.Steps:N0} steps, {t.Accesses:N0} accesses; TLB {t.TlbHits:N0} hits / {t.TlbMisses:N0} misses ({HitRate(t)}); " +
            $"{t.Shootdowns:N0} shootdowns, {t.Ipis:N0} IPIs; disk {t.DiskReads:N0} reads / {t.DiskWrites:N0} writes; " +
            $"pages {t.PagesZeroed:N0} zeroed, {t.PagesCopied:N0} copied, {t.PagesEvicted:N0} evicted");
        if (result.Memory is { } memory)
            console.MarkupLine($"final memory: {memory.Pages.Length:N0} pages, hash {memory.Hash:x16}");
        if (result.Messages > 0)
            console.MarkupLine($"{result.Messages:N0} actor messages ({(t.Total == 0 ? 0 : result.Messages / (double)t.Total):F1} per fault)");
        if (!result.Placement.IsEmpty)
        {
            var nodes = result.Placement.GroupBy(p => p.Node).ToList();
            console.MarkupLine($"cluster: the parts on {nodes.Count(n => n.All(p => p.Actor != "machine"))} nodes, the machine here; " +
                               $"{result.CrossNodeMessages:N0} of {result.Messages:N0} messages crossed nodes " +
                               $"({(result.Messages == 0 ? 0 : 100.0 * result.CrossNodeMessages / result.Messages):F1}%)");
            foreach (var node in nodes)
                console.MarkupLine($"  {Markup.Escape(node.Key)}: {Markup.Escape(string.Join(" ", node.Select(p => p.Actor)))}");
            foreach (var left in result.NodesLeft)
                console.MarkupLine($"  {Markup.Escape(left.Node)} {Markup.Escape(left.What)} (its events left with it: the monitor did not check this run)");
        }
        foreach (var name in result.NeverStarted)
            console.MarkupLine($"process '{Markup.Escape(name)}' never started: its parent ended before forking it");
        foreach (var violation in result.Violations)
            console.MarkupLine($"[red bold]violation:[/] {Markup.Escape(violation)}");
        if (result.Panic is { } panic)
            console.MarkupLine($"[red bold]kernel panic:[/] {Markup.Escape(panic)}");
        if (!result.FaultLatency.IsEmpty)
            console.Write(LatencyTable(result));
        if (report.Log is { } log)
            console.MarkupLine($"event log: {log.Count:N0} events, hash {log.Hash:x16}");
        Verdict(console, report);
    }

    /// <summary>The monitor's verdict: the violation, or why the run stopped, or that the invariants held.</summary>
    public static void Verdict(IAnsiConsole console, RunReport report)
    {
        if (report.Interrupted)
            console.MarkupLine($"[yellow bold]{Markup.Escape(RunJson.Interruption(report))}[/]" +
                (report.Log is null ? "" : "; every invariant held up to there"));
        else if (report.Violation is { } violation)
            console.MarkupLine($"[red bold]{Markup.Escape(violation.ToString())}[/] (event {violation.AtEvent})");
        else if (report.Crash is { } crash)
            console.MarkupLine($"[red bold]{Markup.Escape(crash)}[/]");
        else if (report.StoppedAt is { } limit)
            console.MarkupLine($"[yellow bold]{Markup.Escape(limit.Message)}[/]; every invariant held up to there ({report.Steps:N0} messages)");
        else if (report.Log is not null)
            console.MarkupLine("[green]every invariant held[/]");
    }

    /// <summary>An interrupted actor run's figures, as its events show them (its actors are never asked for their counters).</summary>
    private static void SoFar(IAnsiConsole console, Faultsim.Model.Checking.EventTally tally)
    {
        var t = tally.Totals;
        console.MarkupLine("[yellow]partial: the figures its events show so far[/]");
        console.Write(ResolutionTable(t));
        console.MarkupLine($"faults {t.Total:N0} ({t.Minor:N0} minor, {t.Major:N0} major); {t.Shootdowns:N0} shootdowns, {t.Ipis:N0} IPIs; " +
            $"disk {t.DiskReads:N0} reads; pages {t.PagesEvicted:N0} evicted; {tally.Syscalls:N0} system calls");
    }

    private static Table LatencyTable(RunResult result)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("fault latency (simulated)");
        table.AddColumn("resolution");
        foreach (var name in new[] { "faults", "p50", "p99", "max" })
            table.AddColumn(name, c => c.RightAligned());
        foreach (var l in result.FaultLatency)
            table.AddRow(Names.Of(l.Kind), N(l.Count), Nanos(l.P50), Nanos(l.P99), Nanos(l.Max));
        return table;
    }

    private static string Nanos(long ns) => ns switch
    {
        < 10_000 => $"{ns:N0} ns",
        < 10_000_000 => $"{ns / 1000.0:N1} µs",
        _ => $"{ns / 1_000_000.0:N1} ms",
    };

    private static Table ProcessTable(RunResult result)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("faults by process");
        table.AddColumn("pid", c => c.RightAligned());
        table.AddColumn("process");
        table.AddColumn("fate");
        foreach (var name in new[] { "minor", "major", "total", "cow", "copies", "segv", "bus", "efault", "disk reads", "TLB hit rate", "shootdowns", "IPIs" })
            table.AddColumn(name, c => c.RightAligned());
        foreach (var p in result.Processes)
            table.AddRow([p.Pid.Value.ToString(CultureInfo.InvariantCulture), Markup.Escape(p.Name), FateMarkup(p.Fate), .. Cells(p.Counters)]);
        table.AddEmptyRow();
        table.AddRow(["", "[bold]total[/]", "", .. Cells(result.Totals)]);
        return table;
    }

    private static string[] Cells(Counters c) =>
    [
        N(c.Minor), N(c.Major), N(c.Total), N(c.Cow), N(c.PagesCopied), N(c.Segv), N(c.Bus), N(c.Efault),
        N(c.DiskReads), HitRate(c), N(c.Shootdowns), N(c.Ipis),
    ];

    private static Table ResolutionTable(Counters totals)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("faults by resolution");
        table.AddColumn("resolution");
        table.AddColumn("faults", c => c.RightAligned());
        table.AddColumn("counted as");
        foreach (var kind in Enum.GetValues<ResolutionKind>().Where(k => totals[k] > 0))
            table.AddRow(Names.Of(kind), N(totals[kind]), CountedAs(kind));
        return table;
    }

    private static string CountedAs(ResolutionKind kind) => kind switch
    {
        ResolutionKind.Major => "major",
        ResolutionKind.SigSegv or ResolutionKind.SigBus => "signal (not counted)",
        ResolutionKind.EfaultFixup => "EFAULT (not counted)",
        ResolutionKind.KernelOops => "panic (not counted)",
        _ => "minor",
    };

    private static string FateMarkup(ProcessFate fate) => fate switch
    {
        ProcessFate.Running or ProcessFate.Exited => Names.Of(fate),
        _ => $"[red]{Names.Of(fate)}[/]",
    };

    private static string HitRate(Counters c) =>
        c.TlbHits + c.TlbMisses == 0 ? "-" : (c.TlbHits / (double)(c.TlbHits + c.TlbMisses)).ToString("P1", CultureInfo.InvariantCulture);

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string EngineText(string engine) =>
        engine == "reference" ? "the sequential reference machine" : "CPUs, TLBs, mms, page loaders, memory and disk as actors";

    private static string FramesText(MachineSpec machine) => machine.Frames == 0 ? "unlimited frames" : $"{machine.Frames:N0} frames";

    private static string InterleavingText(Interleaving interleaving) => interleaving switch
    {
        Interleaving.Random => "random interleaving",
        Interleaving.Sequential => "sequential interleaving",
        _ => "round-robin interleaving",
    };
}

using System.Globalization;
using Faultsim.Host.Configuration;
using Faultsim.Host.Running;
using Spectre.Console;

namespace Faultsim.Host.Output;

/// <summary>What explore and replay print: the verdict, the seed, the event log and the sequence diagram.</summary>
public static class ExploreReport
{
    /// <param name="title">What ran: "scenario NAME", or the swarm draw with its summary.</param>
    /// <param name="source">The replay command's argument naming it: --scenario NAME, or --swarm.</param>
    /// <param name="sets">The --set arguments the run was given: the replay needs them too.</param>
    /// <param name="config">The --config file the run was given, if any: the replay needs it too.</param>
    public static void WriteFailure(TextWriter writer, string title, string source, IEnumerable<string> sets, SimSettings settings, RunReport report,
        string? config = null)
    {
        var console = Terminal.On(writer);
        console.MarkupLine($"{Markup.Escape(title)}, [bold]seed {report.Seed}[/], {settings.Explore.Strategy.ToString().ToLowerInvariant()} strategy");
        RunSummary.Verdict(console, report);
        WriteLog(writer, report);
        var arguments = (config is null ? "" : $" --config {Quoted(config)}") + string.Concat(sets.Select(s => $" --set {Quoted(s)}"));
        var limit = report.StoppedAt is { } stopped ? $" --max-steps {stopped.Steps}" : ""; // replay has no limit of its own
        writer.WriteLine($"replay it: faultsim replay {source} --seed {report.Seed}{StrategyArgument(settings)}{arguments}{limit}");
    }

    /// <summary>
    /// The last events of the run's log (the tail it kept in memory, faultsim.event-log.tail), ending where it stopped,
    /// and their sequence diagram.
    /// </summary>
    public static void WriteLog(TextWriter writer, RunReport report)
    {
        if (report.Log is not { } log)
            return;
        var events = log.Tail;
        var count = log.Count;
        writer.WriteLine();
        writer.WriteLine($"event log ({count.ToString("N0", CultureInfo.InvariantCulture)} events, hash {log.Hash:x16}):");
        if (events.Count < count)
            writer.WriteLine($"  … the first {(count - events.Count).ToString("N0", CultureInfo.InvariantCulture)} events are left out " +
                $"(the last {events.Count.ToString("N0", CultureInfo.InvariantCulture)} are kept: faultsim.event-log.tail; --events FILE writes them all)");
        foreach (var e in events)
            writer.WriteLine(e.ToString());
        writer.WriteLine();
        writer.WriteLine("sequence diagram (Mermaid):");
        writer.WriteLine(SequenceDiagram.Of(events, total: count));
    }

    /// <summary>An argument as a shell takes it: quoted when it holds anything but plain characters.</summary>
    public static string Quoted(string argument) =>
        argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_.=/:+,".Contains(c)) ? argument : "'" + argument.Replace("'", "'\\''") + "'";

    private static string StrategyArgument(SimSettings settings) =>
        settings.Explore.Strategy == Faultsim.Actors.Scheduling.StrategyKind.Random ? "" : " --strategy pct";
}

using System.Globalization;
using Faultsim.Host.Configuration;
using Faultsim.Host.Running;
using Spectre.Console;

namespace Faultsim.Host.Output;

/// <summary>What explore and replay print: the verdict, the seed, the event log and the sequence diagram.</summary>
public static class ExploreReport
{
    public const int MaxLoggedLines = 2000;

    /// <param name="sets">The --set arguments the run was given: the replay needs them too.</param>
    public static void WriteFailure(TextWriter writer, string scenario, IEnumerable<string> sets, SimSettings settings, RunReport report)
    {
        var console = Terminal.On(writer);
        console.MarkupLine($"[bold]scenario[/] {Markup.Escape(scenario)}, [bold]seed {report.Seed}[/], {settings.Explore.Strategy.ToString().ToLowerInvariant()} strategy");
        RunSummary.Verdict(console, report);
        WriteLog(writer, report);
        var arguments = string.Concat(sets.Select(s => $" --set {Quoted(s)}"));
        writer.WriteLine($"replay it: faultsim replay --scenario {Quoted(scenario)} --seed {report.Seed}{StrategyArgument(settings)}{arguments}");
    }

    public static void WriteLog(TextWriter writer, RunReport report)
    {
        if (report.Log is not { } log)
            return;
        var events = log.Events;
        writer.WriteLine();
        writer.WriteLine($"event log ({events.Count.ToString("N0", CultureInfo.InvariantCulture)} events, hash {log.Hash:x16}):");
        if (events.Count > MaxLoggedLines)
            writer.WriteLine($"  … the first {events.Count - MaxLoggedLines:N0} events are left out");
        foreach (var e in events.Skip(Math.Max(0, events.Count - MaxLoggedLines)))
            writer.WriteLine(e.ToString());
        writer.WriteLine();
        writer.WriteLine("sequence diagram (Mermaid):");
        writer.WriteLine(SequenceDiagram.Of(events));
    }

    /// <summary>An argument as a shell takes it: quoted when it holds anything but plain characters.</summary>
    private static string Quoted(string argument) =>
        argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_.=/:+,".Contains(c)) ? argument : "'" + argument.Replace("'", "'\\''") + "'";

    private static string StrategyArgument(SimSettings settings) =>
        settings.Explore.Strategy == Faultsim.Actors.Scheduling.StrategyKind.Random ? "" : " --strategy pct";
}

using System.Text;
using Faultsim.Actors.Monitoring;

namespace Faultsim.Host.Output;

/// <summary>A Mermaid sequence diagram of logged events: an arrow for each event between two actors, a note for the rest.</summary>
public static class SequenceDiagram
{
    /// <param name="events">The events, oldest first: a whole log, or its last events.</param>
    /// <param name="last">How many of the last events to draw.</param>
    /// <param name="total">Events of the whole log, when <paramref name="events"/> is only its tail.</param>
    public static string Of(IReadOnlyList<LoggedEvent> events, int last = 80, long? total = null)
    {
        var count = total ?? events.Count;
        var shown = events.Skip(Math.Max(0, events.Count - last)).ToList();
        var participants = shown.SelectMany(e => e.Peer is null ? [e.Actor] : new[] { e.Actor, e.Peer }).Distinct().ToList();
        var text = new StringBuilder("sequenceDiagram\n");
        foreach (var participant in participants)
            text.Append("    participant ").Append(Id(participant)).Append(" as ").Append(participant).Append('\n');
        if (shown.Count < count)
            text.Append("    Note over ").Append(Id(participants[0])).Append(": the last ").Append(shown.Count).Append(" of ").Append(count).Append(" events\n");
        foreach (var e in shown)
        {
            text.Append("    ");
            if (e.Peer is null)
                text.Append("Note over ").Append(Id(e.Actor));
            else
                text.Append(Id(e.Actor)).Append("->>").Append(Id(e.Peer));
            text.Append(": ").Append(e.Seq).Append(' ').Append(Escape(e.Event.ToString())).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>Participant ids: letters, digits and underscores only.</summary>
    private static string Id(string name) => new([.. name.Select(c => char.IsLetterOrDigit(c) ? c : '_')]);

    /// <summary>Mermaid reads '#' as the start of an entity and ';' as the end of a statement: both become entity codes.</summary>
    private static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            _ = c switch
            {
                '#' => escaped.Append("#35;"),
                ';' => escaped.Append("#59;"),
                _ => escaped.Append(c),
            };
        }
        return escaped.ToString();
    }
}

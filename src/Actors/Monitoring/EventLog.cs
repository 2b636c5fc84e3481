using System.Globalization;
using System.Text;
using Faultsim.Model.Checking;

namespace Faultsim.Actors.Monitoring;

/// <summary>One logged event: its number, the simulated time, the actor that did it and the one it did it to.</summary>
public sealed record LoggedEvent(long Seq, long TimeNanos, string Actor, string? Peer, SimEvent Event)
{
    public override string ToString() =>
        $"{Seq,6} {TimeNanos.ToString("N0", CultureInfo.InvariantCulture),14} ns  {Actor}{(Peer is null ? "" : " → " + Peer)}: {Event}";
}

/// <summary>
/// The event log of one run, and its invariant monitor. Actors only write to it — none reads it to decide
/// anything — so it observes the protocol without taking part in it. In a deterministic run everything is
/// written by the driver's thread in a fixed order; a live run writes from several threads, under a lock.
/// </summary>
public sealed class EventLog(Func<long> clock)
{
    private readonly object _gate = new();
    private readonly List<LoggedEvent> _events = [];

    public InvariantMonitor Monitor { get; } = new();

    public int Count
    {
        get { lock (_gate) return _events.Count; }
    }

    public Violation? Violation => Monitor.Violation;

    public IReadOnlyList<LoggedEvent> Events
    {
        get { lock (_gate) return [.. _events]; }
    }

    public void Record(string actor, string? peer, SimEvent e)
    {
        lock (_gate)
        {
            var seq = _events.Count + 1;
            _events.Add(new LoggedEvent(seq, clock(), actor, peer, e));
            Monitor.Observe(seq, e);
        }
    }

    /// <summary>The log as text, one event a line: what a person reads and what <see cref="Hash"/> covers.</summary>
    public IEnumerable<string> Lines => Events.Select(e => e.ToString());

    /// <summary>An FNV-1a hash of the text of the log: two runs with equal hashes logged the same events, byte for byte.</summary>
    public ulong Hash
    {
        get
        {
            var h = 14695981039346656037UL;
            foreach (var line in Lines)
            {
                foreach (var b in Encoding.UTF8.GetBytes(line + "\n"))
                    h = (h ^ b) * 1099511628211UL;
            }
            return h;
        }
    }
}

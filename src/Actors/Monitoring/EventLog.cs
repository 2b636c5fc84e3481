using System.Globalization;
using System.Text;
using Faultsim.Model.Checking;
using Faultsim.Model.Common;
using Faultsim.Model.Machine;

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

    /// <summary>The end of a finished run: the end-state memory check, and the log's count in the result.</summary>
    public RunResult Complete(RunResult result)
    {
        if (result.Memory is { } memory)
        {
            var live = result.Processes.Where(p => p.Fate == ProcessFate.Running).Select(p => p.Pid).ToHashSet();
            Monitor.CheckMemory(memory, live, int.MaxValue, Count);
        }
        return result with { EventCount = Count };
    }

    /// <summary>The log as text, one event a line: what a person reads and what <see cref="Hash"/> covers.</summary>
    public IEnumerable<string> Lines => Events.Select(e => e.ToString());

    /// <summary>
    /// An FNV-1a hash of the text of the log: two runs with equal hashes logged the same events, byte for byte.
    /// Reports ask for it more than once: it is computed once per length of the log.
    /// </summary>
    public ulong Hash
    {
        get
        {
            var events = Events;
            if (_hashed is var (count, cached) && count == events.Count)
                return cached;
            var h = Fnv1a.Offset;
            var bytes = new byte[256];
            foreach (var e in events)
            {
                var line = e.ToString();
                if (Encoding.UTF8.GetMaxByteCount(line.Length) > bytes.Length)
                    bytes = new byte[Encoding.UTF8.GetMaxByteCount(line.Length)];
                h = Fnv1a.Mix(Fnv1a.Mix(h, bytes.AsSpan(0, Encoding.UTF8.GetBytes(line, bytes))), (byte)'\n');
            }
            _hashed = (events.Count, h);
            return h;
        }
    }

    private (int Count, ulong Hash)? _hashed;
}

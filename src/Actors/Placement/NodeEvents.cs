using System.Collections.Immutable;
using Faultsim.Actors.Monitoring;
using Faultsim.Actors.Scheduling;
using Faultsim.Model.Checking;

namespace Faultsim.Actors.Placement;

/// <summary>
/// The events a node's parts of a cluster run recorded, each stamped with the node's monotonic clock (the machine's
/// clock, on one machine: every node's stamps compare) and numbered in the order the node recorded them. The submitting
/// machine merges every node's by time into one log, whose monitor then checks the run.
/// </summary>
public sealed class NodeEventBuffer : IEventSink
{
    private readonly List<NodeEvent> _events = [];

    /// <summary>The log the node's parts record into: stamped by <see cref="SimTime.WallNanos"/>, every event kept here.</summary>
    public EventLog Log { get; }

    public NodeEventBuffer() => Log = new EventLog(() => SimTime.WallNanos, tail: 1, sink: this);

    /// <summary>The events so far, in the order recorded (take them once the run has ended).</summary>
    public ImmutableArray<NodeEvent> Events
    {
        get
        {
            lock (_events)
                return [.. _events];
        }
    }

    public void Write(LoggedEvent e, ReadOnlySpan<char> line)
    {
        lock (_events)
            _events.Add(new NodeEvent(e.TimeNanos, e.Seq, e.Actor, e.Peer, e.Event));
    }
}

/// <summary>
/// A node's buffers of the events of its cluster runs, by run id: opened when the node makes a run's parts, taken when
/// the run's machine asks for them at its end. A run whose machine never asks (it was lost) is dropped once
/// <see cref="Kept"/> newer runs have opened theirs.
/// </summary>
public sealed class NodeEventStore
{
    /// <summary>How many runs' events a node keeps before it drops the oldest not asked for.</summary>
    public const int Kept = 8;

    private readonly object _gate = new();
    private readonly List<(string Run, NodeEventBuffer Buffer)> _runs = [];

    public NodeEventBuffer Open(string run)
    {
        var buffer = new NodeEventBuffer();
        lock (_gate)
        {
            _runs.RemoveAll(r => r.Run == run);
            _runs.Add((run, buffer));
            if (_runs.Count > Kept)
                _runs.RemoveAt(0);
        }
        return buffer;
    }

    /// <summary>The events of <paramref name="run"/>, no longer kept here; empty for a run this node kept none of.</summary>
    public ImmutableArray<NodeEvent> Take(string run)
    {
        lock (_gate)
        {
            var index = _runs.FindIndex(r => r.Run == run);
            if (index < 0)
                return [];
            var buffer = _runs[index].Buffer;
            _runs.RemoveAt(index);
            return buffer.Events;
        }
    }
}

/// <summary>One event a node's part recorded: when (the node's monotonic clock, ns), its number on the node, who did it to whom, and what.</summary>
public sealed record NodeEvent(long TimeNanos, long Seq, string Actor, string? Peer, SimEvent Event);

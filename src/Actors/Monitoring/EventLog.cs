using System.Globalization;
using System.Text;
using Faultsim.Model.Checking;
using Faultsim.Model.Common;
using Faultsim.Model.Machine;

namespace Faultsim.Actors.Monitoring;

/// <summary>One logged event: its number, the simulated time, the actor that did it and the one it did it to.</summary>
public sealed record LoggedEvent(long Seq, long TimeNanos, string Actor, string? Peer, SimEvent Event)
{
    /// <summary>The event's line of the log, as <see cref="EventLog.Hash"/> covers it and an event file holds it.</summary>
    public override string ToString()
    {
        var buffer = new char[256];
        int written;
        while (!TryFormat(buffer, out written))
            buffer = new char[buffer.Length * 2];
        return new string(buffer, 0, written);
    }

    /// <summary>Writes the line into <paramref name="destination"/>; false (nothing usable written) when it does not fit.</summary>
    public bool TryFormat(Span<char> destination, out int written) =>
        destination.TryWrite(CultureInfo.InvariantCulture,
            $"{Seq,6} {TimeNanos,14:N0} ns  {Actor}{(Peer is null ? "" : " → ")}{Peer}: {Event}", out written);
}

/// <summary>
/// Where every event of a run goes as it is recorded, in order: an event file (`--events FILE`), or a test that
/// needs the whole log. Called under the log's lock, by whichever thread recorded the event.
/// </summary>
public interface IEventSink
{
    /// <param name="e">The event.</param>
    /// <param name="line">Its text (<see cref="LoggedEvent.ToString"/>), valid only during the call.</param>
    void Write(LoggedEvent e, ReadOnlySpan<char> line);
}

/// <summary>How a run keeps its event log: at all or not, how many of its last events stay in memory, and where every event goes.</summary>
/// <param name="Enabled">False runs without the log and its monitor (benchmarks): the same run, unchecked.</param>
/// <param name="Tail">Events kept in memory for the report after a violation and its sequence diagram.</param>
/// <param name="Sink">Receives every event as it happens (an event file); null keeps only the tail.</param>
public sealed record EventLogOptions(bool Enabled = true, int Tail = EventLog.DefaultTail, IEventSink? Sink = null)
{
    public static readonly EventLogOptions Default = new();
    public static readonly EventLogOptions Off = new(Enabled: false);
}

/// <summary>
/// The event log of one run, and its invariant monitor. Actors only write to it — none reads it to decide
/// anything — so it observes the protocol without taking part in it. In a deterministic run everything is
/// written by the driver's thread in a fixed order; a live run writes from several threads, under a lock.
/// </summary>
/// <remarks>
/// The log does not keep a run whole, so a run of any length fits in memory: the monitor sees every event, the
/// hash takes in each event's line in order, a sink (if any) receives every event, and only the last
/// <see cref="TailCapacity"/> events are kept, for the report of a violation and its sequence diagram. Without a
/// sink no line is formatted as it is recorded: the events wait in the tail and are formatted into the hash in order,
/// when the tail is about to drop one or the hash is read — the same hash, and a run whose hash nobody reads
/// (explore's passing seeds) formats few of its lines or none.
/// </remarks>
public sealed class EventLog
{
    /// <summary>Events kept in memory by default: what a violation's report prints, ending at the violating event.</summary>
    public const int DefaultTail = 2000;

    private readonly object _gate = new();
    private readonly Func<long> _clock;
    private readonly IEventSink? _sink;
    private readonly List<LoggedEvent> _tail = []; // a ring once full: the oldest at _count % TailCapacity
    private long _hashed; // events 1.._hashed are in _hash; the later ones wait in the tail
    private long _count;
    private ulong _hash = Fnv1a.Offset;
    private char[] _line = new char[256];
    private byte[] _bytes = new byte[Encoding.UTF8.GetMaxByteCount(256)];

    /// <param name="clock">The time stamped on each event (virtual nanoseconds in deterministic runs).</param>
    /// <param name="tail">How many of the last events to keep in memory (at least 1).</param>
    /// <param name="sink">Receives every event as it is recorded.</param>
    public EventLog(Func<long> clock, int tail = DefaultTail, IEventSink? sink = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tail, 1);
        _clock = clock;
        TailCapacity = tail;
        _sink = sink;
    }

    public InvariantMonitor Monitor { get; } = new();

    /// <summary>The figures the events show so far: what an interrupted run reports.</summary>
    public EventTally Tally { get; } = new();

    /// <summary>How many of the last events the log keeps in memory.</summary>
    public int TailCapacity { get; }

    /// <summary>Events recorded so far.</summary>
    public long Count
    {
        get { lock (_gate) return _count; }
    }

    public Violation? Violation => Monitor.Violation;

    /// <summary>The last events recorded (at most <see cref="TailCapacity"/>), oldest first: all of them when the run was short.</summary>
    public IReadOnlyList<LoggedEvent> Tail
    {
        get
        {
            lock (_gate)
            {
                if (_tail.Count < TailCapacity)
                    return [.. _tail];
                var oldest = (int)(_count % TailCapacity);
                return [.. _tail.Skip(oldest), .. _tail.Take(oldest)];
            }
        }
    }

    /// <summary>
    /// An FNV-1a hash of the text of the log, each event's line followed by a newline — the bytes of its event file:
    /// two runs with equal hashes logged the same events, byte for byte. Taken in event by event as they are recorded.
    /// </summary>
    public ulong Hash
    {
        get
        {
            lock (_gate)
            {
                HashWaiting(_count);
                return _hash;
            }
        }
    }

    public void Record(string actor, string? peer, SimEvent e)
    {
        lock (_gate)
        {
            var logged = new LoggedEvent(++_count, _clock(), actor, peer, e);
            if (_tail.Count < TailCapacity)
                _tail.Add(logged);
            else
            {
                HashWaiting(_count - TailCapacity); // the event it replaces goes into the hash first
                _tail[(int)((_count - 1) % TailCapacity)] = logged;
            }
            if (_sink is not null)
            {
                HashWaiting(_count - 1);
                _sink.Write(logged, HashLine(logged)); // the sink sees the line as it happens: it is hashed now
                _hashed = _count;
            }
            Monitor.Observe(logged.Seq, e);
            Tally.Observe(e);
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

    /// <summary>Takes the events waiting up to event <paramref name="upTo"/> into the hash, in order, from the tail. Under the gate.</summary>
    private void HashWaiting(long upTo)
    {
        for (; _hashed < upTo; _hashed++)
            HashLine(_tail[(int)(_hashed % TailCapacity)]); // event _hashed + 1
    }

    /// <summary>Takes <paramref name="logged"/>'s line into the hash and returns it (valid until the next line). Under the gate.</summary>
    private ReadOnlySpan<char> HashLine(LoggedEvent logged)
    {
        var line = Line(logged);
        var length = Encoding.UTF8.GetBytes(line, _bytes);
        _hash = Fnv1a.Mix(Fnv1a.Mix(_hash, _bytes.AsSpan(0, length)), (byte)'\n');
        return line;
    }

    /// <summary>The event's line in the log's own buffers, grown when a line does not fit.</summary>
    private ReadOnlySpan<char> Line(LoggedEvent logged)
    {
        int written;
        while (!logged.TryFormat(_line, out written))
            _line = new char[_line.Length * 2];
        if (Encoding.UTF8.GetMaxByteCount(written) > _bytes.Length)
            _bytes = new byte[Encoding.UTF8.GetMaxByteCount(_line.Length)];
        return _line.AsSpan(0, written);
    }
}

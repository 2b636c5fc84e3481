using System.Diagnostics;
using System.Text.Json;
using Faultsim.Actors.Telemetry;
using OpenTelemetry;
using Spans = Faultsim.Actors.Telemetry.Instruments.Spans;
using Attr = Faultsim.Actors.Telemetry.Instruments.Attributes;

namespace Faultsim.Host.Telemetry;

/// <summary>
/// Writes a run's spans as Chrome trace-event JSON, which Perfetto (ui.perfetto.dev) and chrome://tracing open directly:
/// one lane (thread) per simulated CPU, each fault drawn on the CPU that took it with its steps nested below, a
/// shootdown on its initiator's lane (reclaim's on a lane of its own) and each IPI on its target CPU's lane, linked by
/// an arrow. Where two traces overlap on one CPU (a fault and an IPI it received), the later goes to a second row of
/// that CPU, so every lane nests properly.
/// </summary>
/// <remarks>
/// Spans are streamed to the file as their traces complete: a fault's steps end before its root, so they wait in
/// <see cref="_pending"/> only while their fault is in flight. Timestamps are microseconds since <c>origin</c>.
/// </remarks>
public sealed class ChromeTraceExporter : BaseExporter<Activity>
{
    private const int Pid = 1;
    private const int ReclaimLane = -1, OtherLane = -2;

    private readonly Stream _stream;
    private readonly Utf8JsonWriter _json;
    private readonly DateTime _origin;
    private readonly Dictionary<ActivityTraceId, List<Activity>> _pending = [];
    private readonly Dictionary<int, List<long>> _rowEnds = [];   // lane → the latest end (ticks) on each of its rows
    private readonly Dictionary<(int Lane, int Row), int> _tids = [];
    private long _flows;
    private bool _closed;

    /// <param name="path">The file to write; created (or replaced) now, so a bad path fails before the run.</param>
    /// <param name="origin">The instant written as time 0: no span starts before it.</param>
    public ChromeTraceExporter(string path, DateTime origin)
        : this(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16), origin)
    {
    }

    /// <param name="stream">Where the JSON goes (a file written whole, standard output); closed at shutdown.</param>
    /// <param name="origin">The instant written as time 0: no span starts before it.</param>
    public ChromeTraceExporter(Stream stream, DateTime origin)
    {
        _stream = stream;
        _json = new Utf8JsonWriter(_stream);
        _origin = origin;
        _json.WriteStartObject();
        _json.WriteString("displayTimeUnit", "ns");
        _json.WriteStartArray("traceEvents");
        Metadata("process_name", null, "faultsim");
    }

    /// <summary>Events written so far, metadata and arrows included.</summary>
    public long Events { get; private set; }

    /// <summary>Spans written so far.</summary>
    public long SpansWritten { get; private set; }

    /// <summary>Whether the run was interrupted: the file, closed, says "partial": true in its otherData.</summary>
    public bool Partial { get; set; }

    public override ExportResult Export(in Batch<Activity> batch)
    {
        foreach (var span in batch)
        {
            if (span.ParentSpanId == default)
                WriteTrace(span);
            else if (_pending.TryGetValue(span.TraceId, out var steps))
                steps.Add(span);
            else
                _pending[span.TraceId] = [span];
        }
        if (_json.BytesPending > 1 << 16)
            _json.Flush();
        return ExportResult.Success;
    }

    protected override bool OnShutdown(int timeoutMilliseconds)
    {
        if (_closed)
            return true;
        _closed = true;
        foreach (var orphans in _pending.Values) // steps whose root never came: the run was cut short
            Place(OtherLane, orphans);
        _json.WriteEndArray();
        _json.WriteStartObject("otherData");
        _json.WriteBoolean("partial", Partial);
        _json.WriteEndObject();
        _json.WriteEndObject();
        _json.Dispose(); // flushes
        _stream.Dispose();
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            OnShutdown(0);
        base.Dispose(disposing);
    }

    /// <summary>A trace is complete when its root ends: its IPIs go to their target CPUs, the rest to the root's lane.</summary>
    private void WriteTrace(Activity root)
    {
        List<Activity> tree = [root], ipis = [];
        if (_pending.Remove(root.TraceId, out var steps))
        {
            foreach (var step in steps)
                (step.DisplayName == Spans.Ipi && Lane(step, Attr.Cpu) >= 0 ? ipis : tree).Add(step);
        }
        var tid = Place(root.DisplayName == Spans.Shootdown ? Lane(root, Attr.Initiator) : Lane(root, Attr.Cpu), tree);
        foreach (var ipi in ipis)
        {
            // On the CPU it interrupted, with an arrow from the start of its shootdown on the initiator's lane.
            var shootdown = tree.Find(s => s.SpanId == ipi.ParentSpanId) ?? root;
            var target = Place(Lane(ipi, Attr.Cpu), [ipi]);
            Flow("s", ++_flows, tid, shootdown.StartTimeUtc);
            Flow("f", _flows, target, ipi.StartTimeUtc);
        }
    }

    /// <summary>Writes spans that nest on one row of <paramref name="lane"/>: the first row free over their whole time.</summary>
    private int Place(int lane, List<Activity> spans)
    {
        long start = long.MaxValue, end = long.MinValue;
        foreach (var span in spans)
        {
            start = Math.Min(start, span.StartTimeUtc.Ticks);
            end = Math.Max(end, (span.StartTimeUtc + span.Duration).Ticks);
        }
        if (!_rowEnds.TryGetValue(lane, out var rows))
            _rowEnds[lane] = rows = [];
        var row = 0;
        while (row < rows.Count && rows[row] > start)
            row++;
        if (row == rows.Count)
            rows.Add(end);
        else
            rows[row] = end;
        var tid = Tid(lane, row);
        foreach (var span in spans)
            Slice(span, tid);
        return tid;
    }

    private int Tid(int lane, int row)
    {
        if (_tids.TryGetValue((lane, row), out var tid))
            return tid;
        _tids[(lane, row)] = tid = _tids.Count + 1;
        var name = lane switch
        {
            ReclaimLane => "reclaim",
            OtherLane => "unfinished",
            _ => $"cpu {lane}",
        };
        Metadata("thread_name", tid, row == 0 ? name : $"{name} ({row + 1})");
        Metadata("thread_sort_index", tid, null, (lane < 0 ? 1_000_000 - lane * 1000 : lane * 1000) + row);
        return tid;
    }

    private static int Lane(Activity span, string attribute) => span.GetTagItem(attribute) switch
    {
        int lane => Math.Max(lane, ReclaimLane),
        long lane => (int)Math.Max(lane, ReclaimLane),
        _ => OtherLane,
    };

    private static readonly JsonEncodedText Name = JsonEncodedText.Encode("name"), Cat = JsonEncodedText.Encode("cat"), Ph = JsonEncodedText.Encode("ph"),
        Ts = JsonEncodedText.Encode("ts"), Dur = JsonEncodedText.Encode("dur"), PidName = JsonEncodedText.Encode("pid"), TidName = JsonEncodedText.Encode("tid"),
        Args = JsonEncodedText.Encode("args"), TraceId = JsonEncodedText.Encode("trace_id"), SpanId = JsonEncodedText.Encode("span_id"),
        Complete = JsonEncodedText.Encode("X"), Root = JsonEncodedText.Encode("trace"), Step = JsonEncodedText.Encode("step");

    private void Slice(Activity span, int tid)
    {
        _json.WriteStartObject();
        _json.WriteString(Name, span.DisplayName);
        _json.WriteString(Cat, span.ParentSpanId == default ? Root : Step);
        _json.WriteString(Ph, Complete);
        Micros(Ts, (span.StartTimeUtc - _origin).Ticks);
        Micros(Dur, span.Duration.Ticks);
        _json.WriteNumber(PidName, Pid);
        _json.WriteNumber(TidName, tid);
        _json.WriteStartObject(Args);
        Span<byte> id = stackalloc byte[16];
        Span<char> hex = stackalloc char[32];
        span.TraceId.CopyTo(id);
        Convert.TryToHexStringLower(id, hex, out _);
        _json.WriteString(TraceId, hex);
        span.SpanId.CopyTo(id[..8]);
        Convert.TryToHexStringLower(id[..8], hex, out _);
        _json.WriteString(SpanId, hex[..16]);
        foreach (var (key, value) in span.EnumerateTagObjects())
        {
            switch (value)
            {
                case int number:
                    _json.WriteNumber(key, number);
                    break;
                case long number:
                    _json.WriteNumber(key, number);
                    break;
                case string text:
                    _json.WriteString(key, text);
                    break;
                default:
                    _json.WriteString(key, value?.ToString());
                    break;
            }
        }
        _json.WriteEndObject();
        _json.WriteEndObject();
        Events++;
        SpansWritten++;
    }

    /// <summary>A time in the trace format's microseconds, exactly: 100 ns ticks as a number with one decimal.</summary>
    private void Micros(JsonEncodedText name, long ticks)
    {
        ticks = Math.Max(0, ticks);
        Span<byte> text = stackalloc byte[24];
        System.Buffers.Text.Utf8Formatter.TryFormat(ticks / 10, text, out var written);
        text[written++] = (byte)'.';
        text[written++] = (byte)('0' + ticks % 10);
        _json.WritePropertyName(name);
        _json.WriteRawValue(text[..written], skipInputValidation: true);
    }

    private void Flow(string phase, long id, int tid, DateTime at)
    {
        _json.WriteStartObject();
        _json.WriteString("name", Spans.Ipi);
        _json.WriteString("cat", "ipi");
        _json.WriteString("ph", phase);
        if (phase == "f")
            _json.WriteString("bp", "e"); // binds to the IPI slice that starts here
        _json.WriteNumber("id", id);
        Micros(Ts, (at - _origin).Ticks);
        _json.WriteNumber("pid", Pid);
        _json.WriteNumber("tid", tid);
        _json.WriteEndObject();
        Events++;
    }

    private void Metadata(string name, int? tid, string? value, int? sortIndex = null)
    {
        _json.WriteStartObject();
        _json.WriteString("name", name);
        _json.WriteString("ph", "M");
        _json.WriteNumber("pid", Pid);
        if (tid is { } t)
            _json.WriteNumber("tid", t);
        _json.WriteStartObject("args");
        if (value is not null)
            _json.WriteString("name", value);
        if (sortIndex is { } index)
            _json.WriteNumber("sort_index", index);
        _json.WriteEndObject();
        _json.WriteEndObject();
        Events++;
    }
}

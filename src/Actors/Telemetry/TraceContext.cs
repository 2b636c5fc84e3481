using System.Buffers.Binary;
using System.Diagnostics;

namespace Faultsim.Actors.Telemetry;

/// <summary>
/// The W3C trace context of a sampled fault (or shootdown), as a message field: the trace id and the span that is the
/// parent of whatever the receiver records. <see cref="None"/> (all zero) means not sampled: nothing is recorded for it.
/// Plain numbers, so it crosses the serializer and, later, the network.
/// </summary>
public readonly record struct TraceContext(ulong TraceHigh, ulong TraceLow, ulong Span)
{
    public static readonly TraceContext None = default;

    public bool IsSampled => Span != 0;

    public static TraceContext Of(Activity activity)
    {
        Span<byte> trace = stackalloc byte[16];
        Span<byte> span = stackalloc byte[8];
        activity.TraceId.CopyTo(trace);
        activity.SpanId.CopyTo(span);
        return new(BinaryPrimitives.ReadUInt64BigEndian(trace), BinaryPrimitives.ReadUInt64BigEndian(trace[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(span));
    }

    public ActivityContext ToActivityContext()
    {
        Span<byte> trace = stackalloc byte[16];
        Span<byte> span = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(trace, TraceHigh);
        BinaryPrimitives.WriteUInt64BigEndian(trace[8..], TraceLow);
        BinaryPrimitives.WriteUInt64BigEndian(span, Span);
        return new ActivityContext(ActivityTraceId.CreateFromBytes(trace), ActivitySpanId.CreateFromBytes(span), ActivityTraceFlags.Recorded);
    }

    public override string ToString() => IsSampled ? $"{TraceHigh:x16}{TraceLow:x16}/{Span:x16}" : "none";
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;

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

    /// <summary>The W3C <c>traceparent</c> header of this context (version 00, sampled); null when not sampled.</summary>
    public string? ToTraceParent() => IsSampled ? $"00-{TraceHigh:x16}{TraceLow:x16}-{Span:x16}-01" : null;

    /// <summary>
    /// The context a W3C <c>traceparent</c> names (null or empty: <see cref="None"/>); false for a header that is not one.
    /// Only version 00 is read, as the W3C recommendation has it; the flags are not kept (a context that travels is sampled).
    /// </summary>
    public static bool TryParse(string? traceParent, out TraceContext context)
    {
        context = None;
        if (string.IsNullOrEmpty(traceParent))
            return true;
        var text = traceParent.AsSpan();
        if (text.Length != 55 || !text.StartsWith("00-") || text[35] != '-' || text[52] != '-'
            || !ulong.TryParse(text[3..19], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high)
            || !ulong.TryParse(text[19..35], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low)
            || !ulong.TryParse(text[36..52], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var span)
            || !byte.TryParse(text[53..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _)
            || span == 0 || (high | low) == 0)
            return false;
        context = new TraceContext(high, low, span);
        return true;
    }

    public override string ToString() => IsSampled ? $"{TraceHigh:x16}{TraceLow:x16}/{Span:x16}" : "none";
}

using System.Collections.Immutable;
using System.Numerics;
using Faultsim.Model.Faults;

namespace Faultsim.Model.Machine;

/// <summary>
/// A histogram of latencies in nanoseconds: exact below 32 ns, then 16 buckets per power of two, so a
/// percentile is within about 6% of the truth. It costs a fixed thousand counters, however many samples.
/// </summary>
public sealed class LatencyHistogram
{
    private const int Exact = 32, SubBuckets = 16;
    private readonly long[] _counts;

    public LatencyHistogram() : this(new long[Exact + (63 - 5) * SubBuckets + SubBuckets])
    {
    }

    private LatencyHistogram(long[] counts) => _counts = counts;

    public long Count { get; private set; }
    public long Max { get; private set; }

    public void Add(long nanos)
    {
        nanos = Math.Max(0, nanos);
        _counts[Index(nanos)]++;
        Count++;
        Max = Math.Max(Max, nanos);
    }

    public void Merge(LatencyHistogram other)
    {
        for (var i = 0; i < _counts.Length; i++)
            _counts[i] += other._counts[i];
        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>The latency below which <paramref name="fraction"/> of the samples fall (the lower bound of its bucket, at most the max).</summary>
    public long Percentile(double fraction)
    {
        if (Count == 0)
            return 0;
        var rank = (long)Math.Ceiling(fraction * Count);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= Math.Max(1, rank))
                return Math.Min(LowerBound(i), Max);
        }
        return Max;
    }

    /// <summary>The non-zero buckets, to carry in a message.</summary>
    public ImmutableArray<(int Bucket, long Count)> Buckets =>
        [.. _counts.Select((c, i) => (i, c)).Where(b => b.c > 0)];

    public static LatencyHistogram From(ImmutableArray<(int Bucket, long Count)> buckets, long max)
    {
        var histogram = new LatencyHistogram();
        foreach (var (bucket, count) in buckets)
        {
            histogram._counts[bucket] += count;
            histogram.Count += count;
        }
        histogram.Max = max;
        return histogram;
    }

    private static int Index(long v)
    {
        if (v < Exact)
            return (int)v;
        var msb = 63 - BitOperations.LeadingZeroCount((ulong)v);
        var shift = msb - 4;
        return Exact + (msb - 5) * SubBuckets + (int)((v >> shift) - SubBuckets);
    }

    private static long LowerBound(int index)
    {
        if (index < Exact)
            return index;
        var msb = (index - Exact) / SubBuckets + 5;
        var mantissa = (index - Exact) % SubBuckets + SubBuckets;
        return (long)mantissa << (msb - 4);
    }
}

/// <summary>Fault latency of one resolution kind: how many, the median, the 99th percentile and the worst, in nanoseconds.</summary>
public sealed record LatencySummary(ResolutionKind Kind, long Count, long P50, long P99, long Max)
{
    public static LatencySummary Of(ResolutionKind kind, LatencyHistogram histogram) =>
        new(kind, histogram.Count, histogram.Percentile(0.5), histogram.Percentile(0.99), histogram.Max);
}

using System.Collections.Immutable;
using System.Numerics;
using Faultsim.Model.Faults;

namespace Faultsim.Model.Machine;

/// <summary>
/// A histogram of latencies in nanoseconds: exact below 32 ns, then 16 buckets per power of two, so a
/// percentile is within about 6% of the truth. It costs at most a thousand counters, however many samples, kept in
/// rows of 16 made when a sample first falls in them: a run's handful of faults costs a few rows, not the thousand.
/// </summary>
public sealed class LatencyHistogram
{
    private const int Exact = 32, SubBuckets = 16, BucketCount = Exact + (63 - 5) * SubBuckets + SubBuckets;
    private readonly long[]?[] _rows = new long[]?[BucketCount / SubBuckets];

    public long Count { get; private set; }
    public long Max { get; private set; }

    public void Add(long nanos)
    {
        nanos = Math.Max(0, nanos);
        Bump(Index(nanos), 1);
        Count++;
        Max = Math.Max(Max, nanos);
    }

    public void Merge(LatencyHistogram other)
    {
        for (var r = 0; r < _rows.Length; r++)
            if (other._rows[r] is { } row)
                for (var i = 0; i < SubBuckets; i++)
                    if (row[i] != 0)
                        Bump(r * SubBuckets + i, row[i]);
        Count += other.Count;
        Max = Math.Max(Max, other.Max);
    }

    /// <summary>Adds buckets as <see cref="Buckets"/> carries them, with their worst sample: what <see cref="Merge"/> of their histogram adds.</summary>
    public void Merge(ImmutableArray<(int Bucket, long Count)> buckets, long max)
    {
        foreach (var (bucket, count) in buckets)
        {
            Bump(bucket, count);
            Count += count;
        }
        Max = Math.Max(Max, max);
    }

    /// <summary>The latency below which <paramref name="fraction"/> of the samples fall (the lower bound of its bucket, at most the max).</summary>
    public long Percentile(double fraction)
    {
        if (Count == 0)
            return 0;
        var rank = Math.Max(1, (long)Math.Ceiling(fraction * Count));
        long seen = 0;
        for (var r = 0; r < _rows.Length; r++)
        {
            if (_rows[r] is not { } row)
                continue;
            for (var i = 0; i < SubBuckets; i++)
            {
                seen += row[i];
                if (row[i] != 0 && seen >= rank)
                    return Math.Min(LowerBound(r * SubBuckets + i), Max);
            }
        }
        return Max;
    }

    /// <summary>The non-zero buckets in order, to carry in a message.</summary>
    public ImmutableArray<(int Bucket, long Count)> Buckets
    {
        get
        {
            var buckets = ImmutableArray.CreateBuilder<(int Bucket, long Count)>();
            for (var r = 0; r < _rows.Length; r++)
                if (_rows[r] is { } row)
                    for (var i = 0; i < SubBuckets; i++)
                        if (row[i] != 0)
                            buckets.Add((r * SubBuckets + i, row[i]));
            return buckets.DrainToImmutable();
        }
    }

    public static LatencyHistogram From(ImmutableArray<(int Bucket, long Count)> buckets, long max)
    {
        var histogram = new LatencyHistogram();
        histogram.Merge(buckets, max);
        return histogram;
    }

    private void Bump(int index, long count) => (_rows[index / SubBuckets] ??= new long[SubBuckets])[index % SubBuckets] += count;

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

using Faultsim.Model.Machine;

namespace Faultsim.Tests.Model;

public class LatencyHistogramTests
{
    private static readonly long[] Samples = [0, 3, 31, 32, 33, 47, 48, 1_000, 1_023, 1_024, 127_000, 129_700, 5_000_000_000];

    [Fact]
    public void Percentiles_are_exact_below_32_ns_and_the_lower_bound_of_a_sixteenth_of_a_power_of_two_above()
    {
        var histogram = new LatencyHistogram();
        foreach (var sample in Samples)
            histogram.Add(sample);

        Assert.Equal(13, histogram.Count);
        Assert.Equal(5_000_000_000, histogram.Max);
        Assert.Equal(0, histogram.Percentile(0));
        Assert.Equal(31, histogram.Percentile(3.0 / 13));      // the third sample: exact
        Assert.Equal(32, histogram.Percentile(5.0 / 13));      // 33 shares 32's bucket (32..33)
        Assert.Equal(46, histogram.Percentile(6.0 / 13));      // 47: the bucket 46..47
        Assert.Equal(1_024, histogram.Percentile(10.0 / 13));  // 1,024 starts its bucket
        Assert.Equal(126_976, histogram.Percentile(11.0 / 13)); // 127,000: the bucket of 124 · 1,024
        Assert.Equal(4_831_838_208, histogram.Percentile(1));   // 5e9: the bucket of 18 · 2^28
    }

    [Fact]
    public void Its_buckets_carried_in_a_message_rebuild_the_same_histogram_and_merge_as_it_does()
    {
        var (a, b) = (new LatencyHistogram(), new LatencyHistogram());
        foreach (var sample in Samples)
            a.Add(sample);
        foreach (var sample in Samples.Select(s => s * 3 + 1))
            b.Add(sample);
        var rebuilt = LatencyHistogram.From(a.Buckets, a.Max);
        var merged = LatencyHistogram.From(a.Buckets, a.Max);
        merged.Merge(b);
        var carried = new LatencyHistogram();
        carried.Merge(a.Buckets, a.Max);
        carried.Merge(b.Buckets, b.Max);

        Assert.Equal(a.Buckets.ToArray(), rebuilt.Buckets.ToArray());
        Assert.Equal(a.Buckets.Sum(x => x.Count), a.Count);
        Assert.True(a.Buckets.Select(x => x.Bucket).SequenceEqual(a.Buckets.Select(x => x.Bucket).Order()));
        Assert.Equal(merged.Buckets.ToArray(), carried.Buckets.ToArray());
        Assert.Equal((26L, b.Max), (carried.Count, carried.Max));
        foreach (var fraction in new[] { 0.1, 0.5, 0.9, 0.99 })
            Assert.Equal(merged.Percentile(fraction), carried.Percentile(fraction));
    }
}

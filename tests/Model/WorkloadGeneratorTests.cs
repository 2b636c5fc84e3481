using Faultsim.Model.Addressing;
using Faultsim.Model.Common;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Memory;
using Faultsim.Model.Replacement;
using Faultsim.Model.Workloads;
using Faultsim.Model.Workloads.Generators;

namespace Faultsim.Tests.Model;

/// <summary>
/// The workload generators: streams that are a function of the seed, made in constant memory, and the reference machine's
/// counts of small generated workloads held against a computation of this test's own (closed forms, textbook FIFO and LRU).
/// </summary>
public sealed class WorkloadGeneratorTests
{
    private static readonly GeneratorSpec Spec = GeneratorSpec.Defaults;

    private static MachineSpec Machine(int cpus = 1, int frames = 0, ReplacementPolicyKind policy = ReplacementPolicyKind.Lru) =>
        new() { Cpus = cpus, Frames = frames, Policy = policy, ZeroPage = false };

    private static List<TracedAccess> Read(IAccessSource source)
    {
        var all = new List<TracedAccess>();
        using var reader = source.Open();
        for (var batch = reader.NextBatch(); !batch.IsEmpty; batch = reader.NextBatch())
            all.AddRange(batch.ToArray());
        return all;
    }

    private static List<long> PagesOf(IEnumerable<TracedAccess> accesses) =>
        [.. accesses.Select(a => (long)((a.Address.Value - WorkloadGenerator.RegionStart.Value) / VirtualAddress.PageSize))];

    [Theory]
    [InlineData(GeneratorKind.Sequential)]
    [InlineData(GeneratorKind.Strided)]
    [InlineData(GeneratorKind.Uniform)]
    [InlineData(GeneratorKind.Zipf)]
    [InlineData(GeneratorKind.Mix)]
    public void A_stream_is_the_same_for_the_same_seed_on_every_pass_and_differs_for_another_seed(GeneratorKind kind)
    {
        var spec = Spec with { Kind = kind, Accesses = 5000, Pages = 64 };
        var stream = WorkloadGenerator.PatternStream(spec, kind, seed: 7, cpu: 1, cpus: 2, wordsPerPage: 8);
        var first = Read(stream);
        Assert.Equal(5000, first.Count);
        Assert.Equal(first, Read(stream));                                                                    // a second pass
        Assert.Equal(first, Read(WorkloadGenerator.PatternStream(spec, kind, 7, 1, 2, 8)));                   // a new generator
        Assert.NotEqual(first, Read(WorkloadGenerator.PatternStream(spec, kind, 8, 1, 2, 8)));                // another seed
        Assert.NotEqual(first, Read(WorkloadGenerator.PatternStream(spec, kind, 7, 0, 2, 8)));                // another CPU
        Assert.All(first, a => Assert.Equal(8UL, a.Address.Value % VirtualAddress.PageSize));                // CPU 1's own word
    }

    [Fact]
    public void A_stream_of_a_million_accesses_is_made_in_constant_memory()
    {
        var stream = WorkloadGenerator.PatternStream(Spec with { Kind = GeneratorKind.Zipf, Accesses = 1_000_000, Pages = 1 << 20 }, GeneratorKind.Zipf, 3, 0, 1, 8);
        using var reader = stream.Open();
        reader.NextBatch();
        var before = GC.GetAllocatedBytesForCurrentThread();
        long count = GeneratedAccesses.BatchSize;
        for (var batch = reader.NextBatch(); !batch.IsEmpty; batch = reader.NextBatch())
            count += batch.Length;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1_000_000, count);
        Assert.True(allocated < 4096, $"making the stream allocated {allocated} bytes after its first batch; a stream holds one batch");
    }

    [Fact]
    public void A_strided_scan_visits_every_stride_th_page_then_the_next_column_until_all_are_visited()
    {
        const int pages = 10, stride = 3;
        var expected = new List<long>();
        while (expected.Count < 25)
        {
            for (var column = 0; column < stride; column++)
                for (var page = column; page < pages; page += stride)
                    expected.Add(page);
        }
        var spec = Spec with { Kind = GeneratorKind.Strided, Accesses = 25, Pages = pages, Stride = stride };
        Assert.Equal(expected.Take(25), PagesOf(Read(WorkloadGenerator.PatternStream(spec, GeneratorKind.Strided, 1, 0, 1, 8))));
    }

    [Fact]
    public void A_sequential_scan_of_cpu_c_starts_at_its_share_of_the_region_and_wraps()
    {
        var spec = Spec with { Kind = GeneratorKind.Sequential, Accesses = 6, Pages = 8 };
        Assert.Equal([6, 7, 0, 1, 2, 3], PagesOf(Read(WorkloadGenerator.PatternStream(spec, GeneratorKind.Sequential, 1, 3, 4, 8))));
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    [InlineData(2.0)]
    [InlineData(0.0)]
    public void Zipf_ranks_come_as_often_as_one_over_rank_to_the_theta(double theta)
    {
        const int n = 8, draws = 200_000;
        var sampler = new ZipfSampler(n, theta);
        var random = new SimRandom(11);
        var counts = new int[n + 1];
        for (var i = 0; i < draws; i++)
            counts[sampler.Sample(random)]++;
        var norm = Enumerable.Range(1, n).Sum(k => Math.Pow(k, -theta));
        for (var k = 1; k <= n; k++)
            Assert.InRange(counts[k] / (double)draws, Math.Pow(k, -theta) / norm - 0.005, Math.Pow(k, -theta) / norm + 0.005);
    }

    [Fact]
    public void A_cyclic_scan_larger_than_memory_faults_on_every_access_under_lru_and_fifo_and_once_a_page_without_a_limit()
    {
        var spec = Spec with { Kind = GeneratorKind.Sequential, Accesses = 300, Pages = 20, WriteFraction = 0 };
        foreach (var policy in new[] { ReplacementPolicyKind.Lru, ReplacementPolicyKind.Fifo })
            Assert.Equal(300, ReferenceMachine.Run(WorkloadGenerator.Generate(spec, Machine(frames: 19, policy: policy), 1, 1), 1).Totals.Total);
        Assert.Equal(20, ReferenceMachine.Run(WorkloadGenerator.Generate(spec, Machine(), 1, 1), 1).Totals.Total);
    }

    [Theory]
    [InlineData(GeneratorKind.Uniform, ReplacementPolicyKind.Fifo)]
    [InlineData(GeneratorKind.Zipf, ReplacementPolicyKind.Lru)]
    [InlineData(GeneratorKind.Mix, ReplacementPolicyKind.Fifo)]
    public void A_random_pattern_faults_as_textbook_replacement_over_its_pages(GeneratorKind kind, ReplacementPolicyKind policy)
    {
        const int frames = 12;
        var spec = Spec with { Kind = kind, Accesses = 3000, Pages = 40 };
        var pages = PagesOf(Read(WorkloadGenerator.PatternStream(spec, kind, 5, 0, 1, 8)));
        var totals = ReferenceMachine.Run(WorkloadGenerator.Generate(spec, Machine(frames: frames, policy: policy), 5, 1), 5).Totals;
        Assert.Equal(Textbook(pages, frames, policy == ReplacementPolicyKind.Lru), totals[ResolutionKind.DemandZero] + totals.Major);
        Assert.Equal(pages.Distinct().Count(), totals[ResolutionKind.DemandZero]);
    }

    /// <summary>Faults of textbook FIFO (or LRU) with <paramref name="frames"/> frames: a page brought in.</summary>
    private static long Textbook(List<long> refs, int frames, bool lru)
    {
        var order = new LinkedList<long>();
        long faults = 0;
        foreach (var page in refs)
        {
            if (order.Find(page) is { } hit)
            {
                if (lru)
                {
                    order.Remove(hit);
                    order.AddLast(page);
                }
                continue;
            }
            faults++;
            if (order.Count == frames)
                order.RemoveFirst();
            order.AddLast(page);
        }
        return faults;
    }

    [Fact]
    public void A_cow_storm_zero_fills_every_page_once_and_breaks_it_once_per_child()
    {
        var spec = Spec with { Kind = GeneratorKind.CowStorm, Pages = 6, Processes = 5 };
        var totals = ReferenceMachine.Run(WorkloadGenerator.Generate(spec, Machine(cpus: 3), 1, 1), 1).Totals;
        Assert.Equal(6, totals[ResolutionKind.DemandZero]);
        Assert.Equal(30, totals[ResolutionKind.CowBreak]);
        Assert.Equal(36, totals.Total);
    }

    [Fact]
    public void A_churn_zero_fills_each_mapped_page_of_every_round_and_shoots_down_every_other_cpu_at_each_munmap()
    {
        var spec = Spec with { Kind = GeneratorKind.Churn, Rounds = 7, MapPages = 3 };
        var totals = ReferenceMachine.Run(WorkloadGenerator.Generate(spec, Machine(cpus: 4) with { Shootdown = Faultsim.Model.Shootdowns.ShootdownMode.Batched }, 1, 1), 1).Totals;
        Assert.Equal(4 * 7 * 3, totals[ResolutionKind.DemandZero]);
        Assert.Equal(4 * 7 * 3, totals.Ipis);  // one batched round per munmap, an IPI to each of the 3 other CPUs
    }

    [Fact]
    public void A_stack_grows_one_page_at_a_time_to_its_depth_on_every_cpu()
    {
        var spec = Spec with { Kind = GeneratorKind.Stack, Pages = 40, Accesses = 1000 };
        var totals = ReferenceMachine.Run(WorkloadGenerator.Generate(spec, Machine(cpus: 3), 1, 1), 1).Totals;
        Assert.Equal(3 * 39, totals[ResolutionKind.StackGrowth]);
        Assert.Equal(3, totals[ResolutionKind.DemandZero]);
        Assert.Equal(3000, totals.Accesses);
    }

    [Theory]
    [InlineData(false, 9)] // a read per page
    [InlineData(true, 1)]  // the first page's readahead window brings all nine
    public void A_herd_reads_each_of_its_pages_from_disk_once(bool readahead, long reads)
    {
        var spec = Spec with { Kind = GeneratorKind.Herd, Rounds = 9 };
        var machine = Machine(cpus: 4) with { Readahead = readahead ? ReadaheadRules.Linux : ReadaheadRules.Off };
        var totals = ReferenceMachine.Run(WorkloadGenerator.Generate(spec, machine, 1, 1), 1).Totals;
        Assert.Equal(reads, totals.DiskReads);
        Assert.Equal(9 * 4, totals.Accesses);
    }

    [Theory]
    [InlineData(false, 16, 0)]
    [InlineData(true, 16, 16)]
    public void File_reads_are_major_when_the_cache_is_cold_and_page_cache_hits_when_it_is_warm(bool warm, long majors, long hits)
    {
        var spec = Spec with { Kind = GeneratorKind.FileRead, Pages = 16, Accesses = 40, WarmCache = warm };
        var machine = Machine(cpus: 2) with { Readahead = ReadaheadRules.Off }; // a fault and a read per page
        var result = ReferenceMachine.Run(WorkloadGenerator.Generate(spec, machine, 1, 1), 1);
        Assert.Equal(majors, result.Totals.Major);
        Assert.Equal(16, result.Totals.DiskReads);
        Assert.Equal(hits, result.Processes.Single(p => p.Name == "reader").Counters[ResolutionKind.PageCacheHit]);
    }
}

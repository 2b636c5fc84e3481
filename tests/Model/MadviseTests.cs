using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Storage;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Model.FaultResolutionTests;
using static Faultsim.Tests.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>madvise: DONTNEED drops pages so the next touch starts afresh; PAGEOUT reclaims them now.</summary>
public sealed class MadviseTests
{
    private const ulong Data = 0x2000_0000;
    private const VmaFlags Rw = VmaFlags.Read | VmaFlags.Write;
    private static readonly FileSpec DataFile = new("data", 4 * 4096);

    private static Workload OneCpu(string script, VmaFlags fileFlags = VmaFlags.Read, bool zeroPage = true) =>
        Make(new MachineSpec { Cpus = 1, ZeroPage = zeroPage },
            [Process("p", Anon("buf", Heap, 0x4000), FileMap("data", Data, 4 * 4096, "data", fileFlags))], script)
        .WithFiles(DataFile);

    private static ulong FileWord(ulong page, int word) => FileStore.InitialWord(new FilePage(new FileId(0), page), word);

    [Fact]
    public void Dontneed_on_anonymous_memory_makes_the_next_touch_a_fresh_demand_zero()
    {
        var result = OneCpu("run p\nstore buf:0 = 5\nmadvise buf dontneed\nload buf:0", zeroPage: false).Run();
        var p = result.Of("p").Counters;
        Assert.Equal(2, p[ResolutionKind.DemandZero]);
        Assert.Equal(2, p.PagesZeroed);
        Assert.Equal(0UL, Word(result, "p", 0));      // the 5 is gone
    }

    [Fact]
    public void Dontneed_on_a_private_file_mapping_drops_the_private_copy_and_the_next_touch_refaults_the_file_content()
    {
        var result = OneCpu("run p\nstore data:0 = 5\nmadvise data dontneed\nload data:0", fileFlags: Rw).Run();
        var p = result.Of("p").Counters;
        Assert.Equal(1, p.Major);                          // the first touch read the file
        Assert.Equal(1, p[ResolutionKind.PageCacheHit]);   // the refault finds it still cached
        Assert.Equal(1, p.DiskReads);
        Assert.Equal(FileWord(0, 0), Word(result, "p", 0, region: Data));
    }

    [Fact]
    public void Dontneed_keeps_the_region_mapped()
    {
        var result = OneCpu("run p\nstore buf:0\nmadvise buf dontneed\nstore buf:0").Run();
        Assert.Equal(ProcessFate.Running, result.Of("p").Fate);
        Assert.Equal(0, result.Of("p").Counters.SyscallErrors);
    }

    [Fact]
    public void Pageout_swaps_out_anonymous_pages_now_and_they_come_back_as_major_faults_intact()
    {
        var result = OneCpu("run p\nstore buf:0..3\nmadvise buf pageout\nload buf:0..3").Run();
        var p = result.Of("p").Counters;
        Assert.Equal(4, p.PagesEvicted);
        Assert.Equal(4, p.DiskWrites);
        Assert.Equal(4, p.Major);
        Assert.Equal(4, p.DiskReads);
        for (ulong page = 0; page < 4; page++)
            Assert.Equal(Store(0, page + 1), Word(result, "p", page));
    }

    [Fact]
    public void Pageout_drops_clean_file_pages_without_writing_them()
    {
        var result = OneCpu("run p\nload data:0..1\nmadvise data pageout\nload data:0..1").Run();
        var p = result.Of("p").Counters;
        Assert.Equal(4, p.PagesEvicted);     // page 0's fault read the file's four pages and mapped them all (readahead, fault-around)
        Assert.Equal(0, p.DiskWrites);
        Assert.Equal(2, p.Major);            // once before the page-out, once after
        Assert.Equal(2, p.DiskReads);
    }

    [Fact]
    public void Pageout_leaves_pages_another_process_still_maps()
    {
        var result = OneCpu("run p\nstore buf:0..1\nfork c\nmadvise buf pageout\nload buf:0..1").Run();
        var p = result.Of("p").Counters;
        Assert.Equal(0, p.PagesEvicted);
        Assert.Equal(0, p.Major);
    }

    [Fact]
    public void Pageout_leaves_the_zero_page_alone()
    {
        var result = OneCpu("run p\nload buf:0..1\nmadvise buf pageout\nload buf:0..1").Run();
        Assert.Equal(0, result.Of("p").Counters.PagesEvicted);
        Assert.Equal(2, result.Of("p").Counters.Total);
    }

    [Fact]
    public void Madvise_over_an_unmapped_range_fails_with_an_error_and_changes_nothing()
    {
        var result = OneCpu("run p\nstore buf:0\nmadvise buf 32K dontneed\nload buf:0").Run();
        var p = result.Of("p").Counters;
        Assert.Equal(1, p.SyscallErrors);
        Assert.Equal(1, p.Total);                          // the page survived: no second fault
    }
}

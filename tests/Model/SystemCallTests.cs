using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Storage;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Model.FaultResolutionTests;
using static Faultsim.Tests.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>mmap, munmap and mprotect run from scripts on the reference machine.</summary>
public sealed class SystemCallTests
{
    private const ulong Mapped = 0x5000_0000;

    private static RunResult Run(string script) =>
        Make(new MachineSpec { Cpus = 1 }, [Process("p", Anon("buf", Heap, 0x4000))], script)
            .WithFiles(new FileSpec("data", 4 * 4096)).Run();

    [Fact]
    public void Mmap_of_a_file_at_an_offset_maps_the_files_pages_from_that_offset()
    {
        // A store makes a private copy of the page, the rest of whose words are the file's: page 1 of the mapping is file page 3.
        var result = Run($"run p\nmmap m 0x{Mapped:x} 8K rw file:data+8K\nstore m:1");
        Assert.Equal(1, result.Of("p").Counters.Major);
        Assert.Equal(FileStore.InitialWord(new FilePage(new FileId(0), 3), 2), Word(result, "p", 1, word: 2, region: Mapped));
    }

    [Fact]
    public void Mmap_over_a_region_replaces_its_pages_so_the_next_touch_faults_afresh()
    {
        var result = Run("run p\nstore buf:0\nmmap again buf 16K rw\nload again:0");
        var p = result.Of("p").Counters;
        Assert.Equal(1, p[ResolutionKind.DemandZero]);
        Assert.Equal(1, p[ResolutionKind.ZeroPageMap]);
        Assert.Equal(0UL, Word(result, "p", 0));
    }

    [Fact]
    public void Munmap_then_a_touch_of_the_range_is_sigsegv()
    {
        var result = Run("run p\nstore buf:0..1\nmunmap buf+4K 4K\nstore buf:0\nstore buf:1\nstore buf:2");
        var p = result.Of("p");
        Assert.Equal(ProcessFate.KilledBySigSegv, p.Fate);
        Assert.Equal(2, p.Counters.Minor);
        Assert.Equal(3, p.Counters.Accesses);   // the two first stores and the re-store of page 0
    }

    [Fact]
    public void Mprotect_to_none_then_back_keeps_the_page_and_its_content_without_a_new_fault()
    {
        var result = Run("run p\nstore buf:0 = 7\nmprotect buf none\nmprotect buf rw\nload buf:0\nstore buf:0 = 8");
        var p = result.Of("p").Counters;
        Assert.Equal(1, p.Total);
        Assert.Equal(0, p.SyscallErrors);
        Assert.Equal(8UL, Word(result, "p", 0));
    }

    [Fact]
    public void A_touch_of_a_prot_none_page_is_sigsegv()
    {
        var result = Run("run p\nstore buf:0\nmprotect buf none\nload buf:0");
        Assert.Equal(ProcessFate.KilledBySigSegv, result.Of("p").Fate);
    }

    [Fact]
    public void Mprotect_over_a_hole_fails_and_leaves_the_protection_as_it_was()
    {
        var result = Run("run p\nmprotect buf 32K r\nstore buf:0");
        var p = result.Of("p");
        Assert.Equal(1, p.Counters.SyscallErrors);
        Assert.Equal(ProcessFate.Running, p.Fate);        // buf is still writable
    }

    [Fact]
    public void Exit_ends_the_process_and_frees_its_pages_from_the_final_memory()
    {
        var result = Run("run p\nstore buf:0..3\nexit\nstore buf:0");
        Assert.Equal(ProcessFate.Exited, result.Of("p").Fate);
        Assert.Empty(result.Memory!.Pages);
        Assert.Equal(4, result.Of("p").Counters.Accesses);
    }
}

using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>
/// The access patterns whose minor and major counts the real Linux kernel reports through
/// getrusage (ru_minflt, ru_majflt), reproduced by the model.
/// </summary>
public sealed class GetrusageTests
{
    private const int N = 64;
    private const string Pages = "buf:0..63";

    private static Workload OneCpu(string script, bool zeroPage = true) =>
        Make(new MachineSpec { Cpus = 1, ZeroPage = zeroPage }, [Process("parent", Anon("buf", Heap, N * 4096))], script);

    [Fact]
    public void Write_touching_n_anonymous_pages_gives_n_minor_faults()
    {
        var parent = OneCpu($"run parent\nstore {Pages}").Run().Of("parent").Counters;
        Assert.Equal(N, parent.Minor);
        Assert.Equal(0, parent.Major);
        Assert.Equal(N, parent.PagesZeroed);
    }

    [Fact]
    public void Reading_then_writing_with_the_zero_page_gives_two_faults_a_page()
    {
        var parent = OneCpu($"run parent\nload {Pages}\nstore {Pages}").Run().Of("parent").Counters;
        Assert.Equal(2 * N, parent.Minor);
        Assert.Equal(N, parent[Faultsim.Model.Faults.ResolutionKind.ZeroPageMap]);
        Assert.Equal(N, parent.Cow);   // each write breaks COW from the zero page
    }

    [Fact]
    public void Reading_then_writing_without_the_zero_page_faults_only_on_the_read()
    {
        var parent = OneCpu($"run parent\nload {Pages}\nstore {Pages}", zeroPage: false).Run().Of("parent").Counters;
        Assert.Equal(N, parent.Minor);
    }

    [Fact]
    public void A_child_writing_shared_pages_after_fork_takes_a_cow_fault_and_a_copy_per_page()
    {
        var result = OneCpu($"run parent\nstore {Pages}\nfork child\nrun child\nstore {Pages}").Run();
        var child = result.Of("child").Counters;
        Assert.Equal(N, child.Minor);
        Assert.Equal(N, child.Cow);
        Assert.Equal(N, child.PagesCopied);
        Assert.Equal(N, result.Of("parent").Counters.Minor); // the parent's own first touches only
    }

    [Fact]
    public void When_the_parent_unmapped_them_first_the_child_reuses_the_frames_without_copying()
    {
        var child = OneCpu($"run parent\nstore {Pages}\nfork child\nmunmap buf\nrun child\nstore {Pages}").Run().Of("child").Counters;
        Assert.Equal(N, child.Minor);
        Assert.Equal(N, child[Faultsim.Model.Faults.ResolutionKind.CowReuse]);
        Assert.Equal(0, child.PagesCopied);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Touching_the_pages_again_after_all_that_gives_no_fault(bool parentUnmaps)
    {
        var unmap = parentUnmaps ? "munmap buf\n" : "";
        var script = $"run parent\nstore {Pages}\nfork child\n{unmap}run child\nstore {Pages}\nload {Pages}\nstore {Pages}";
        var withAgain = OneCpu(script).Run().Of("child").Counters;
        Assert.Equal(N, withAgain.Minor);
    }

    [Fact]
    public void A_forked_child_starts_with_zero_counts_and_sees_the_parents_data()
    {
        var result = OneCpu($"run parent\nstore {Pages}\nfork child\nrun child\nload {Pages}").Run();
        Assert.Equal(0, result.Of("child").Counters.Total); // the PTEs were copied: reads need no fault
        var image = result.Memory!;
        var parentPages = image.Pages.Where(p => p.Pid == result.Of("parent").Pid).ToList();
        var childPages = image.Pages.Where(p => p.Pid == result.Of("child").Pid).ToList();
        Assert.Equal(N, childPages.Count);
        Assert.Equal(parentPages.Select(p => p.Words[0]), childPages.Select(p => p.Words[0]));
    }
}

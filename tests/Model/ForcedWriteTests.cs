using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>
/// force-write: the kernel's forced write (/proc/self/mem, ptrace: get_user_pages with FOLL_FORCE) writes a private
/// mapping the process may not write through a private copy, never into the page cache; where it may not write at all
/// (a read-only shared mapping, no mapping) the call fails with EFAULT and the process goes on.
/// </summary>
public class ForcedWriteTests
{
    private const ulong Etc = 0x2000_0000;
    private static readonly PageNumber EtcPage = new VirtualAddress(Etc).Page;

    /// <summary>One process mapping file etc (one page) at <see cref="Etc"/> with <paramref name="flags"/>, running <paramref name="script"/>.</summary>
    public static Workload Mapping(VmaFlags flags, string script) =>
        Workloads.Make(new MachineSpec { Cpus = 1 }, [Workloads.Process("app", Workloads.FileMap("etc", Etc, 4096, "etc", flags))], "run app\n" + script)
            .WithFiles(new FileSpec("etc", 4096));

    [Fact]
    public void A_forced_write_into_a_read_only_private_file_mapping_lands_in_a_private_copy_and_never_in_the_file()
    {
        var result = Mapping(VmaFlags.Read, "load etc\nforce-write etc = 0x42\nforce-write etc+8 = 0x43\nload etc").Run();

        var app = result.Of("app");
        Assert.Equal(ProcessFate.Running, app.Fate);
        Assert.Equal((1L, 1L, 0L), (app.Counters.Major, app.Counters[ResolutionKind.CowBreak], app.Counters.Efault)); // one copy: the second write goes through it
        Assert.Equal(0x42UL, result.Memory!.Word(app.Pid, EtcPage, 0));
        Assert.Equal(0x43UL, result.Memory.Word(app.Pid, EtcPage, 1));
        Assert.Empty(result.Memory.Files); // the file's page is as it was
    }

    [Fact]
    public void A_forced_write_to_a_page_not_yet_mapped_reads_it_and_copies_it()
    {
        var result = Mapping(VmaFlags.Read, "force-write etc = 0x42").Run();

        var app = result.Of("app");
        Assert.Equal((1L, 0L), (app.Counters.Major, app.Counters.Efault));
        Assert.Equal(0x42UL, result.Memory!.Word(app.Pid, EtcPage, 0));
        Assert.Empty(result.Memory.Files);
    }

    [Fact]
    public void The_copy_a_forced_write_made_stays_read_only_to_the_process()
    {
        var result = Mapping(VmaFlags.Read, "force-write etc = 0x42\nstore etc").Run();

        Assert.Equal(ProcessFate.KilledBySigSegv, result.Of("app").Fate);
    }

    [Theory]
    [InlineData(VmaFlags.Read, "load etc\nmprotect etc none\nforce-write etc = 0x42", 1L, 1L)]  // a page-cache page kept under PROT_NONE: copied
    [InlineData(VmaFlags.Read, "mprotect etc none\nforce-write etc = 0x42", 1L, 0L)]           // untouched: read in and copied
    [InlineData(VmaFlags.Read | VmaFlags.Write, "sys-read etc\nmprotect etc none\nforce-write etc = 0x42", 1L, 0L)] // its own dirty copy: no fault
    public void A_forced_write_into_a_prot_none_private_mapping_lands_in_a_private_copy_the_process_can_read_once_allowed(
        VmaFlags flags, string script, long major, long cowBreaks)
    {
        var result = Mapping(flags, script + "\nforce-write etc+8 = 0x43\nmprotect etc r\nload etc").Run();

        var app = result.Of("app");
        Assert.Equal(ProcessFate.Running, app.Fate);
        Assert.Equal((major, cowBreaks, 0L), (app.Counters.Major, app.Counters[ResolutionKind.CowBreak], app.Counters.Efault));
        Assert.Equal(0x42UL, result.Memory!.Word(app.Pid, EtcPage, 0));
        Assert.Equal(0x43UL, result.Memory.Word(app.Pid, EtcPage, 1));
        Assert.Empty(result.Memory.Files);
    }

    [Fact]
    public void A_fork_after_a_forced_write_under_prot_none_gives_the_child_the_written_copy()
    {
        var result = Mapping(VmaFlags.Read, "mprotect etc none\nforce-write etc = 0x42\nfork child").Run();

        Assert.Equal(0x42UL, result.Memory!.Word(result.Of("child").Pid, EtcPage, 0)); // fork copied the PTE kept under PROT_NONE
    }

    [Fact]
    public void The_copy_a_forced_write_made_under_prot_none_is_not_present_to_the_process()
    {
        var result = Mapping(VmaFlags.Read, "mprotect etc none\nforce-write etc = 0x42\nload etc").Run();

        Assert.Equal(ProcessFate.KilledBySigSegv, result.Of("app").Fate);
    }

    [Theory]
    [InlineData(VmaFlags.Read | VmaFlags.Shared, "force-write etc = 0x42")]     // a shared mapping it may not write
    [InlineData(VmaFlags.Read, "force-write 0x30000000 = 0x42")]                 // no mapping
    public void A_forced_write_where_it_may_not_write_fails_with_efault_and_the_process_goes_on(VmaFlags flags, string write)
    {
        var result = Mapping(flags, write + "\nload etc").Run();

        var app = result.Of("app");
        Assert.Equal((ProcessFate.Running, 1L), (app.Fate, app.Counters.Efault));
        Assert.Empty(result.Memory!.Files);
    }

    [Fact]
    public void A_forced_write_into_a_writable_mapping_is_an_ordinary_write()
    {
        var result = Mapping(VmaFlags.Read | VmaFlags.Write | VmaFlags.Shared, "force-write etc = 0x42").Run();

        Assert.Equal(0x42UL, Assert.Single(result.Memory!.Files).Words[0]); // shared and writable: the file's page
    }

    [Fact]
    public void Follow_page_lets_a_forced_write_through_a_writable_pte_or_its_own_dirty_private_copy_only()
    {
        var privateRo = new Vma(new VirtualAddress(Etc), new VirtualAddress(Etc + 4096), VmaFlags.Read, Backing.Anonymous.Instance);
        var sharedRo = privateRo with { Flags = VmaFlags.Read | VmaFlags.Shared };
        var frame = new FrameNumber(5);
        var clean = Pte.Mapped(frame, PteFlags.Present | PteFlags.User);
        var copy = Pte.Mapped(frame, PteFlags.Present | PteFlags.User | PteFlags.Dirty);

        Assert.False(ForcedAccess.Allows(clean, AccessKind.Write, privateRo));                                      // the page cache's: copy first
        Assert.True(ForcedAccess.Allows(copy, AccessKind.Write, privateRo));                                        // its private copy
        Assert.False(ForcedAccess.Allows(Pte.Mapped(frame, copy.Flags | PteFlags.Cow), AccessKind.Write, privateRo)); // shared with a fork's child
        Assert.False(ForcedAccess.Allows(copy, AccessKind.Write, sharedRo));
        Assert.True(ForcedAccess.Allows(clean, AccessKind.Read, privateRo));
        var keptCopy = Pte.Mapped(frame, PteFlags.ProtNone | PteFlags.User | PteFlags.Dirty);
        Assert.False(keptCopy.IsPresent);
        Assert.True(ForcedAccess.Allows(keptCopy, AccessKind.Write, privateRo));  // its private copy, kept under PROT_NONE
        Assert.False(ForcedAccess.Allows(keptCopy.With(PteFlags.Writable), AccessKind.Write, sharedRo));
        Assert.True(ForcedAccess.Permits(privateRo, AccessKind.Write));
        Assert.False(ForcedAccess.Permits(sharedRo, AccessKind.Write));
    }
}

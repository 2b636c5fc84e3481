using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>The arguments Linux's memory system calls refuse with EINVAL, and the mappings mmap refuses.</summary>
public sealed class SyscallRulesTests
{
    private static readonly VirtualAddress Buf = new(0x1000_0000);

    [Theory]
    [InlineData(0x1000_0000UL, 4096UL, false)]
    [InlineData(0x1000_0000UL, 0UL, true)]                      // munmap of no bytes: EINVAL
    [InlineData(0x1000_0000UL, ulong.MaxValue, true)]            // a length of 2^64-1 wraps
    [InlineData(0x1000_0064UL, 4096UL, true)]                    // an unaligned start
    [InlineData(0x7fff_ffff_f000UL, 8192UL, true)]               // past 2^47
    [InlineData(0x7fff_ffff_f000UL, 4096UL, false)]              // the last user page
    public void Munmap_refuses_an_empty_wrapping_unaligned_or_non_user_range(ulong start, ulong length, bool refused)
    {
        var at = new VirtualAddress(start);
        Assert.Equal(refused, SyscallRules.Refuses(new SystemCall.Munmap(at, SyscallRules.EndOf(at, length))));
    }

    [Theory]
    [InlineData(0x1000_0000UL, 4096UL, false)]
    [InlineData(0x1000_0000UL, 0UL, false)]                     // mprotect of no bytes does nothing and succeeds
    [InlineData(0x1000_0008UL, 4096UL, true)]                    // an unaligned start: EINVAL
    [InlineData(0x1000_0000UL, ulong.MaxValue, true)]
    public void Mprotect_and_madvise_refuse_an_unaligned_start_or_a_range_past_user_space_but_take_no_bytes(ulong start, ulong length, bool refused)
    {
        var at = new VirtualAddress(start);
        var end = SyscallRules.EndOf(at, length);
        Assert.Equal(refused, SyscallRules.Refuses(new SystemCall.Mprotect(at, end, VmaFlags.Read)));
        Assert.Equal(refused, SyscallRules.Refuses(new SystemCall.Madvise(at, end, Advice.DontNeed)));
    }

    [Fact]
    public void The_end_of_a_range_is_rounded_up_to_a_page_and_a_wrapping_one_is_the_highest_address()
    {
        Assert.Equal(Buf + 8192, SyscallRules.EndOf(Buf + 100, 4096));
        Assert.Equal(Buf, SyscallRules.EndOf(Buf, 0));
        Assert.Equal(ulong.MaxValue, SyscallRules.EndOf(Buf, ulong.MaxValue).Value);
        Assert.Equal(ulong.MaxValue, SyscallRules.EndOf(new VirtualAddress(ulong.MaxValue - 10), 1).Value);
    }

    [Theory]
    [InlineData(0x1_0000UL, 4096UL, null)]
    [InlineData(0UL, 4096UL, "below mmap_min_addr")]
    [InlineData(0xf000UL, 4096UL, "below mmap_min_addr")]
    [InlineData(0x1_0000UL, 0UL, "map a positive multiple")]
    [InlineData(0x1_0800UL, 4096UL, "not page-aligned")]
    [InlineData(0xffff_ffff_ffff_f000UL, 8192UL, "wraps around")]
    [InlineData(0x7fff_ffff_f000UL, 8192UL, "past the user address space")]
    public void Mmap_refuses_a_mapping_below_mmap_min_addr_past_user_space_or_wrapping(ulong start, ulong length, string? reason)
    {
        var refusal = AddressSpace.MapRefusal(new VirtualAddress(start), length);
        if (reason is null)
            Assert.Null(refusal);
        else
            Assert.Contains(reason, refusal);
        Assert.Equal(reason is not null, SyscallRules.Refuses(new SystemCall.Mmap("m", new VirtualAddress(start), length, VmaFlags.Read, null, 0)));
    }

    [Fact]
    public void A_workload_whose_absolute_mmap_wraps_or_starts_at_0_is_refused_at_its_line()
    {
        var script = ScriptParser.Parse("run p\nmmap m 0 4K rw", 1);
        var workload = new Workload(new MachineSpec { Cpus = 1 }, [], [new ProcessSpec("p", [], null)], [new CpuScript(new CpuId(0), script)]);
        var e = Assert.Throws<WorkloadException>(() => WorkloadValidator.Validate(workload));
        Assert.Equal(2, e.Line);
        Assert.Contains("mmap m is refused: the mapping starts at 0x0, below mmap_min_addr", e.Message);
    }
}

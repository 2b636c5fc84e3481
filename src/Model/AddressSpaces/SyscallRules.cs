using Faultsim.Model.Addressing;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.AddressSpaces;

/// <summary>
/// The arguments a memory system call refuses with EINVAL before it looks at the address space, as Linux's do; both
/// engines ask this first and count a refused call in syscall_errors.
/// </summary>
public static class SyscallRules
{
    /// <summary>
    /// Whether <paramref name="call"/> fails with EINVAL on its arguments alone: an mmap that <see cref="AddressSpace.CanMap"/>
    /// refuses; a munmap, mprotect or madvise whose start is not page-aligned or whose end lies beyond the user address space
    /// (or wrapped past 2^64), and so an mlock or munlock (whose start is rounded down to a page first); an mremap of an
    /// unaligned start or to no bytes; a munmap of no bytes (mprotect, madvise and mlock of no bytes do nothing and succeed).
    /// </summary>
    public static bool Refuses(SystemCall call) => call switch
    {
        SystemCall.Mmap map => !AddressSpace.CanMap(map.Start, map.Length),
        SystemCall.Munmap unmap => BadRange(unmap.Start, unmap.End) || unmap.End.Value == unmap.Start.Value,
        SystemCall.Mprotect protect => BadRange(protect.Start, protect.End),
        SystemCall.Madvise advise => BadRange(advise.Start, advise.End),
        SystemCall.Mlock mlock => BadRange(mlock.Start, mlock.End),
        SystemCall.Mremap remap => !remap.Start.IsPageAligned || remap.NewLength == 0,
        _ => false,
    };

    /// <summary>
    /// The end of a range of <paramref name="length"/> bytes from <paramref name="start"/>, rounded up to a page; an end that
    /// wraps past 2^64 is the highest address, which every call refuses.
    /// </summary>
    public static VirtualAddress EndOf(VirtualAddress start, ulong length)
    {
        var end = start.Value + length;
        if (end < start.Value || end > ulong.MaxValue - VirtualAddress.OffsetMask)
            return new VirtualAddress(ulong.MaxValue);
        return new VirtualAddress(end + VirtualAddress.OffsetMask).PageAlignedDown;
    }

    private static bool BadRange(VirtualAddress start, VirtualAddress end) =>
        !start.IsPageAligned || end.Value < start.Value || end.Value > VirtualAddress.UserEnd.Value;
}

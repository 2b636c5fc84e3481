using Faultsim.Actors;
using Faultsim.Actors.Paging;
using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Faults;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Actors;

/// <summary>Faults as an mm would raise them, for protocol tests that play the mm with a probe.</summary>
internal static class Faults
{
    public static readonly Asid Asid = new(1);
    public static readonly VirtualAddress Anon = new(0x1000_0000), File = new(0x2000_0000), ReadOnly = new(0x3000_0000);
    public const ulong FileSize = 16 * 4096;
    public static readonly FrameNumber Frame = new(5);

    /// <summary>An address space with an anonymous rw region, a private file mapping and a read-only anonymous region, 16 pages each.</summary>
    public static AddressSpace AddressSpace()
    {
        var mm = new AddressSpace(Asid);
        mm.Map(new Vma(Anon, Anon + 16 * 4096, VmaFlags.Read | VmaFlags.Write, Backing.Anonymous.Instance));
        mm.Map(new Vma(File, File + 16 * 4096, VmaFlags.Read | VmaFlags.Write, new Backing.File(new FileId(0), 0)));
        mm.Map(new Vma(ReadOnly, ReadOnly + 16 * 4096, VmaFlags.Read, Backing.Anonymous.Instance));
        return mm;
    }

    public static ResolveFault At(long id, VirtualAddress address, AccessKind access,
        AccessMode mode = AccessMode.User, int cpu = 0, AddressSpace? space = null)
    {
        space ??= AddressSpace();
        var pte = space.Pages[address.Page];
        var code = FaultErrorCode.For(access, pte.IsPresent, mode == AccessMode.User);
        var input = space.FaultInputFor(address, code, Anon, StackRules.Linux, mode == AccessMode.UserCopy, zeroPage: true, _ => FileSize);
        return new ResolveFault(new FaultId(id), new CpuId(cpu), new PageKey(Asid, address.Page), new ProcessId(1), input, 0);
    }

    public static Pte Present(FrameNumber frame, PteFlags flags) => Pte.Mapped(frame, flags | PteFlags.User | PteFlags.Accessed);
}

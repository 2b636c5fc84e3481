using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;

namespace Faultsim.Tests.Model;

/// <summary>What carrying each resolution out takes, as both engines apply it: one row per resolution, and the PTE flags each effect gives.</summary>
public sealed class FaultEffectTests
{
    private const VmaFlags Rw = VmaFlags.Read | VmaFlags.Write;
    private static readonly VirtualAddress At = new(0x1000_0000);
    private static readonly Vma Anon = new(At, At + 0x10_000, Rw, Backing.Anonymous.Instance);
    private static readonly Vma FilePrivate = new(At, At + 0x10_000, Rw, new Backing.File(new FileId(0), 0));
    private static readonly Vma FileShared = FilePrivate with { Flags = Rw | VmaFlags.Shared };
    private static readonly FrameNumber Frame = new(7);
    private static readonly Pte ReadOnlyCow = Pte.Mapped(Frame, PteFlags.Present | PteFlags.User | PteFlags.Cow);

    private static FaultInput Fault(Vma vma, Pte pte = default) =>
        new() { Address = At, Code = FaultErrorCode.For(AccessKind.Write, pte.IsPresent, user: true), Vma = vma, Pte = pte };

    public static TheoryData<Resolution, FaultEffect> Rows => new()
    {
        { Resolution.Spurious.Instance, FaultEffect.FlushLocal.Instance },
        { Resolution.DemandZero.NewFrame, new FaultEffect.AllocateZeroed(null) },
        { Resolution.DemandZero.SharedFrame, FaultEffect.ZeroInPageCache.Instance },
        { new Resolution.StackGrowth(At - 0x1000, MapZeroPage: false), new FaultEffect.AllocateZeroed(At - 0x1000) },
        { new Resolution.PageCacheHit(Frame, FromSwapCache: true, CopyForWrite: false), new FaultEffect.MapCached(Frame, FromSwapCache: true) },
        { new Resolution.PageCacheHit(Frame, FromSwapCache: false, CopyForWrite: true), new FaultEffect.Copy(Frame, BreaksCow: false) },
        { new Resolution.Major(new PageSource.FromSwap(new SwapSlot(3)), CopyForWrite: false), new FaultEffect.Read(new PageSource.FromSwap(new SwapSlot(3)), false) },
        { new Resolution.CowBreak(Frame), new FaultEffect.Copy(Frame, BreaksCow: true) },
        { new Resolution.SigSegv(SegvReason.AccessDenied), new FaultEffect.Kill(ProcessFate.KilledBySigSegv) },
        { new Resolution.SigBus(BusReason.IoError), new FaultEffect.Kill(ProcessFate.KilledBySigBus) },
        { new Resolution.EfaultFixup(new Resolution.SigSegv(SegvReason.NoVma)), FaultEffect.Fixup.Instance },
        { new Resolution.KernelOops("smap"), new FaultEffect.Panic("smap") },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Each_resolution_is_carried_out_by_its_effect(Resolution resolution, FaultEffect effect) =>
        Assert.Equal(effect, FaultEffect.Of(resolution, Fault(Anon)));

    [Fact]
    public void The_zero_page_goes_in_read_only_and_a_reuse_makes_the_same_frame_writable_and_dirty()
    {
        var zero = Assert.IsType<FaultEffect.Install>(FaultEffect.Of(new Resolution.StackGrowth(At - 0x1000, MapZeroPage: true), Fault(Anon)));
        Assert.Equal((FrameNumber.Zero, false, At - 0x1000), (zero.Pte.Frame, zero.Pte.IsWritable, zero.GrowTo));
        var reuse = Assert.IsType<FaultEffect.Install>(FaultEffect.Of(Resolution.CowReuse.Instance, Fault(Anon, ReadOnlyCow)));
        Assert.Equal((Frame, true, true, false), (reuse.Pte.Frame, reuse.Pte.IsWritable, reuse.Pte.Flags.HasFlag(PteFlags.Dirty), reuse.Pte.Flags.HasFlag(PteFlags.Cow)));
    }

    [Fact]
    public void A_cached_file_page_stays_copy_on_write_in_a_private_mapping_and_a_swapped_in_page_is_writable_only_when_exclusive()
    {
        var cached = new FaultEffect.MapCached(Frame, FromSwapCache: false);
        Assert.Equal(PteFlags.Cow, cached.FlagsFor(FilePrivate, AccessKind.Read, exclusive: false) & (PteFlags.Cow | PteFlags.Writable));
        Assert.Equal(PteFlags.Writable, cached.FlagsFor(FileShared, AccessKind.Write, exclusive: false) & (PteFlags.Cow | PteFlags.Writable));
        var swapped = new FaultEffect.Read(new PageSource.FromSwap(new SwapSlot(1)), CopyForWrite: false);
        Assert.True(swapped.FlagsFor(Anon, AccessKind.Write, exclusive: true).HasFlag(PteFlags.Writable));
        Assert.False(swapped.FlagsFor(Anon, AccessKind.Read, exclusive: false).HasFlag(PteFlags.Writable));
        Assert.True(swapped.FlagsFor(Anon, AccessKind.Read, exclusive: false).HasFlag(PteFlags.Cow));
        Assert.True(new FaultEffect.Copy(Frame, BreaksCow: true).FlagsFor(FilePrivate, AccessKind.Write, exclusive: false).HasFlag(PteFlags.Writable));
    }

    [Fact]
    public void A_write_swapping_in_a_page_others_share_maps_a_private_writable_copy_in_the_same_fault()
    {
        foreach (FaultEffect swapIn in new FaultEffect[] { new FaultEffect.Read(new PageSource.FromSwap(new SwapSlot(1)), CopyForWrite: false), new FaultEffect.MapCached(Frame, FromSwapCache: true) })
        {
            Assert.True(swapIn.CopiesOnSwapIn(Anon, AccessKind.Write, exclusive: false));
            Assert.Equal(InstallRules.NewPage(Anon), swapIn.FlagsFor(Anon, AccessKind.Write, exclusive: false)); // the copy: writable, no COW mark
            Assert.False(swapIn.CopiesOnSwapIn(Anon, AccessKind.Write, exclusive: true));   // alone: mapped writable as it is
            Assert.False(swapIn.CopiesOnSwapIn(Anon, AccessKind.Read, exclusive: false));   // a read maps the shared page read-only
        }
        Assert.False(new FaultEffect.MapCached(Frame, FromSwapCache: false).CopiesOnSwapIn(FilePrivate, AccessKind.Write, exclusive: false));
    }
}

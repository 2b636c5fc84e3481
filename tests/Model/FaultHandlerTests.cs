using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>The fault decision, row by row of the resolution table, with its edges.</summary>
public sealed class FaultHandlerTests
{
    private const VmaFlags Rw = VmaFlags.Read | VmaFlags.Write;
    private static readonly VirtualAddress At = new(0x1000_0000);
    private static readonly Vma AnonRw = new(At, At + 0x10_000, Rw, Backing.Anonymous.Instance);
    private static readonly Vma FilePrivate = new(At, At + 0x10_000, Rw, new Backing.File(new FileId(0), 0));
    private static readonly VirtualAddress StackTop = new(0x7fff_0000_0000);
    private static readonly Vma Stack = new(StackTop - 0x20_000, StackTop, Rw | VmaFlags.GrowsDown, Backing.Anonymous.Instance);
    private static readonly FrameNumber Frame = new(7);

    private static FaultInput Fault(AccessKind access, Vma? vma, VirtualAddress? address = null, Pte pte = default,
        bool user = true, bool userCopy = false, FrameFacts frame = default, FrameNumber? cached = null,
        ulong fileSize = 0x10_000, bool zeroPage = true, VirtualAddress? sp = null, VirtualAddress? previousEnd = null, ulong? spWindow = null) => new()
    {
        Address = address ?? At,
        Code = FaultErrorCode.For(access, pte.IsPresent, user),
        Vma = vma,
        PreviousVmaEnd = previousEnd,
        Pte = pte,
        Frame = frame,
        CachedFrame = cached,
        FileSize = fileSize,
        StackPointer = sp ?? StackTop - 0x1000,
        Stack = StackRules.Linux with { SpWindow = spWindow },
        InUserCopy = userCopy,
        ZeroPageEnabled = zeroPage,
    };

    private static Pte Present(PteFlags flags) => Pte.Mapped(Frame, flags | PteFlags.User);

    [Fact]
    public void Error_code_encodes_and_decodes_the_x86_bits()
    {
        var code = FaultErrorCode.For(AccessKind.Write, present: true, user: true);
        Assert.Equal(0b111u, code.Raw);
        Assert.Equal("P|W|U", code.ToString());
        var fetch = FaultErrorCode.For(AccessKind.Fetch, present: false, user: true);
        Assert.Equal(0b10100u, fetch.Raw);
        Assert.Equal(AccessKind.Fetch, fetch.Access);
        Assert.False(new FaultErrorCode(0).User);
    }

    [Fact]
    public void First_write_to_anonymous_memory_is_demand_zero() =>
        Assert.Equal(Resolution.DemandZero.NewFrame, FaultHandler.Resolve(Fault(AccessKind.Write, AnonRw)));

    [Fact]
    public void First_read_maps_the_zero_page_when_enabled_and_allocates_otherwise()
    {
        Assert.Equal(Resolution.DemandZero.ZeroPage, FaultHandler.Resolve(Fault(AccessKind.Read, AnonRw)));
        Assert.Equal(Resolution.DemandZero.NewFrame, FaultHandler.Resolve(Fault(AccessKind.Read, AnonRw, zeroPage: false)));
        Assert.Equal(Resolution.DemandZero.NewFrame, FaultHandler.Resolve(Fault(AccessKind.Read, AnonRw with { Flags = Rw | VmaFlags.Shared })));
    }

    [Fact]
    public void First_instruction_fetch_from_executable_anonymous_memory_maps_the_zero_page_too_when_enabled()
    {
        var code = AnonRw with { Flags = VmaFlags.Read | VmaFlags.Exec };
        Assert.Equal(Resolution.DemandZero.ZeroPage, FaultHandler.Resolve(Fault(AccessKind.Fetch, code)));
        Assert.Equal(Resolution.DemandZero.NewFrame, FaultHandler.Resolve(Fault(AccessKind.Fetch, code, zeroPage: false)));
        var effect = Assert.IsType<FaultEffect.Install>(FaultEffect.Of(Resolution.DemandZero.ZeroPage, Fault(AccessKind.Fetch, code)));
        Assert.Equal(FrameNumber.Zero, effect.Pte.Frame);
        Assert.True(effect.Pte.Allows(AccessKind.Fetch, userMode: true));   // the zero page is mapped executable, read-only
        Assert.False(effect.Pte.Allows(AccessKind.Write, userMode: true));
    }

    [Fact]
    public void Cached_file_page_is_a_page_cache_hit_and_an_uncached_one_a_major_fault()
    {
        var hit = Assert.IsType<Resolution.PageCacheHit>(FaultHandler.Resolve(Fault(AccessKind.Read, FilePrivate, cached: Frame)));
        Assert.Equal(Frame, hit.Frame);
        Assert.False(hit.CopyForWrite);
        var major = Assert.IsType<Resolution.Major>(FaultHandler.Resolve(Fault(AccessKind.Read, FilePrivate, address: At + 0x3000)));
        Assert.Equal(new PageSource.FromFile(new FilePage(new FileId(0), 3)), major.Source);
    }

    [Fact]
    public void Write_to_an_untouched_private_file_page_copies_it()
    {
        var major = Assert.IsType<Resolution.Major>(FaultHandler.Resolve(Fault(AccessKind.Write, FilePrivate)));
        Assert.True(major.CopyForWrite);
        var shared = FilePrivate with { Flags = Rw | VmaFlags.Shared };
        Assert.False(Assert.IsType<Resolution.PageCacheHit>(FaultHandler.Resolve(Fault(AccessKind.Write, shared, cached: Frame))).CopyForWrite);
    }

    [Fact]
    public void Swapped_out_page_is_major_unless_still_in_the_swap_cache()
    {
        var swapped = Pte.Swapped(new SwapSlot(4));
        Assert.Equal(new PageSource.FromSwap(new SwapSlot(4)),
            Assert.IsType<Resolution.Major>(FaultHandler.Resolve(Fault(AccessKind.Read, AnonRw, pte: swapped))).Source);
        Assert.True(Assert.IsType<Resolution.PageCacheHit>(FaultHandler.Resolve(Fault(AccessKind.Read, AnonRw, pte: swapped, cached: Frame))).FromSwapCache);
    }

    [Fact]
    public void A_fault_the_vma_forbids_is_decided_before_memory_is_asked_anything_even_on_a_swapped_page()
    {
        // One frame, a store to a swapped-out page of a read-only region: the actors made a frame free to read the page
        // in (an eviction, a disk write) before they found the fault a SIGSEGV; the reference machine did not.
        var readOnly = AnonRw with { Flags = VmaFlags.Read };
        var swapped = Pte.Swapped(new SwapSlot(4));
        var store = Fault(AccessKind.Write, readOnly, pte: swapped);
        Assert.Equal(new Resolution.SigSegv(SegvReason.AccessDenied), FaultHandler.DecidedByVma(store));
        Assert.Null(MemoryQuery.For(store));
        Assert.Equal(FaultHandler.DecidedByVma(store), FaultHandler.Resolve(store));
        var fetch = Fault(AccessKind.Fetch, AnonRw, pte: swapped); // a region without exec
        Assert.Null(MemoryQuery.For(fetch));
        Assert.IsType<Resolution.SigSegv>(FaultHandler.Resolve(fetch));
        var kernelCopy = Fault(AccessKind.Write, readOnly, pte: swapped, user: false, userCopy: true); // write(2) into it
        Assert.Null(MemoryQuery.For(kernelCopy));
        Assert.IsType<Resolution.EfaultFixup>(FaultHandler.Resolve(kernelCopy));

        var load = Fault(AccessKind.Read, readOnly, pte: swapped); // the VMA allows it: the page decides, the swap cache is asked
        Assert.Null(FaultHandler.DecidedByVma(load));
        Assert.Equal(new MemoryQuery.OfSwap(new SwapSlot(4)), MemoryQuery.For(load));
    }

    [Fact]
    public void Write_to_a_shared_cow_page_breaks_it_and_to_an_exclusive_one_reuses_it()
    {
        var cow = Present(PteFlags.Cow);
        Assert.Equal(new Resolution.CowBreak(Frame),
            FaultHandler.Resolve(Fault(AccessKind.Write, AnonRw, pte: cow, frame: new FrameFacts(false, true, 2))));
        Assert.Equal(Resolution.CowReuse.Instance,
            FaultHandler.Resolve(Fault(AccessKind.Write, AnonRw, pte: cow, frame: new FrameFacts(false, true, 1))));
    }

    [Fact]
    public void Write_to_the_zero_page_or_a_page_cache_page_always_copies()
    {
        Assert.IsType<Resolution.CowBreak>(FaultHandler.Resolve(Fault(AccessKind.Write, AnonRw, pte: Present(0), frame: new FrameFacts(true, false, 0))));
        Assert.IsType<Resolution.CowBreak>(FaultHandler.Resolve(Fault(AccessKind.Write, FilePrivate, pte: Present(0), frame: new FrameFacts(false, false, 2))));
    }

    [Fact]
    public void Access_the_pte_already_allows_is_spurious()
    {
        Assert.Equal(Resolution.Spurious.Instance, FaultHandler.Resolve(Fault(AccessKind.Write, AnonRw, pte: Present(PteFlags.Writable))));
        Assert.Equal(Resolution.Spurious.Instance, FaultHandler.Resolve(Fault(AccessKind.Read, AnonRw, pte: Present(0))));
    }

    [Fact]
    public void No_vma_or_a_forbidden_access_is_sigsegv()
    {
        Assert.Equal(new Resolution.SigSegv(SegvReason.NoVma), FaultHandler.Resolve(Fault(AccessKind.Read, null)));
        Assert.Equal(new Resolution.SigSegv(SegvReason.NoVma), FaultHandler.Resolve(Fault(AccessKind.Read, AnonRw with { Start = At + 0x1000 })));
        var readOnly = AnonRw with { Flags = VmaFlags.Read };
        Assert.Equal(new Resolution.SigSegv(SegvReason.AccessDenied), FaultHandler.Resolve(Fault(AccessKind.Write, readOnly)));
        Assert.Equal(new Resolution.SigSegv(SegvReason.AccessDenied), FaultHandler.Resolve(Fault(AccessKind.Fetch, AnonRw)));
        Assert.Equal(new Resolution.SigSegv(SegvReason.AccessDenied), FaultHandler.Resolve(Fault(AccessKind.Read, AnonRw with { Flags = VmaFlags.None })));
        Assert.Equal(new Resolution.SigSegv(SegvReason.NoVma), FaultHandler.Resolve(Fault(AccessKind.Read, AnonRw, address: new VirtualAddress(0xffff_8000_0000_0000))));
    }

    [Fact]
    public void File_page_beyond_the_end_of_the_file_is_sigbus() =>
        Assert.Equal(new Resolution.SigBus(BusReason.BeyondEndOfFile),
            FaultHandler.Resolve(Fault(AccessKind.Read, FilePrivate, address: At + 0x2000, fileSize: 0x2000)));

    [Fact]
    public void Access_just_below_the_stack_near_sp_grows_it()
    {
        var below = Stack.Start - 8;
        var growth = Assert.IsType<Resolution.StackGrowth>(FaultHandler.Resolve(Fault(AccessKind.Write, Stack, address: below, sp: below)));
        Assert.Equal(below.PageAlignedDown, growth.NewStart);
    }

    [Fact]
    public void By_default_an_access_far_below_sp_within_the_growth_range_grows_the_stack_as_x86_linux_since_4_20()
    {
        Assert.Null(StackRules.Linux.SpWindow);
        var below = Stack.Start - 8;
        var growth = Assert.IsType<Resolution.StackGrowth>(FaultHandler.Resolve(Fault(AccessKind.Write, Stack, address: below, sp: StackTop - 8))); // 128K below SP
        Assert.Equal(below.PageAlignedDown, growth.NewStart);
    }

    [Fact]
    public void Stack_growth_is_refused_far_below_sp_past_the_rlimit_and_into_the_guard_gap()
    {
        var below = Stack.Start - 8;
        const ulong window = StackRules.ClassicSpWindow;
        Assert.Equal(new Resolution.SigSegv(SegvReason.StackBelowSp),
            FaultHandler.Resolve(Fault(AccessKind.Write, Stack, address: below, sp: below + 65536 + 256 + 8, spWindow: window)));
        Assert.IsType<Resolution.StackGrowth>(
            FaultHandler.Resolve(Fault(AccessKind.Write, Stack, address: below, sp: below + 65536 + 256, spWindow: window)));
        var deep = StackTop - (8UL << 20) - 8;
        Assert.Equal(new Resolution.SigSegv(SegvReason.StackLimit),
            FaultHandler.Resolve(Fault(AccessKind.Write, Stack, address: deep, sp: deep)));
        Assert.Equal(new Resolution.SigSegv(SegvReason.StackGuardGap),
            FaultHandler.Resolve(Fault(AccessKind.Write, Stack, address: below, sp: below, previousEnd: below.PageAlignedDown - 0x1000)));
        Assert.IsType<Resolution.StackGrowth>(
            FaultHandler.Resolve(Fault(AccessKind.Write, Stack, address: below, sp: below, previousEnd: below.PageAlignedDown - 256 * 4096UL)));
        Assert.Equal(new Resolution.SigSegv(SegvReason.NoVma),
            FaultHandler.Resolve(Fault(AccessKind.Write, AnonRw with { Start = At + 0x1000 }, address: At + 0xff8, sp: At)));
    }

    [Fact]
    public void Kernel_user_copy_on_a_bad_pointer_is_efault_and_on_a_good_one_handled_normally()
    {
        var efault = Assert.IsType<Resolution.EfaultFixup>(FaultHandler.Resolve(Fault(AccessKind.Write, null, user: false, userCopy: true)));
        Assert.IsType<Resolution.SigSegv>(efault.Instead);
        Assert.Equal(Resolution.DemandZero.NewFrame, FaultHandler.Resolve(Fault(AccessKind.Write, AnonRw, user: false, userCopy: true)));
    }

    [Fact]
    public void Any_other_kernel_mode_fault_is_an_oops()
    {
        Assert.IsType<Resolution.KernelOops>(FaultHandler.Resolve(Fault(AccessKind.Read, AnonRw, user: false)));
        Assert.IsType<Resolution.KernelOops>(FaultHandler.Resolve(Fault(AccessKind.Read, null, address: new VirtualAddress(0xffff_8880_0000_0000), user: false, userCopy: true)));
    }

    [Fact]
    public void A_fault_whose_pte_another_fault_changed_before_its_install_counts_as_spurious_unless_its_vma_or_sharing_changed()
    {
        var winner = Present(PteFlags.Writable | PteFlags.Dirty);
        Assert.Equal(Resolution.Spurious.Instance, FaultHandler.LostRace(Pte.None, winner, vmaOrSharingChanged: false));
        Assert.Null(FaultHandler.LostRace(Pte.None, winner, vmaOrSharingChanged: true));  // it would have waited for the mmap lock
        Assert.Null(FaultHandler.LostRace(winner, winner, vmaOrSharingChanged: false));    // nothing changed: no race lost
    }

    [Fact]
    public void Smap_makes_a_kernel_access_to_a_user_page_outside_a_user_copy_fault_and_the_fault_an_oops()
    {
        var user = Pte.Mapped(Frame, PteFlags.User | PteFlags.Writable);
        Assert.False(AccessCheck.Allows(user, AccessKind.Read, AccessMode.Kernel, smap: true));
        Assert.True(AccessCheck.Allows(user, AccessKind.Read, AccessMode.Kernel, smap: false));
        Assert.True(AccessCheck.Allows(user, AccessKind.Write, AccessMode.UserCopy, smap: true));   // copy_to_user runs with SMAP lifted
        Assert.True(AccessCheck.Allows(user, AccessKind.Write, AccessMode.User, smap: true));
        Assert.True(AccessCheck.Allows(Pte.Mapped(Frame, PteFlags.Writable), AccessKind.Read, AccessMode.Kernel, smap: true)); // a kernel page
        Assert.IsType<Resolution.KernelOops>(FaultHandler.Resolve(Fault(AccessKind.Read, AnonRw, pte: user, user: false)));
    }
}

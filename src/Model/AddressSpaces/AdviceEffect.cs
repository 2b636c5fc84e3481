using Faultsim.Model.Addressing;
using Faultsim.Model.Memory;

namespace Faultsim.Model.AddressSpaces;

/// <summary>
/// What an madvise does, as the address space decides it (<see cref="AddressSpace.Madvise"/>): the address space's own part
/// is done, and what the engine must carry out is told as data — the reference machine does it at once, the actors send
/// it as messages.
/// </summary>
public abstract record AdviceEffect
{
    private AdviceEffect() { }

    /// <summary>The call fails with <paramref name="Error"/> (ENOMEM, or EINVAL for a locked VMA); nothing changed.</summary>
    public sealed record Refused(string Error) : AdviceEffect;

    /// <summary>MADV_DONTNEED: the range's PTEs are zapped; the changes are the caller's to settle (shoot down, then release).</summary>
    public sealed record Zapped(IReadOnlyList<PteChange> Changes) : AdviceEffect;

    /// <summary>MADV_NORMAL, MADV_SEQUENTIAL, MADV_RANDOM: the VMAs' read advice is set; no PTE changes.</summary>
    public sealed record ReadAdviceSet : AdviceEffect
    {
        public static readonly ReadAdviceSet Instance = new();
    }

    /// <summary>MADV_WILLNEED: memory reads these windows of the range's file pages, a request each, before the call returns.</summary>
    public sealed record ReadAhead(IReadOnlyList<ReadaheadWindow> Windows) : AdviceEffect;

    /// <summary>
    /// MADV_PAGEOUT: the frames the range's present PTEs map (not the zero page); memory reclaims those the process alone
    /// maps (<see cref="MemoryManager.PageOutCandidates"/>).
    /// </summary>
    public sealed record PageOut(IReadOnlyList<FrameNumber> Frames) : AdviceEffect;
}

using Faultsim.Model.Addressing;

namespace Faultsim.Model.Replacement;

/// <summary>Chooses which resident frame to evict when memory is full.</summary>
public interface IReplacementPolicy
{
    /// <summary>The frame now holds a page that may be evicted.</summary>
    void Inserted(FrameNumber frame);

    /// <summary>An access to <paramref name="page"/> used the frame (every access, as a reference string counts them).</summary>
    void Referenced(FrameNumber frame, PageKey page);

    /// <summary>The frame was freed; it is no longer a candidate.</summary>
    void Removed(FrameNumber frame);

    /// <summary>
    /// The frame to evict next among those <paramref name="eligible"/> allows (a frame pinned while it is copied is
    /// passed over, keeping its place). Only called while at least one inserted frame is eligible.
    /// </summary>
    FrameNumber ChooseVictim(Func<FrameNumber, bool> eligible);
}

public static class ReplacementPolicyExtensions
{
    /// <summary>The frame to evict next, every inserted frame being eligible.</summary>
    public static FrameNumber ChooseVictim(this IReplacementPolicy policy) => policy.ChooseVictim(static _ => true);
}

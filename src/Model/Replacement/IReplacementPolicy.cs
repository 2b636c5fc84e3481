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

    /// <summary>The frame to evict next. Only called while at least one frame is inserted.</summary>
    FrameNumber ChooseVictim();
}

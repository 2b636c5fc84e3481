namespace Faultsim.Model.Frames;

/// <summary>What a physical frame holds.</summary>
public enum FrameUse : byte
{
    Free,
    /// <summary>The shared, read-only zero page (frame 0).</summary>
    ZeroPage,
    /// <summary>An anonymous page; it may also sit in the swap cache.</summary>
    Anonymous,
    /// <summary>A page of a file, in the page cache.</summary>
    PageCache,
}

using Faultsim.Model.Addressing;

namespace Faultsim.Model.Replacement;

/// <summary>First in, first out: the victim is the frame filled longest ago, however often it is used.</summary>
public sealed class FifoPolicy : IReplacementPolicy
{
    private readonly FrameList _queue = new();

    public void Inserted(FrameNumber frame) => _queue.AddLast((int)frame.Value);
    public void Referenced(FrameNumber frame, PageKey page) { }
    public void Removed(FrameNumber frame) => _queue.Remove((int)frame.Value);
    public FrameNumber ChooseVictim(Func<FrameNumber, bool> eligible) => _queue.First(eligible);
}

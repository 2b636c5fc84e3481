using Faultsim.Model.Addressing;

namespace Faultsim.Model.Replacement;

/// <summary>Least recently used: every reference moves the frame to the back; the victim is at the front.</summary>
public sealed class LruPolicy : IReplacementPolicy
{
    private readonly FrameList _recency = new();

    public void Inserted(FrameNumber frame) => _recency.AddLast((int)frame.Value);
    public void Referenced(FrameNumber frame, PageKey page) => _recency.MoveToLast((int)frame.Value);
    public void Removed(FrameNumber frame) => _recency.Remove((int)frame.Value);
    public FrameNumber ChooseVictim(Func<FrameNumber, bool> eligible) => _recency.First(eligible);
}

using Faultsim.Model.Addressing;

namespace Faultsim.Model.Replacement;

/// <summary>Wraps a policy and records every page reference, so a second run can replay them to <see cref="OptimalPolicy"/>.</summary>
public sealed class RecordingPolicy(IReplacementPolicy inner) : IReplacementPolicy
{
    private readonly List<PageKey> _references = [];

    public IReadOnlyList<PageKey> References => _references;

    public void Inserted(FrameNumber frame) => inner.Inserted(frame);

    public void Referenced(FrameNumber frame, PageKey page)
    {
        _references.Add(page);
        inner.Referenced(frame, page);
    }

    public void Removed(FrameNumber frame) => inner.Removed(frame);
    public FrameNumber ChooseVictim(Func<FrameNumber, bool> eligible) => inner.ChooseVictim(eligible);
}

using Faultsim.Model.Addressing;

namespace Faultsim.Model.Replacement;

/// <summary>
/// Belady's optimum, offline: given the whole sequence of page references in advance, evict the
/// frame whose page is next used farthest in the future (or never again).
/// </summary>
public sealed class OptimalPolicy : IReplacementPolicy
{
    private readonly IReadOnlyList<PageKey> _references;
    private readonly int[] _nextUse;          // for reference i, the index of the next reference to the same page
    private readonly FrameList _resident = new();
    private int[] _frameNextUse = [];
    private int _clock;

    /// <param name="references">Every page reference of the run in order, as a previous run recorded them.</param>
    public OptimalPolicy(IReadOnlyList<PageKey> references)
    {
        _references = references;
        _nextUse = new int[references.Count];
        var seen = new Dictionary<PageKey, int>();
        for (var i = references.Count - 1; i >= 0; i--)
        {
            _nextUse[i] = seen.TryGetValue(references[i], out var next) ? next : int.MaxValue;
            seen[references[i]] = i;
        }
    }

    public void Inserted(FrameNumber frame)
    {
        var f = (int)frame.Value;
        if (f >= _frameNextUse.Length)
            Array.Resize(ref _frameNextUse, Math.Max(f + 1, _frameNextUse.Length * 2));
        _frameNextUse[f] = int.MaxValue;
        _resident.AddLast(f);
    }

    public void Referenced(FrameNumber frame, PageKey page)
    {
        // Should this run stray from the recorded one (it cannot on the same workload), unknown futures count as never.
        var i = _clock++;
        _frameNextUse[(int)frame.Value] = i < _nextUse.Length && _references[i] == page ? _nextUse[i] : int.MaxValue;
    }

    public void Removed(FrameNumber frame) => _resident.Remove((int)frame.Value);

    public FrameNumber ChooseVictim(Func<FrameNumber, bool> eligible)
    {
        int victim = -1, farthest = -1;
        for (var f = _resident.Head; f >= 0; f = _resident.Next(f))
        {
            if (_frameNextUse[f] > farthest && eligible(new FrameNumber((uint)f)))
                (victim, farthest) = (f, _frameNextUse[f]);
        }
        return victim < 0 ? throw new InvalidOperationException("no frame to evict") : new FrameNumber((uint)victim);
    }
}

using Faultsim.Model.Addressing;

namespace Faultsim.Model.Replacement;

/// <summary>
/// Second chance. Frames sit on a circle with a use bit, set when the page is loaded and on every
/// reference. To evict, the hand sweeps: a frame with its bit set loses it and is passed over;
/// the first without one is the victim. New frames join just behind the hand.
/// </summary>
public sealed class ClockPolicy : IReplacementPolicy
{
    private readonly FrameList _circle = new();
    private bool[] _used = [];

    public void Inserted(FrameNumber frame)
    {
        var f = (int)frame.Value;
        if (f >= _used.Length)
            Array.Resize(ref _used, Math.Max(f + 1, _used.Length * 2));
        _used[f] = true;
        _circle.AddLast(f); // the hand is always at the head, so the tail is just behind it
    }

    public void Referenced(FrameNumber frame, PageKey page) => _used[(int)frame.Value] = true;

    public void Removed(FrameNumber frame) => _circle.Remove((int)frame.Value);

    public FrameNumber ChooseVictim(Func<FrameNumber, bool> eligible)
    {
        for (var steps = 0; steps <= 2 * _circle.Count; steps++)
        {
            var hand = _circle.First(static _ => true);
            var f = (int)hand.Value;
            if (eligible(hand) && !_used[f])
                return hand;
            if (eligible(hand))
                _used[f] = false;  // a second chance; a pinned frame is passed over as it is
            _circle.MoveToLast(f); // advance the hand past it
        }
        throw new InvalidOperationException("no frame to evict");
    }
}

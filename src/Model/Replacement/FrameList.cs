using Faultsim.Model.Addressing;

namespace Faultsim.Model.Replacement;

/// <summary>An intrusive doubly linked list of frames kept in arrays: O(1) add, remove and move, no allocation per operation.</summary>
internal sealed class FrameList
{
    private const int Nil = -1;
    private int[] _prev = [], _next = [];
    private bool[] _member = [];
    private int _head = Nil, _tail = Nil;

    public int Count { get; private set; }
    public int Head => _head;
    public bool Contains(int frame) => frame < _member.Length && _member[frame];
    public int Next(int frame) => _next[frame];

    public void AddLast(int frame)
    {
        Grow(frame);
        if (_member[frame])
            Remove(frame);
        _member[frame] = true;
        _prev[frame] = _tail;
        _next[frame] = Nil;
        if (_tail != Nil)
            _next[_tail] = frame;
        else
            _head = frame;
        _tail = frame;
        Count++;
    }

    public void Remove(int frame)
    {
        if (!Contains(frame))
            return;
        var (prev, next) = (_prev[frame], _next[frame]);
        if (prev != Nil) _next[prev] = next; else _head = next;
        if (next != Nil) _prev[next] = prev; else _tail = prev;
        _member[frame] = false;
        Count--;
    }

    public void MoveToLast(int frame)
    {
        if (frame == _tail || !Contains(frame))
            return;
        Remove(frame);
        AddLast(frame);
    }

    /// <summary>The first frame, from the head, that <paramref name="eligible"/> allows.</summary>
    public FrameNumber First(Func<FrameNumber, bool> eligible)
    {
        for (var f = _head; f != Nil; f = _next[f])
        {
            if (eligible(new FrameNumber((uint)f)))
                return new FrameNumber((uint)f);
        }
        throw new InvalidOperationException("no frame to evict");
    }

    private void Grow(int frame)
    {
        if (frame < _member.Length)
            return;
        var size = Math.Max(frame + 1, _member.Length * 2);
        Array.Resize(ref _prev, size);
        Array.Resize(ref _next, size);
        Array.Resize(ref _member, size);
    }
}

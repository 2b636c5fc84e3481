using System.Collections.Immutable;

namespace Faultsim.Model.Workloads;

/// <summary>
/// A CPU's operations in order, as <see cref="CpuProgram"/> reads them: its script's, with each <see cref="Op.Stream"/>
/// replaced in its place by the operations its source yields, read as they are reached. It holds the operation at hand
/// and those looked ahead at (<see cref="At"/>: what a CPU hands its TLB at once), never more, so a stream of any
/// length takes the memory of a few operations.
/// </summary>
public sealed class OpCursor(ImmutableArray<Op> ops)
{
    private int _next;                    // the next operation of the script to read
    private IOpReader? _stream;           // the stream being read, the script's operation before _next
    private Op[] _ahead = new Op[4];      // the operations read and not yet passed, a ring from _head: the first is at hand
    private int _head, _count;

    /// <summary>The operation at hand; null once every operation is passed.</summary>
    public Op? Current => _count > 0 ? _ahead[_head] : At(0);

    /// <summary>The operations read ahead of the one at hand and held (for tests: a stream's cursor holds a few).</summary>
    public int Held => _count;

    /// <summary>The operation <paramref name="offset"/> after the one at hand (0: the one at hand); null past the last.</summary>
    public Op? At(int offset)
    {
        while (_count <= offset)
        {
            if (!ReadOne())
                return null;
        }
        return _ahead[(_head + offset) & (_ahead.Length - 1)];
    }

    /// <summary>On to the next operation.</summary>
    public void Advance()
    {
        if (Current is null)
            return;
        _ahead[_head] = null!;
        _head = (_head + 1) & (_ahead.Length - 1);
        _count--;
    }

    private bool ReadOne()
    {
        while (true)
        {
            if (_stream is not null)
            {
                if (_stream.Next() is { } op)
                {
                    if (op is Op.Stream)
                        throw new InvalidOperationException($"a stream yields no streams: {op}");
                    Push(op);
                    return true;
                }
                _stream.Dispose();
                _stream = null;
            }
            if (_next >= ops.Length)
                return false;
            var top = ops[_next++];
            if (top is Op.Stream stream)
            {
                _stream = stream.Source.Open();
                continue;
            }
            Push(top);
            return true;
        }
    }

    private void Push(Op op)
    {
        if (_count == _ahead.Length)
        {
            var grown = new Op[_ahead.Length * 2];
            for (var i = 0; i < _count; i++)
                grown[i] = _ahead[(_head + i) & (_ahead.Length - 1)];
            (_ahead, _head) = (grown, 0);
        }
        _ahead[(_head + _count) & (_ahead.Length - 1)] = op;
        _count++;
    }
}

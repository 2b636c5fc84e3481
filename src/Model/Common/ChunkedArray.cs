namespace Faultsim.Model.Common;

/// <summary>
/// An array that grows by whole chunks instead of doubling: growth copies nothing once past the first chunk, and holds at
/// most one chunk unused, so a table of millions of items costs what it holds, with no spike of old and new arrays
/// side by side. Each item is <see cref="Stride"/> elements long (a frame's words); the first chunk starts small and
/// doubles up to full size, so that a small run stays small.
/// </summary>
public sealed class ChunkedArray<T>
{
    private const int ChunkElementsShift = 17;        // about 128K elements a chunk, whatever the stride

    private readonly int _chunkShift;                 // items a chunk: a power of two
    private readonly uint _chunkMask;
    private T[][] _chunks;

    /// <param name="stride">Elements an item has.</param>
    /// <param name="initialItems">Items the first chunk holds to begin with (at most a chunk's).</param>
    public ChunkedArray(int stride = 1, int initialItems = 64)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        Stride = stride;
        _chunkShift = Math.Max(0, ChunkElementsShift - (int)Math.Ceiling(Math.Log2(stride)));
        _chunkMask = (1u << _chunkShift) - 1;
        _chunks = [new T[Math.Clamp(initialItems, 1, ChunkItems) * stride]];
    }

    public int Stride { get; }

    private int ChunkItems => 1 << _chunkShift;

    /// <summary>Items there is room for now.</summary>
    public long Capacity => _chunks.Length == 1 ? _chunks[0].Length / Stride : (long)_chunks.Length << _chunkShift;

    /// <summary>The element of item <paramref name="index"/> (for a stride of one).</summary>
    public ref T this[uint index] => ref _chunks[index >> _chunkShift][index & _chunkMask];

    /// <summary>The <see cref="Stride"/> elements of item <paramref name="index"/>.</summary>
    public Span<T> Items(uint index) => _chunks[index >> _chunkShift].AsSpan((int)(index & _chunkMask) * Stride, Stride);

    /// <summary>Makes room for item <paramref name="index"/>, keeping every item held.</summary>
    public void EnsureRoomFor(uint index)
    {
        while (index >= Capacity)
        {
            var first = _chunks[0];
            if (_chunks.Length == 1 && first.Length < ChunkItems * Stride)
                Array.Resize(ref _chunks[0], Math.Min(first.Length * 2, ChunkItems * Stride));
            else
            {
                Array.Resize(ref _chunks, _chunks.Length + 1);
                _chunks[^1] = new T[ChunkItems * Stride];
            }
        }
    }
}

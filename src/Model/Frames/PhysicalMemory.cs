using Faultsim.Model.Addressing;
using Faultsim.Model.Common;
using Faultsim.Model.Faults;
using Faultsim.Model.PageTables;
using Faultsim.Model.Replacement;

namespace Faultsim.Model.Frames;

/// <summary>
/// Physical frames with their reference counts, generations, reverse mappings and content, plus
/// the page cache and swap cache that index them. Frame 0 is the zero page. Metadata lives in
/// parallel arrays so that a resident page costs a few dozen bytes and no object.
/// </summary>
/// <remarks>
/// A frame's reference count is its number of mapping PTEs plus one while the page or swap cache
/// holds it. Content is modelled as <see cref="WordsPerPage"/> 64-bit words per page; a store at
/// offset o writes word (o / 8) mod that number.
/// </remarks>
public sealed class PhysicalMemory
{
    private const byte DirtyFlag = 1, SwapCachedFlag = 2, EvictableFlag = 4;

    private readonly int _limit;
    private readonly IReplacementPolicy _policy;
    private readonly Stack<uint> _free = new();
    private readonly Dictionary<uint, List<PageKey>> _moreMappers = [];
    private readonly Dictionary<FilePage, FrameNumber> _pageCache = [];
    private readonly Dictionary<SwapSlot, FrameNumber> _swapCache = [];
    // Per-frame tables grow a chunk at a time, not by doubling: a run of millions of frames holds no spare half.
    private readonly ChunkedArray<FrameUse> _use = new(initialItems: InitialFrames);
    private readonly ChunkedArray<byte> _flags = new(initialItems: InitialFrames);
    private readonly ChunkedArray<uint> _generation = new(initialItems: InitialFrames);
    private readonly ChunkedArray<int> _mapCount = new(initialItems: InitialFrames);
    private readonly ChunkedArray<PageKey> _firstMapper = new(initialItems: InitialFrames);
    private readonly ChunkedArray<ulong> _owner = new(initialItems: InitialFrames);   // page cache: packed FilePage; swap cache: the slot
    private readonly ChunkedArray<byte> _pins = new(initialItems: InitialFrames);
    private readonly ChunkedArray<ulong> _words;
    private uint _highWater = 1;                 // frames 0.._highWater-1 have been handed out at least once
    private const int InitialFrames = 16;        // a small run uses a few frames: the tables grow (doubling) when it needs more
    private long _room = InitialFrames;          // frames every table has room for

    /// <param name="frameLimit">Frames available for pages (the zero page aside); 0 for no limit.</param>
    public PhysicalMemory(int frameLimit, int wordsPerPage, IReplacementPolicy policy)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frameLimit);
        ArgumentOutOfRangeException.ThrowIfLessThan(wordsPerPage, 1);
        _limit = frameLimit;
        _policy = policy;
        WordsPerPage = wordsPerPage;
        _words = new ChunkedArray<ulong>(wordsPerPage, InitialFrames);
        _use[0] = FrameUse.ZeroPage;
    }

    public int WordsPerPage { get; }

    /// <summary>Frames holding pages now, the zero page aside.</summary>
    public int InUse { get; private set; }

    /// <summary>The most frames ever in use at once.</summary>
    public int PeakInUse { get; private set; }

    /// <summary>Whether the next allocation needs an eviction first.</summary>
    public bool IsFull => _limit > 0 && InUse >= _limit;

    /// <summary>Frames on the replacement policy's lists and not pinned: those an eviction may choose.</summary>
    public int Evictable => _active - _pinnedActive;

    private int _active, _pinnedActive;

    public int PageCacheSize => _pageCache.Count;

    /// <summary>The file pages in the page cache.</summary>
    public IEnumerable<FilePage> CachedFilePages => _pageCache.Keys;

    public FrameUse UseOf(FrameNumber frame) => _use[frame.Value];
    public uint Generation(FrameNumber frame) => _generation[frame.Value];

    /// <summary>The generation as a PTE records it (modulo <see cref="Pte.GenerationTags"/>).</summary>
    public uint GenerationTag(FrameNumber frame) => _generation[frame.Value] % Pte.GenerationTags;
    public int MapCount(FrameNumber frame) => _mapCount[frame.Value];
    public bool IsDirty(FrameNumber frame) => (_flags[frame.Value] & DirtyFlag) != 0;
    public bool IsSwapCached(FrameNumber frame) => (_flags[frame.Value] & SwapCachedFlag) != 0;

    public int RefCount(FrameNumber frame) =>
        _mapCount[frame.Value] + (_use[frame.Value] == FrameUse.PageCache || IsSwapCached(frame) ? 1 : 0);

    /// <summary>What the fault decision needs to know about a mapped frame.</summary>
    public FrameFacts Facts(FrameNumber frame) =>
        new(frame == FrameNumber.Zero, _use[frame.Value] == FrameUse.Anonymous, RefCount(frame));

    /// <summary>The file page a page-cache frame holds.</summary>
    public FilePage CachedFilePage(FrameNumber frame) => UnpackFilePage(_owner[frame.Value]);

    /// <summary>The swap slot a swap-cached frame holds.</summary>
    public SwapSlot SwapSlotOf(FrameNumber frame) => new((uint)_owner[frame.Value]);

    public FrameNumber? LookupPageCache(FilePage page) => _pageCache.TryGetValue(page, out var f) ? f : null;
    public FrameNumber? LookupSwapCache(SwapSlot slot) => _swapCache.TryGetValue(slot, out var f) ? f : null;

    /// <summary>
    /// A new zero-filled anonymous frame. The caller evicts first when <see cref="IsFull"/>. A new
    /// frame is not evictable until <see cref="Activate"/>d, so that a page being read or copied
    /// cannot be chosen while its fault is still being resolved.
    /// </summary>
    public FrameNumber AllocateAnonymous() => Allocate(FrameUse.Anonymous, 0);

    /// <summary>A new frame for <paramref name="page"/>, entered in the page cache; the caller fills it.</summary>
    public FrameNumber AllocatePageCache(FilePage page)
    {
        var frame = Allocate(FrameUse.PageCache, PackFilePage(page));
        _pageCache.Add(page, frame);
        return frame;
    }

    /// <summary>Puts the frame on the replacement policy's lists (Linux's lru_cache_add): from now on it may be evicted.</summary>
    public void Activate(FrameNumber frame)
    {
        if (_limit == 0 || (_flags[frame.Value] & EvictableFlag) != 0 || _use[frame.Value] is FrameUse.Free or FrameUse.ZeroPage)
            return; // without a frame limit nothing is ever chosen for eviction: the policy need not follow
        _flags[frame.Value] |= EvictableFlag;
        _active++;
        if (_pins[frame.Value] > 0) _pinnedActive++;
        _policy.Inserted(frame);
    }

    /// <summary>Takes the frame off the replacement policy's lists while an operation holds it (isolate_lru_page).</summary>
    public void Isolate(FrameNumber frame)
    {
        if ((_flags[frame.Value] & EvictableFlag) == 0)
            return;
        _flags[frame.Value] &= unchecked((byte)~EvictableFlag);
        _active--;
        if (_pins[frame.Value] > 0) _pinnedActive--;
        _policy.Removed(frame);
    }

    /// <summary>Frees an anonymous frame that was allocated but never mapped (its fault was abandoned).</summary>
    public void FreeUnused(FrameNumber frame)
    {
        if (_mapCount[frame.Value] != 0 || IsSwapCached(frame) || _use[frame.Value] != FrameUse.Anonymous)
            throw new InvalidOperationException($"{frame} is in use");
        Free(frame);
    }

    /// <summary>Puts an anonymous frame in the swap cache under <paramref name="slot"/> (it holds the slot's content).</summary>
    public void AddToSwapCache(FrameNumber frame, SwapSlot slot)
    {
        _swapCache.Add(slot, frame);
        _owner[frame.Value] = slot.Value;
        _flags[frame.Value] |= SwapCachedFlag;
    }

    /// <summary>Takes a frame out of the swap cache; it is freed if nothing maps it.</summary>
    public void RemoveFromSwapCache(FrameNumber frame)
    {
        if (!IsSwapCached(frame))
            return;
        _swapCache.Remove(SwapSlotOf(frame));
        _flags[frame.Value] &= unchecked((byte)~SwapCachedFlag);
        FreeIfUnreferenced(frame);
    }

    /// <summary>Drops a page-cache frame (eviction or truncation). Its mappings must be gone.</summary>
    public void RemoveFromPageCache(FrameNumber frame)
    {
        if (_mapCount[frame.Value] != 0)
            throw new InvalidOperationException($"{frame} is still mapped {_mapCount[frame.Value]} times");
        _pageCache.Remove(CachedFilePage(frame));
        Free(frame);
    }

    /// <summary>A PTE of <paramref name="page"/> now maps the frame (reference count +1, reverse map updated).</summary>
    public void Map(FrameNumber frame, PageKey page)
    {
        if (frame == FrameNumber.Zero)
            return; // the zero page is neither counted nor reverse-mapped
        var f = frame.Value;
        if (_mapCount[f]++ == 0)
            _firstMapper[f] = page;
        else
            (_moreMappers.TryGetValue(f, out var more) ? more : _moreMappers[f] = []).Add(page);
    }

    /// <summary>The PTE of <paramref name="page"/> no longer maps the frame; the frame is freed when nothing references it.</summary>
    public void Unmap(FrameNumber frame, PageKey page)
    {
        if (frame == FrameNumber.Zero)
            return;
        var f = frame.Value;
        if (_mapCount[f] == 0)
            throw new InvalidOperationException($"{frame} is not mapped by {page}");
        _moreMappers.TryGetValue(f, out var more);
        if (_firstMapper[f] == page)
        {
            if (more is { Count: > 0 })
            {
                _firstMapper[f] = more[^1];
                more.RemoveAt(more.Count - 1);
            }
        }
        else if (more is null || !more.Remove(page))
        {
            throw new InvalidOperationException($"{frame} is not mapped by {page}");
        }
        if (more is { Count: 0 })
            _moreMappers.Remove(f);
        _mapCount[f]--;
        FreeIfUnreferenced(frame);
    }

    /// <summary>Whether a PTE of <paramref name="page"/> maps the frame (the reverse map, without building a list).</summary>
    public bool IsMappedBy(FrameNumber frame, PageKey page)
    {
        var f = frame.Value;
        return _mapCount[f] > 0 && (_firstMapper[f] == page || (_moreMappers.TryGetValue(f, out var more) && more.Contains(page)));
    }

    /// <summary>Every page whose PTE maps the frame (the reverse map).</summary>
    public IReadOnlyList<PageKey> Mappers(FrameNumber frame)
    {
        var f = frame.Value;
        if (_mapCount[f] == 0)
            return [];
        var all = new List<PageKey>(_mapCount[f]) { _firstMapper[f] };
        if (_moreMappers.TryGetValue(f, out var more))
            all.AddRange(more);
        return all;
    }

    /// <summary>The frame holding the page that the replacement policy would evict next, passing over pinned frames.</summary>
    public FrameNumber ChooseVictim() => _policy.ChooseVictim(f => _pins[f.Value] == 0);

    /// <summary>
    /// Keeps the frame from being chosen for eviction while an operation needs it (the source of a copy), without
    /// taking it off the replacement lists, so it keeps its place (its age, its recency) there.
    /// </summary>
    public void Pin(FrameNumber frame)
    {
        if (frame == FrameNumber.Zero)
            return;
        if (_pins[frame.Value]++ == 0 && (_flags[frame.Value] & EvictableFlag) != 0)
            _pinnedActive++;
    }

    public void Unpin(FrameNumber frame)
    {
        if (frame == FrameNumber.Zero || _pins[frame.Value] == 0)
            return;
        if (--_pins[frame.Value] == 0 && (_flags[frame.Value] & EvictableFlag) != 0)
            _pinnedActive--;
    }

    /// <summary>An access through a translation to the frame (for the replacement policy).</summary>
    public void Referenced(FrameNumber frame, PageKey page)
    {
        if ((_flags[frame.Value] & EvictableFlag) != 0)
            _policy.Referenced(frame, page);
    }

    public ulong Read(FrameNumber frame, ulong offset) => _words.Items(frame.Value)[WordOf(offset)];

    public void Write(FrameNumber frame, ulong offset, ulong value)
    {
        if (frame == FrameNumber.Zero)
            throw new InvalidOperationException("write to the zero page");
        _words.Items(frame.Value)[WordOf(offset)] = value;
        _flags[frame.Value] |= DirtyFlag;
    }

    public ReadOnlySpan<ulong> Content(FrameNumber frame) => _words.Items(frame.Value);

    /// <summary>Fills the frame with <paramref name="content"/> (a disk read or a copy); it is clean afterwards.</summary>
    public void Fill(FrameNumber frame, ReadOnlySpan<ulong> content)
    {
        content.CopyTo(_words.Items(frame.Value));
        MarkClean(frame);
    }

    /// <summary>Copies a whole page (a COW break); the copy counts as written.</summary>
    public void Copy(FrameNumber from, FrameNumber to)
    {
        Content(from).CopyTo(_words.Items(to.Value));
        _flags[to.Value] |= DirtyFlag;
    }

    public void MarkClean(FrameNumber frame) => _flags[frame.Value] &= unchecked((byte)~DirtyFlag);

    /// <summary>The word of a page that a store at page offset <paramref name="offset"/> writes.</summary>
    public int WordOf(ulong offset) => (int)((offset >> 3) % (ulong)WordsPerPage);

    private FrameNumber Allocate(FrameUse use, ulong owner)
    {
        if (IsFull)
            throw new InvalidOperationException("out of frames: evict before allocating");
        var f = _free.Count > 0 ? _free.Pop() : _highWater++;
        if (f >= _room)
            Grow(f);
        _use[f] = use;
        _flags[f] = 0;
        _owner[f] = owner;
        _words.Items(f).Clear();
        InUse++;
        PeakInUse = Math.Max(PeakInUse, InUse);
        return new FrameNumber(f);
    }

    private void FreeIfUnreferenced(FrameNumber frame)
    {
        if (_use[frame.Value] == FrameUse.Anonymous && _mapCount[frame.Value] == 0 && !IsSwapCached(frame))
            Free(frame);
    }

    private void Free(FrameNumber frame)
    {
        Isolate(frame);
        var f = frame.Value;
        _use[f] = FrameUse.Free;
        _flags[f] = 0;
        _generation[f]++; // any translation still naming this frame is now detectably stale
        _free.Push(f);
        InUse--;
    }

    private void Grow(uint frame)
    {
        _use.EnsureRoomFor(frame);
        _flags.EnsureRoomFor(frame);
        _generation.EnsureRoomFor(frame);
        _mapCount.EnsureRoomFor(frame);
        _firstMapper.EnsureRoomFor(frame);
        _owner.EnsureRoomFor(frame);
        _pins.EnsureRoomFor(frame);
        _words.EnsureRoomFor(frame);
        _room = new[] { _use.Capacity, _flags.Capacity, _generation.Capacity, _mapCount.Capacity, _firstMapper.Capacity,
            _owner.Capacity, _pins.Capacity, _words.Capacity }.Min(); // the tables' chunks differ in size
    }

    private static ulong PackFilePage(FilePage page) => ((ulong)(uint)page.File.Value << 40) | page.Index;
    private static FilePage UnpackFilePage(ulong packed) => new(new FileId((int)(packed >> 40)), packed & 0xFF_FFFF_FFFFUL);
}

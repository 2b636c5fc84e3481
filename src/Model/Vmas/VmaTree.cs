using Faultsim.Model.Addressing;

namespace Faultsim.Model.Vmas;

/// <summary>
/// The VMAs of one address space, sorted and non-overlapping. Lookups are binary searches;
/// map, unmap and protect split VMAs at the range's edges and merge neighbours that became
/// compatible, as Linux's vma_merge / split_vma do.
/// </summary>
public sealed class VmaTree
{
    private readonly List<Vma> _vmas = [];

    public int Count => _vmas.Count;
    public IReadOnlyList<Vma> All => _vmas;

    /// <summary>Linux's find_vma: the first VMA that ends above <paramref name="address"/>, which may start above it.</summary>
    public Vma? Find(VirtualAddress address)
    {
        var i = FirstEndingAbove(address);
        return i < _vmas.Count ? _vmas[i] : null;
    }

    /// <summary>The VMA that contains <paramref name="address"/>, if any.</summary>
    public Vma? FindContaining(VirtualAddress address) =>
        Find(address) is { } vma && vma.Contains(address) ? vma : null;

    /// <summary>The VMA just below <paramref name="vma"/>, if any (for the stack guard gap).</summary>
    public Vma? Previous(Vma vma)
    {
        var i = FirstEndingAbove(vma.Start);
        return i > 0 ? _vmas[i - 1] : null;
    }

    /// <summary>Maps <paramref name="vma"/> over whatever was there (MAP_FIXED). Returns what it replaced.</summary>
    public IReadOnlyList<Vma> Map(Vma vma)
    {
        var removed = Unmap(vma.Start, vma.End);
        var at = FirstEndingAbove(vma.Start);
        _vmas.Insert(at, vma);
        MergeBetween(at - 1, at + 1);
        return removed;
    }

    /// <summary>Removes [<paramref name="start"/>, <paramref name="end"/>), splitting VMAs at its edges. Returns the removed pieces.</summary>
    public IReadOnlyList<Vma> Unmap(VirtualAddress start, VirtualAddress end)
    {
        var removed = new List<Vma>();
        var i = FirstEndingAbove(start);
        while (i < _vmas.Count && _vmas[i].Start < end)
        {
            var vma = _vmas[i];
            removed.Add(vma.Slice(Max(vma.Start, start), Min(vma.End, end)));
            var pieces = new List<Vma>(2);
            if (vma.Start < start)
                pieces.Add(vma.Slice(vma.Start, start));
            if (vma.End > end)
                pieces.Add(vma.Slice(end, vma.End));
            _vmas.RemoveAt(i);
            _vmas.InsertRange(i, pieces);
            i += pieces.Count;
        }
        return removed;
    }

    /// <summary>
    /// Sets the protection of [<paramref name="start"/>, <paramref name="end"/>) to <paramref name="protection"/>.
    /// Returns the pieces as they were before, or null when part of the range is unmapped (ENOMEM; nothing changes).
    /// </summary>
    public IReadOnlyList<Vma>? Protect(VirtualAddress start, VirtualAddress end, VmaFlags protection) =>
        Reflag(start, end, flags => (flags & ~VmaFlags.Protection) | (protection & VmaFlags.Protection));

    /// <summary>
    /// mlock / munlock (mlock_fixup): sets or clears <see cref="VmaFlags.Locked"/> on [<paramref name="start"/>,
    /// <paramref name="end"/>), splitting and merging as <see cref="Protect"/> does. Returns the pieces as they were before,
    /// or null when part of the range is unmapped (ENOMEM; nothing changes).
    /// </summary>
    public IReadOnlyList<Vma>? SetLocked(VirtualAddress start, VirtualAddress end, bool locked) =>
        Reflag(start, end, flags => locked ? flags | VmaFlags.Locked : flags & ~VmaFlags.Locked);

    /// <summary>
    /// madvise(MADV_NORMAL, MADV_SEQUENTIAL, MADV_RANDOM): sets the read advice of [<paramref name="start"/>,
    /// <paramref name="end"/>) to <paramref name="advice"/> (<see cref="VmaFlags.ReadAdvice"/> bits, none for normal),
    /// splitting and merging VMAs as mprotect does. Null when part of the range is unmapped (ENOMEM; nothing changes).
    /// </summary>
    public IReadOnlyList<Vma>? Advise(VirtualAddress start, VirtualAddress end, VmaFlags advice) =>
        Reflag(start, end, flags => (flags & ~VmaFlags.ReadAdvice) | (advice & VmaFlags.ReadAdvice));

    private IReadOnlyList<Vma>? Reflag(VirtualAddress start, VirtualAddress end, Func<VmaFlags, VmaFlags> change)
    {
        if (end <= start)
            return []; // no bytes: nothing changes (no VMA is split at a range that has none)
        if (!IsFullyMapped(start, end))
            return null;
        var before = Unmap(start, end);
        var first = FirstEndingAbove(start);
        var at = first;
        foreach (var piece in before)
            _vmas.Insert(at++, piece with { Flags = change(piece.Flags) });
        MergeBetween(first - 1, at);
        return before;
    }

    /// <summary>Moves the start of the grows-down <paramref name="vma"/> down to <paramref name="newStart"/> (expand_stack).</summary>
    public Vma GrowDown(Vma vma, VirtualAddress newStart)
    {
        var i = _vmas.IndexOf(vma);
        if (i < 0 || !vma.GrowsDown || newStart >= vma.Start || (i > 0 && _vmas[i - 1].End > newStart))
            throw new InvalidOperationException($"cannot grow {vma} down to {newStart}");
        var grown = vma with { Start = newStart };
        _vmas[i] = grown;
        return grown;
    }

    /// <summary>Moves the end of <paramref name="vma"/> up to <paramref name="newEnd"/> (mremap's growth in place); the range it adds must be free.</summary>
    public Vma Extend(Vma vma, VirtualAddress newEnd)
    {
        var i = _vmas.IndexOf(vma);
        if (i < 0 || newEnd <= vma.End || !IsFree(vma.End, newEnd))
            throw new InvalidOperationException($"cannot extend {vma} to {newEnd}");
        var grown = vma with { End = newEnd };
        _vmas[i] = grown;
        MergeBetween(i, i + 1);
        return grown;
    }

    /// <summary>Whether no VMA overlaps [<paramref name="start"/>, <paramref name="end"/>).</summary>
    public bool IsFree(VirtualAddress start, VirtualAddress end) => Find(start) is not { } vma || vma.Start >= end;

    /// <summary>
    /// The lowest start at or above <paramref name="from"/> of a free range of <paramref name="length"/> bytes within the
    /// user address space (where mremap moves a region it may not grow in place), or null when there is none.
    /// </summary>
    public VirtualAddress? FreeRangeAbove(VirtualAddress from, ulong length)
    {
        var cursor = from.Value;
        for (var i = FirstEndingAbove(from); ; i++)
        {
            var limit = i < _vmas.Count ? _vmas[i].Start.Value : VirtualAddress.UserEnd.Value;
            if (limit >= cursor && limit - cursor >= length)
                return cursor + length <= VirtualAddress.UserEnd.Value ? new VirtualAddress(cursor) : null;
            if (i >= _vmas.Count)
                return null;
            cursor = Math.Max(cursor, _vmas[i].End.Value);
        }
    }

    /// <summary>Marks <paramref name="vma"/> as having had an anonymous page (anon_vma_prepare); it stays so.</summary>
    public void MarkAnonymous(Vma vma)
    {
        var i = _vmas.IndexOf(vma);
        if (i < 0)
            throw new InvalidOperationException($"{vma} is not mapped");
        _vmas[i] = vma with { HasAnonymousPages = true };
    }

    /// <summary>The VMAs that overlap [<paramref name="start"/>, <paramref name="end"/>), in address order.</summary>
    public IEnumerable<Vma> Overlapping(VirtualAddress start, VirtualAddress end)
    {
        for (var i = FirstEndingAbove(start); i < _vmas.Count && _vmas[i].Start < end; i++)
            yield return _vmas[i];
    }

    /// <summary>Whether every address in [<paramref name="start"/>, <paramref name="end"/>) lies in some VMA.</summary>
    public bool IsFullyMapped(VirtualAddress start, VirtualAddress end)
    {
        var cursor = start;
        for (var i = FirstEndingAbove(start); i < _vmas.Count && cursor < end; i++)
        {
            if (_vmas[i].Start > cursor)
                return false;
            cursor = _vmas[i].End;
        }
        return cursor >= end;
    }

    /// <summary>
    /// Fills an empty tree with <paramref name="vmas"/> exactly as they are — sorted, none merged — as a forked child's
    /// copy holds them (dup_mmap copies each VMA; pieces that became alike stay apart).
    /// </summary>
    public void Restore(IEnumerable<Vma> vmas)
    {
        if (_vmas.Count > 0)
            throw new InvalidOperationException("only an empty address space is restored");
        _vmas.AddRange(vmas.OrderBy(v => v.Start.Value));
        for (var i = 1; i < _vmas.Count; i++)
        {
            if (_vmas[i].Start < _vmas[i - 1].End)
                throw new ArgumentException($"{_vmas[i - 1]} and {_vmas[i]} overlap", nameof(vmas));
        }
    }

    /// <summary>Copies every VMA (fork). The copies are not locked: dup_mmap clears VM_LOCKED, the child has no mlock of its own.</summary>
    public VmaTree Clone()
    {
        var copy = new VmaTree();
        copy._vmas.AddRange(_vmas.Select(v => v.IsLocked ? v with { Flags = v.Flags & ~VmaFlags.Locked } : v));
        return copy;
    }

    private int FirstEndingAbove(VirtualAddress address)
    {
        int lo = 0, hi = _vmas.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_vmas[mid].End > address)
                hi = mid;
            else
                lo = mid + 1;
        }
        return lo;
    }

    /// <summary>Merges each compatible neighbour pair among the VMAs at indexes <paramref name="from"/>..<paramref name="to"/>.</summary>
    private void MergeBetween(int from, int to)
    {
        for (var i = Math.Max(from, 0); i < to && i + 1 < _vmas.Count;)
        {
            if (_vmas[i].CanMergeWith(_vmas[i + 1]))
            {
                _vmas[i] = _vmas[i] with { End = _vmas[i + 1].End, HasAnonymousPages = _vmas[i].HasAnonymousPages || _vmas[i + 1].HasAnonymousPages };
                _vmas.RemoveAt(i + 1);
                to--;
            }
            else
            {
                i++;
            }
        }
    }

    private static VirtualAddress Max(VirtualAddress a, VirtualAddress b) => a > b ? a : b;
    private static VirtualAddress Min(VirtualAddress a, VirtualAddress b) => a < b ? a : b;
}

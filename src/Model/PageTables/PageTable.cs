using Faultsim.Model.Addressing;

namespace Faultsim.Model.PageTables;

/// <summary>
/// A 4-level x86-64 page table (PML4 → PDPT → PD → PT) for one address space. Tables are
/// created when an entry below them is first set, as the kernel allocates them on demand.
/// </summary>
public sealed class PageTable
{
    internal const int EntriesPerTable = 512;
    private readonly Node _root = new(Level.Pml4);
    private int _tables = 1;
    private long _presentOrSwapped;
    private ulong _lastLeafKey = ulong.MaxValue; // page >> 9 of the leaf below: see Remember
    private Node? _lastLeaf;

    /// <summary>Page-table pages allocated, the root included.</summary>
    public int TablePages => _tables;

    /// <summary>Leaf entries that are present or swapped out.</summary>
    public long MappedEntries => _presentOrSwapped;

    internal Node Root => _root;

    /// <summary>The leaf entry for <paramref name="page"/>; <see cref="Pte.None"/> where no table exists.</summary>
    public Pte this[PageNumber page]
    {
        get
        {
            var leaf = FindLeaf(page);
            return leaf is null ? Pte.None : new Pte(leaf.Pte(page.Index(Level.Pt)));
        }
        set
        {
            var leaf = value.IsNone ? FindLeaf(page) : LeafFor(page);
            if (leaf is null)
                return;
            ref var slot = ref leaf.PteSlot(page.Index(Level.Pt));
            _presentOrSwapped += (value.IsNone ? 0 : 1) - (slot == 0 ? 0 : 1);
            slot = value.Raw;
        }
    }

    /// <summary>Walks the tables for <paramref name="address"/> the way the MMU does.</summary>
    public WalkResult Walk(VirtualAddress address)
    {
        var walk = PageWalk.Start(this, address);
        while (walk.Step()) { }
        return walk.Result;
    }

    /// <summary>Every non-empty leaf entry with a page in [<paramref name="from"/>, <paramref name="to"/>), in page order.</summary>
    /// <remarks>
    /// Lazy, in one iterator: the path from the root to the table being read is kept in arrays (four levels), so an entry
    /// costs one step, not one step per level as nested iterators would (a whole address space is read at the end of a run).
    /// </remarks>
    public IEnumerable<(PageNumber Page, Pte Pte)> Entries(PageNumber from, PageNumber to)
    {
        if (from >= to)
            yield break;
        var (start, end) = (from.Value, to.Value);
        var nodes = new Node[(int)Level.Pml4 + 1];
        var bases = new ulong[nodes.Length];
        var next = new int[nodes.Length];
        var depth = 0;
        (nodes[0], bases[0], next[0]) = (_root, 0, FirstIndex(_root.Level, 0, start));
        while (depth >= 0)
        {
            var node = nodes[depth];
            var i = NextUsed(node, next[depth]); // empty entries are skipped at once: most of a table is empty
            next[depth] = i + 1;
            if (i >= EntriesPerTable)
            {
                depth--;
                continue;
            }
            var entryBase = bases[depth] + (ulong)i * PagesPerEntry(node.Level);
            if (entryBase >= end)
                yield break; // every later entry, at any level, starts later still
            if (node.IsLeaf)
                yield return (new PageNumber(entryBase), new Pte(node.Pte(i)));
            else if (node.Child(i) is { } child)
            {
                depth++;
                (nodes[depth], bases[depth], next[depth]) = (child, entryBase, FirstIndex(child.Level, entryBase, start));
            }
        }
    }

    /// <summary>The first entry of <paramref name="node"/> from <paramref name="from"/> on that is not empty; <see cref="EntriesPerTable"/> if none is.</summary>
    private static int NextUsed(Node node, int from) => from >= EntriesPerTable ? EntriesPerTable : node.NextUsed(from);

    /// <summary>Pages covered by one entry of a table at <paramref name="level"/>.</summary>
    private static ulong PagesPerEntry(Level level) => 1UL << (9 * (int)level);

    /// <summary>The first entry of a table at <paramref name="level"/> covering pages from <paramref name="basePage"/> that can hold <paramref name="from"/> or later.</summary>
    private static int FirstIndex(Level level, ulong basePage, ulong from) => from > basePage ? (int)((from - basePage) / PagesPerEntry(level)) : 0;

    private Node? FindLeaf(PageNumber page)
    {
        if (page.Value >> 9 == _lastLeafKey)
            return _lastLeaf;
        var node = _root;
        for (var level = Level.Pml4; level > Level.Pt; level--)
        {
            node = node.Child(page.Index(level));
            if (node is null)
                return null;
        }
        return Remember(page, node);
    }

    private Node LeafFor(PageNumber page)
    {
        if (page.Value >> 9 == _lastLeafKey)
            return _lastLeaf!;
        var node = _root;
        for (var level = Level.Pml4; level > Level.Pt; level--)
        {
            ref var child = ref node.ChildSlot(page.Index(level));
            if (child is null)
            {
                child = new Node(level - 1);
                _tables++;
            }
            node = child;
        }
        return Remember(page, node);
    }

    /// <summary>
    /// The leaf last looked up, by the pages it covers: faults, walks and installs come to the same leaf again and again,
    /// and a table once made is never freed, so the cache never goes stale.
    /// </summary>
    private Node Remember(PageNumber page, Node leaf)
    {
        (_lastLeafKey, _lastLeaf) = (page.Value >> 9, leaf);
        return leaf;
    }

    /// <summary>One page-table page: child tables above the leaf level, PTEs at it.</summary>
    /// <remarks>
    /// Most tables of a simulated address space hold a few entries, so a table starts sparse — its used entries by index, in
    /// order, at most <see cref="SparseEntries"/> — and becomes a dense array of 512 entries when it needs more. Either way it
    /// reads and writes alike; a run makes its address spaces anew, so a small table costs a few bytes, not 4 KiB.
    /// </remarks>
    internal sealed class Node(Level level)
    {
        private const int SparseEntries = 8;
        private Node?[]? _children; // dense (512) or sparse (SparseEntries, beside _indexes)
        private ulong[]? _ptes;
        private short[]? _indexes = new short[SparseEntries]; // null once dense; else the used entries' indexes, ascending
        private int _used;

        public Level Level { get; } = level;

        public bool IsLeaf => Level == Level.Pt;

        /// <summary>The child table at <paramref name="index"/>; null if none. Above the leaf level.</summary>
        public Node? Child(int index)
        {
            if (_indexes is null)
                return _children![index];
            var at = Find(index);
            return at >= 0 ? _children![at] : null;
        }

        /// <summary>The place of the child table at <paramref name="index"/>, made (empty) if the table had none.</summary>
        public ref Node? ChildSlot(int index)
        {
            _children ??= new Node?[SparseEntries];
            if (_indexes is null)
                return ref _children[index];
            var at = Find(index);
            if (at < 0)
                at = Insert(index);
            return ref _children![_indexes is null ? index : at];
        }

        /// <summary>The raw PTE at <paramref name="index"/>; 0 if none. At the leaf level.</summary>
        public ulong Pte(int index)
        {
            if (_indexes is null)
                return _ptes![index];
            var at = Find(index);
            return at >= 0 ? _ptes![at] : 0;
        }

        /// <summary>The place of the PTE at <paramref name="index"/>, made (0) if the table had none.</summary>
        public ref ulong PteSlot(int index)
        {
            _ptes ??= new ulong[SparseEntries];
            if (_indexes is null)
                return ref _ptes[index];
            var at = Find(index);
            if (at < 0)
                at = Insert(index);
            return ref _ptes![_indexes is null ? index : at];
        }

        /// <summary>The first index from <paramref name="from"/> (below 512) whose entry is not empty; 512 if none is.</summary>
        public int NextUsed(int from)
        {
            if (_indexes is null)
            {
                if (_ptes is { } dense)
                {
                    var found = dense.AsSpan(from).IndexOfAnyExcept(0UL);
                    return found < 0 ? EntriesPerTable : from + found;
                }
                var children = _children!;
                while (from < EntriesPerTable && children[from] is null)
                    from++;
                return from;
            }
            for (var at = 0; at < _used; at++)
            {
                if (_indexes[at] >= from && (IsLeaf ? _ptes![at] != 0 : _children![at] is not null))
                    return _indexes[at];
            }
            return EntriesPerTable;
        }

        private int Find(int index)
        {
            var indexes = _indexes!;
            for (var at = 0; at < _used; at++)
            {
                if (indexes[at] == index)
                    return at;
            }
            return -1;
        }

        /// <summary>Makes an empty entry at <paramref name="index"/>: its place among the sparse entries, or (the table full) the table dense.</summary>
        private int Insert(int index)
        {
            var indexes = _indexes!;
            if (_used == SparseEntries)
            {
                if (IsLeaf)
                {
                    var dense = new ulong[EntriesPerTable];
                    for (var at = 0; at < _used; at++)
                        dense[indexes[at]] = _ptes![at];
                    _ptes = dense;
                }
                else
                {
                    var dense = new Node?[EntriesPerTable];
                    for (var at = 0; at < _used; at++)
                        dense[indexes[at]] = _children![at];
                    _children = dense;
                }
                _indexes = null;
                return index;
            }
            var place = 0;
            while (place < _used && indexes[place] < index)
                place++;
            Array.Copy(indexes, place, indexes, place + 1, _used - place);
            indexes[place] = (short)index;
            if (IsLeaf)
                Array.Copy(_ptes!, place, _ptes!, place + 1, _used - place);
            else
                Array.Copy(_children!, place, _children!, place + 1, _used - place);
            if (IsLeaf)
                _ptes![place] = 0;
            else
                _children![place] = null;
            _used++;
            return place;
        }
    }
}

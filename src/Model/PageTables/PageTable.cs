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
            return leaf is null ? Pte.None : new Pte(leaf.Ptes![page.Index(Level.Pt)]);
        }
        set
        {
            var leaf = value.IsNone ? FindLeaf(page) : LeafFor(page);
            if (leaf is null)
                return;
            ref var slot = ref leaf.Ptes![page.Index(Level.Pt)];
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
            var i = next[depth]++;
            if (i >= EntriesPerTable)
            {
                depth--;
                continue;
            }
            var entryBase = bases[depth] + (ulong)i * PagesPerEntry(node.Level);
            if (entryBase >= end)
                yield break; // every later entry, at any level, starts later still
            if (node.Ptes is { } ptes)
            {
                if (ptes[i] != 0)
                    yield return (new PageNumber(entryBase), new Pte(ptes[i]));
            }
            else if (node.Children![i] is { } child)
            {
                depth++;
                (nodes[depth], bases[depth], next[depth]) = (child, entryBase, FirstIndex(child.Level, entryBase, start));
            }
        }
    }

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
            node = node.Children![page.Index(level)];
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
            ref var child = ref node.Children![page.Index(level)];
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
    internal sealed class Node(Level level)
    {
        public Level Level { get; } = level;
        public Node?[]? Children { get; } = level == Level.Pt ? null : new Node?[EntriesPerTable];
        public ulong[]? Ptes { get; } = level == Level.Pt ? new ulong[EntriesPerTable] : null;
    }
}

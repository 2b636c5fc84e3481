using Faultsim.Model.Addressing;

namespace Faultsim.Model.PageTables;

/// <summary>Where a page walk ended: the leaf entry it read, or the level whose entry was missing.</summary>
/// <param name="Pte">The leaf entry; <see cref="Pte.None"/> when the walk stopped above the leaf.</param>
/// <param name="StoppedAt">The level whose entry ended the walk (<see cref="Level.Pt"/> when it reached the leaf).</param>
/// <param name="LevelsRead">Table entries read, 1 to 4: what a walk costs.</param>
public readonly record struct WalkResult(Pte Pte, Level StoppedAt, int LevelsRead)
{
    public bool ReachedLeaf => StoppedAt == Level.Pt;
}

/// <summary>
/// The MMU's page walk as a state machine over data: each <see cref="Step"/> reads one table
/// entry, so a simulator can charge each level its latency or interleave other work between levels.
/// </summary>
public struct PageWalk
{
    private readonly VirtualAddress _address;
    private PageTable.Node? _node;
    private WalkResult _result;

    private PageWalk(PageTable table, VirtualAddress address)
    {
        _address = address;
        _node = table.Root;
        _result = default;
    }

    public static PageWalk Start(PageTable table, VirtualAddress address) => new(table, address);

    /// <summary>The level whose entry the next step reads.</summary>
    public readonly Level Level => _node?.Level ?? _result.StoppedAt;

    public readonly bool IsDone => _node is null;

    /// <summary>The outcome; valid once <see cref="IsDone"/>.</summary>
    public readonly WalkResult Result => _result;

    /// <summary>Reads one level. Returns true while there is another level to read.</summary>
    public bool Step()
    {
        if (_node is not { } node)
            return false;
        var read = _result.LevelsRead + 1;
        var index = _address.Index(node.Level);
        if (node.IsLeaf)
        {
            _result = new WalkResult(new Pte(node.Pte(index)), Level.Pt, read);
            _node = null;
            return false;
        }
        var child = node.Child(index);
        _result = new WalkResult(Pte.None, node.Level, read);
        _node = child;
        return child is not null;
    }
}

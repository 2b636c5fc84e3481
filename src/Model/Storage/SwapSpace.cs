using Faultsim.Model.Addressing;

namespace Faultsim.Model.Storage;

/// <summary>
/// Swap space: slots holding the content of swapped-out anonymous pages. A slot counts the PTEs
/// that name it (fork shares swapped-out pages too), and knows whether the swap cache holds a frame
/// for it (Linux's SWAP_HAS_CACHE, which is no PTE's reference); it is freed when neither holds it.
/// </summary>
public sealed class SwapSpace(int wordsPerPage)
{
    private readonly Dictionary<uint, Slot> _slots = [];
    private readonly Stack<uint> _free = new();
    private readonly Dictionary<uint, uint> _generations = []; // how often each slot was allocated
    private uint _next = 1;

    public int InUse => _slots.Count;

    /// <summary>A new slot holding <paramref name="content"/>, referenced by <paramref name="references"/> PTEs (none yet when only the swap cache holds it).</summary>
    public SwapSlot Allocate(ReadOnlySpan<ulong> content, int references)
    {
        if (content.Length != wordsPerPage)
            throw new ArgumentException($"a page has {wordsPerPage} words, not {content.Length}", nameof(content));
        var id = _free.Count > 0 ? _free.Pop() : _next++;
        _slots[id] = new Slot(content.ToArray(), references);
        _generations[id] = _generations.GetValueOrDefault(id) + 1;
        return new SwapSlot(id);
    }

    /// <summary>How often the slot was allocated: a swap entry records it, so that one naming an earlier use is told apart.</summary>
    public uint Generation(SwapSlot slot) => _generations.GetValueOrDefault(slot.Value);

    /// <summary>Rewrites the content of a slot still in use (a dirty swap-cache page swapped out again).</summary>
    public void Write(SwapSlot slot, ReadOnlySpan<ulong> content) => content.CopyTo(Get(slot).Content);

    public ReadOnlySpan<ulong> Read(SwapSlot slot) => Get(slot).Content;

    public int References(SwapSlot slot) => Get(slot).References;

    public bool IsCached(SwapSlot slot) => Get(slot).Cached;

    /// <summary>The swap cache now holds (or no longer holds) a frame for the slot. Returns true when the slot was freed.</summary>
    public bool SetCached(SwapSlot slot, bool cached)
    {
        var s = Get(slot);
        s.Cached = cached;
        return FreeIfUnused(slot, s);
    }

    /// <summary>Whether some PTE still names the slot (a fault may hold a stale swap entry whose slot was freed since).</summary>
    public bool IsAllocated(SwapSlot slot) => _slots.ContainsKey(slot.Value);

    public void AddReference(SwapSlot slot) => Get(slot).References++;

    /// <summary>One PTE no longer names the slot. Returns true when the slot was freed (nothing caches it either).</summary>
    public bool Release(SwapSlot slot)
    {
        var s = Get(slot);
        if (s.References == 0)
            throw new InvalidOperationException($"{slot} has no reference to release");
        s.References--;
        return FreeIfUnused(slot, s);
    }

    private bool FreeIfUnused(SwapSlot slot, Slot s)
    {
        if (s.References > 0 || s.Cached)
            return false;
        _slots.Remove(slot.Value);
        _free.Push(slot.Value);
        return true;
    }

    private Slot Get(SwapSlot slot) =>
        _slots.TryGetValue(slot.Value, out var s) ? s : throw new InvalidOperationException($"{slot} is not in use");

    private sealed class Slot(ulong[] content, int references)
    {
        public ulong[] Content { get; } = content;
        public int References { get; set; } = references;
        public bool Cached { get; set; }
    }
}

using Faultsim.Model.Addressing;

namespace Faultsim.Model.Tlbs;

/// <summary>
/// A set-associative TLB tagged by address-space id (like x86 PCID): entries of several address
/// spaces live side by side, so a context switch needs no flush. Least recently used within a set.
/// </summary>
public sealed class Tlb
{
    private readonly int _ways, _setMask;
    private readonly Entry[] _entries;
    private ulong _tick;

    /// <param name="entries">Total entries, a power of two.</param>
    /// <param name="ways">Entries per set, dividing <paramref name="entries"/>.</param>
    public Tlb(int entries, int ways)
    {
        if (entries < 1 || (entries & (entries - 1)) != 0)
            throw new ArgumentException($"TLB entries must be a power of two, not {entries}", nameof(entries));
        if (ways < 1 || entries % ways != 0)
            throw new ArgumentException($"TLB ways must divide the {entries} entries, not {ways}", nameof(ways));
        _ways = ways;
        _setMask = entries / ways - 1;
        _entries = new Entry[entries];
    }

    public int Capacity => _entries.Length;

    public bool TryLookup(Asid asid, PageNumber page, out Translation translation)
    {
        var set = SetOf(page);
        for (var i = set; i < set + _ways; i++)
        {
            ref var e = ref _entries[i];
            if (e.Valid && e.Page == page && e.Asid == asid)
            {
                e.LastUse = ++_tick;
                translation = e.Translation;
                return true;
            }
        }
        translation = default;
        return false;
    }

    public void Fill(Asid asid, PageNumber page, Translation translation)
    {
        var set = SetOf(page);
        var victim = set;
        for (var i = set; i < set + _ways; i++)
        {
            ref var e = ref _entries[i];
            if (e.Valid && e.Page == page && e.Asid == asid)
            {
                victim = i;
                break;
            }
            if (!e.Valid || (_entries[victim].Valid && e.LastUse < _entries[victim].LastUse))
                victim = i;
        }
        _entries[victim] = new Entry { Valid = true, Asid = asid, Page = page, Translation = translation, LastUse = ++_tick };
    }

    /// <summary>invlpg: drops the entry for one page. Returns whether one was cached.</summary>
    public bool Invalidate(Asid asid, PageNumber page)
    {
        var set = SetOf(page);
        for (var i = set; i < set + _ways; i++)
        {
            ref var e = ref _entries[i];
            if (e.Valid && e.Page == page && e.Asid == asid)
            {
                e.Valid = false;
                return true;
            }
        }
        return false;
    }

    /// <summary>Drops the entries of [<paramref name="from"/>, <paramref name="to"/>) in one address space.</summary>
    public void InvalidateRange(Asid asid, PageNumber from, PageNumber to)
    {
        if (to - from > (ulong)_entries.Length)
        {
            for (var i = 0; i < _entries.Length; i++)
            {
                ref var e = ref _entries[i];
                if (e.Valid && e.Asid == asid && e.Page >= from && e.Page < to)
                    e.Valid = false;
            }
            return;
        }
        for (var page = from; page < to; page += 1)
            Invalidate(asid, page);
    }

    /// <summary>Drops every entry of one address space.</summary>
    public void InvalidateAsid(Asid asid)
    {
        for (var i = 0; i < _entries.Length; i++)
        {
            if (_entries[i].Asid == asid)
                _entries[i].Valid = false;
        }
    }

    private int SetOf(PageNumber page) => (int)(page.Value & (ulong)_setMask) * _ways;

    private struct Entry
    {
        public bool Valid;
        public Asid Asid;
        public PageNumber Page;
        public Translation Translation;
        public ulong LastUse;
    }
}

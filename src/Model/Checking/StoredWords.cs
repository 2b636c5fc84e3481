using Faultsim.Model.Common;

namespace Faultsim.Model.Checking;

/// <summary>
/// The last value stored to each word of the pages of one owner (a process's memory, or a file's pages), as the monitor
/// expects memory to hold them: one flat map keyed by page and word, so a run of millions of pages costs a few
/// bytes a word stored and no object per page.
/// </summary>
public sealed class StoredWords
{
    /// <summary>Words a page can have (words-per-page is at most 512): the low 9 bits of a key.</summary>
    private const int WordBits = 9;

    private readonly ULongMap _words;
    private int _wordsSeen;     // one more than the highest word ever stored: how many a page's removal looks at

    public StoredWords() => _words = new ULongMap();

    private StoredWords(StoredWords other)
    {
        _words = new ULongMap(other._words);
        _wordsSeen = other._wordsSeen;
    }

    public int Count => _words.Count;

    public void Set(ulong page, int word, ulong value)
    {
        _words.Set(Key(page, word), value);
        _wordsSeen = Math.Max(_wordsSeen, word + 1);
    }

    public bool TryGet(ulong page, int word, out ulong value) => _words.TryGetValue(Key(page, word), out value);

    /// <summary>Forgets every word of the page.</summary>
    public void RemovePage(ulong page)
    {
        for (var word = 0; word < _wordsSeen; word++)
            _words.Remove(Key(page, word));
    }

    /// <summary>Each From page's words are the To page's now (mremap moved the pages; no two moves share a page).</summary>
    public void MovePages(IEnumerable<(ulong From, ulong To)> moves)
    {
        var moved = new List<(ulong Page, int Word, ulong Value)>();
        foreach (var (from, to) in moves)
        {
            for (var word = 0; word < _wordsSeen; word++)
            {
                if (_words.TryGetValue(Key(from, word), out var value))
                    moved.Add((to, word, value));
            }
            RemovePage(from);
        }
        foreach (var (page, word, value) in moved)
            Set(page, word, value);
    }

    /// <summary>
    /// Each page that <paramref name="from"/> holds words of is replaced by its copy (a forked child starts with its
    /// parent's memory); pages only this one holds stay.
    /// </summary>
    public StoredWords WithPagesOf(StoredWords from)
    {
        if (Count == 0)
            return new StoredWords(from);
        foreach (var (key, _) in from._words.Entries())
            RemovePage(key >> WordBits);
        foreach (var (key, value) in from._words.Entries())
            Set(key >> WordBits, (int)(key & ((1 << WordBits) - 1)), value);
        return this;
    }

    /// <summary>
    /// The first (page, word, value) in page then word order, among the words below <paramref name="wordsPerPage"/>, whose
    /// stored value <paramref name="actual"/> does not show; null when every one does.
    /// </summary>
    public (ulong Page, int Word, ulong Value)? FirstDifference(int wordsPerPage, Func<ulong, int, ulong> actual)
    {
        (ulong Key, ulong Value)? first = null;
        foreach (var (key, value) in _words.Entries())
        {
            if (first is { } f && key >= f.Key)
                continue;
            var (page, word) = (key >> WordBits, (int)(key & ((1 << WordBits) - 1)));
            if (word < wordsPerPage && actual(page, word) != value)
                first = (key, value);
        }
        return first is { } found ? (found.Key >> WordBits, (int)(found.Key & ((1 << WordBits) - 1)), found.Value) : null;
    }

    private static ulong Key(ulong page, int word)
    {
        if ((uint)word >= 1 << WordBits || page >= 1UL << (64 - WordBits))
            throw new ArgumentOutOfRangeException(nameof(word), $"page 0x{page:x} word {word} is beyond what a store can address");
        return (page << WordBits) | (uint)word;
    }
}

using System.Collections;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Faultsim.Model.Addressing;

namespace Faultsim.Model.Machine;

/// <summary>
/// The pages of a <see cref="MemoryImage"/>, in (pid, page) order, packed: their page numbers in one array, their pids as
/// runs, and their words left where they were read, in one flat array of <see cref="WordsPerPage"/> words a page. A
/// <see cref="PageImage"/> is made only when one is asked for, so an image of millions of pages costs little more
/// than its words.
/// </summary>
[CollectionBuilder(typeof(PageImages), nameof(Create))]
public sealed class PageImages : IReadOnlyList<PageImage>
{
    public static readonly PageImages Empty = new(ImmutableArray<ulong>.Empty, 1, [], [], null);

    private readonly ImmutableArray<ulong> _words;
    private readonly (ProcessId Pid, int First)[] _runs;    // the pid of pages First.. (up to the next run)
    private readonly ulong[] _pages;
    private readonly int[]? _source;                         // each page's place among the pages read; null when the same

    private PageImages(ImmutableArray<ulong> words, int wordsPerPage, (ProcessId, int)[] runs, ulong[] pages, int[]? source)
    {
        (_words, WordsPerPage, _runs, _pages, _source) = (words, wordsPerPage, runs, pages, source);
    }

    public int WordsPerPage { get; }

    public int Length => _pages.Length;
    public int Count => _pages.Length;

    public PageImage this[int index] => new(PidAt(index), new PageNumber(_pages[index]), [.. WordsAt(index)]);

    /// <summary>The words of the page at <paramref name="index"/>, without copying them.</summary>
    public ReadOnlySpan<ulong> WordsAt(int index) =>
        _words.AsSpan().Slice((_source is null ? index : _source[index]) * WordsPerPage, WordsPerPage);

    public ProcessId PidAt(int index)
    {
        var (low, high) = (0, _runs.Length - 1);
        while (low < high) // the last run starting at or before index
        {
            var middle = (low + high + 1) / 2;
            if (_runs[middle].First <= index) low = middle; else high = middle - 1;
        }
        return _runs[low].Pid;
    }

    public PageNumber PageAt(int index) => new(_pages[index]);

    /// <summary>Where the page of <paramref name="pid"/> at <paramref name="page"/> is, or -1 where the image has none.</summary>
    public int IndexOf(ProcessId pid, PageNumber page)
    {
        for (var r = 0; r < _runs.Length; r++)
        {
            if (_runs[r].Pid != pid)
                continue;
            var end = r + 1 < _runs.Length ? _runs[r + 1].First : _pages.Length;
            var at = Array.BinarySearch(_pages, _runs[r].First, end - _runs[r].First, page.Value);
            return at >= 0 ? at : -1;
        }
        return -1;
    }

    /// <summary>
    /// The pages of an image from pages read: <paramref name="pages"/> named in the order their words lie in
    /// <paramref name="words"/> (<paramref name="wordsPerPage"/> each), those all zero left out, in (pid, page) order.
    /// The words are kept, not copied.
    /// </summary>
    public static PageImages Of(IEnumerable<(ProcessId Pid, PageNumber Page)> pages, ImmutableArray<ulong> words, int wordsPerPage)
    {
        var read = words.Length / wordsPerPage;
        var counted = 0;
        for (var i = 0; i < read; i++)
            counted += MemoryImage.Counts(words.AsSpan().Slice(i * wordsPerPage, wordsPerPage)) ? 1 : 0;
        var numbers = new ulong[counted];
        var source = counted == read ? null : new int[counted];
        var runs = new List<(ProcessId, int)>();
        var (at, kept) = (0, 0);
        foreach (var (pid, page) in pages)
        {
            if (MemoryImage.Counts(words.AsSpan().Slice(at * wordsPerPage, wordsPerPage)))
            {
                if (kept > 0 && (runs[^1].Item1.Value > pid.Value || (runs[^1].Item1 == pid && numbers[kept - 1] >= page.Value)))
                    return Sorted(pages, words, wordsPerPage); // not read in (pid, page) order
                if (kept == 0 || runs[^1].Item1 != pid)
                    runs.Add((pid, kept));
                numbers[kept] = page.Value;
                if (source is not null)
                    source[kept] = at;
                kept++;
            }
            at++;
        }
        if (at != read)
            throw new ArgumentException($"{at} pages named, but {words.Length} words of {wordsPerPage} a page", nameof(words));
        return new PageImages(words, wordsPerPage, [.. runs], numbers, source);
    }

    /// <summary>Pages given one by one, kept as they are given (tests, small images).</summary>
    public static PageImages Create(ReadOnlySpan<PageImage> pages)
    {
        var wordsPerPage = pages.Length == 0 ? 1 : pages[0].Words.Length;
        var words = ImmutableArray.CreateBuilder<ulong>(pages.Length * wordsPerPage);
        var runs = new List<(ProcessId, int)>();
        var numbers = new ulong[pages.Length];
        for (var i = 0; i < pages.Length; i++)
        {
            if (pages[i].Words.Length != wordsPerPage)
                throw new ArgumentException($"pages of {wordsPerPage} and {pages[i].Words.Length} words in one image", nameof(pages));
            words.AddRange(pages[i].Words);
            if (i == 0 || pages[i - 1].Pid != pages[i].Pid)
                runs.Add((pages[i].Pid, i));
            numbers[i] = pages[i].Page.Value;
        }
        return new PageImages(words.MoveToImmutable(), wordsPerPage, [.. runs], numbers, null);
    }

    private static PageImages Sorted(IEnumerable<(ProcessId Pid, PageNumber Page)> pages, ImmutableArray<ulong> words, int wordsPerPage) =>
        Create([.. pages.Select((p, i) => new PageImage(p.Pid, p.Page, words.Slice(i * wordsPerPage, wordsPerPage)))
            .Where(p => MemoryImage.Counts(p.Words.AsSpan())).OrderBy(p => p.Pid.Value).ThenBy(p => p.Page.Value)]);

    public IEnumerator<PageImage> GetEnumerator()
    {
        for (var i = 0; i < Length; i++)
            yield return this[i];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

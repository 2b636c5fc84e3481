using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Common;
using Faultsim.Model.Storage;

namespace Faultsim.Model.Machine;

/// <summary>One page of a live process's private memory at the end of a run, with its content.</summary>
public sealed record PageImage(ProcessId Pid, PageNumber Page, ImmutableArray<ulong> Words)
{
    public override string ToString() => $"{Pid} {Page}: [{string.Join(' ', Words.Select(w => w.ToString("x")))}]";
}

/// <summary>One page of a file whose content a run changed, with that content.</summary>
public sealed record FilePageImage(string File, ulong Index, ImmutableArray<ulong> Words)
{
    public override string ToString() => $"{File} page {Index}: [{string.Join(' ', Words.Select(w => w.ToString("x")))}]";
}

/// <summary>
/// What a run left in memory, as the processes would read it — the same whatever the interleaving or the
/// evictions, on any engine: every page of anonymous memory (present or swapped out) of each live process
/// that is not all zeroes, in (pid, page) order, and every file page whose content differs from the
/// file's original (in the page cache or written back), in (file, page) order.
/// </summary>
public sealed record MemoryImage(PageImages Pages, ImmutableArray<FilePageImage> Files)
{
    /// <summary>
    /// The image of a run: <paramref name="pages"/> of the live processes (<see cref="PageImages.Of"/>: those not all
    /// zero), and the file pages changed — those written back, under those still in the page cache (which are newer) —
    /// named by <paramref name="fileName"/>.
    /// </summary>
    public static MemoryImage Of(PageImages pages, IEnumerable<(FilePage Page, ulong[] Words)> written,
        IEnumerable<(FilePage Page, ulong[] Words)> cached, Func<FileId, string> fileName)
    {
        var files = new Dictionary<FilePage, ulong[]>();
        foreach (var (page, words) in written.Concat(cached))
            files[page] = words; // the page cache is newer than what was written back
        return new MemoryImage(pages,
            [.. files.Where(f => Changed(f.Key, f.Value)).OrderBy(f => f.Key.File.Value).ThenBy(f => f.Key.Index)
                .Select(f => new FilePageImage(fileName(f.Key.File), f.Key.Index, [.. f.Value]))]);
    }

    /// <summary>Word <paramref name="word"/> of the page of <paramref name="pid"/> at <paramref name="page"/>: 0 where the image has no such page (it is all zeroes).</summary>
    public ulong Word(ProcessId pid, PageNumber page, int word) =>
        Pages.IndexOf(pid, page) is >= 0 and var at ? Pages.WordsAt(at)[word] : 0UL;

    /// <summary>Whether a page of anonymous memory with these words belongs in the image.</summary>
    public static bool Counts(ReadOnlySpan<ulong> words) => words.ContainsAnyExcept(0UL);

    /// <summary>Whether a file page with these words belongs in the image: it differs from the file's original content.</summary>
    public static bool Changed(FilePage page, ReadOnlySpan<ulong> words)
    {
        for (var w = 0; w < words.Length; w++)
        {
            if (words[w] != FileStore.InitialWord(page, w))
                return true;
        }
        return false;
    }

    /// <summary>An FNV-1a hash over pids, pages, files and words: equal images have equal hashes.</summary>
    public ulong Hash
    {
        get
        {
            var h = Fnv1a.Offset;
            for (var i = 0; i < Pages.Length; i++)
            {
                h = Mix(h, (ulong)Pages.PidAt(i).Value);
                h = Mix(h, Pages.PageAt(i).Value);
                foreach (var word in Pages.WordsAt(i))
                    h = Mix(h, word);
            }
            foreach (var page in Files)
            {
                foreach (var c in page.File)
                    h = Mix(h, c);
                h = Mix(h, page.Index);
                foreach (var word in page.Words)
                    h = Mix(h, word);
            }
            return h;
        }
    }

    private static ulong Mix(ulong h, ulong value) => Fnv1a.Mix(h, value);

    /// <summary>The first difference from <paramref name="other"/>, or null when equal: for test messages.</summary>
    public string? FirstDifference(MemoryImage other) =>
        FirstDifference(Pages, other.Pages, (a, b) => a.Pid == b.Pid && a.Page == b.Page && a.Words.SequenceEqual(b.Words), "pages")
        ?? FirstDifference(Files, other.Files, (a, b) => a.File == b.File && a.Index == b.Index && a.Words.SequenceEqual(b.Words), "file pages");

    private static string? FirstDifference<T>(IReadOnlyList<T> mine, IReadOnlyList<T> theirs, Func<T, T, bool> same, string what)
    {
        var n = Math.Min(mine.Count, theirs.Count);
        for (var i = 0; i < n; i++)
        {
            if (!same(mine[i], theirs[i]))
                return $"{mine[i]} vs {theirs[i]}";
        }
        return mine.Count == theirs.Count ? null : $"{mine.Count} {what} vs {theirs.Count}";
    }
}

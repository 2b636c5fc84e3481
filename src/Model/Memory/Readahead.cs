using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Storage;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Memory;

/// <summary>
/// How the page cache reads and maps file pages around a fault, in pages: fault-around (Linux's fault_around_bytes, 64 KiB)
/// and readahead (the bdi's read_ahead_kb: the first window of a major fault, and the most a window grows to).
/// </summary>
/// <param name="FaultAroundPages">A read fault on a file page maps the cached pages of its aligned window of this many pages; 0 or 1: none.</param>
/// <param name="WindowPages">The pages a major fault reads in its one disk request; 0: the faulting page alone (no readahead).</param>
/// <param name="MaxPages">The most pages a window grows to on sequential hits (at least <paramref name="WindowPages"/>).</param>
public readonly record struct ReadaheadRules(int FaultAroundPages, int WindowPages, int MaxPages)
{
    /// <summary>Linux's defaults: 64 KiB fault-around, 128 KiB readahead windows that do not grow past 128 KiB.</summary>
    public static readonly ReadaheadRules Linux = new(16, 32, 32);

    /// <summary>Neither: every major fault reads its page alone, and every fault maps one page (a textbook kernel).</summary>
    public static readonly ReadaheadRules Off = new(0, 0, 0);

    /// <summary>The most pages fault-around may span: one page table's (Linux: fault_around_bytes at most PTRS_PER_PTE pages).</summary>
    public const int MaxFaultAroundPages = 512;

    public bool FaultsAround => FaultAroundPages > 1;
}

/// <summary>
/// One readahead window: file pages [<see cref="Start"/>, <see cref="Start"/> + <see cref="Size"/>) of one file, read in one
/// disk request, and the page that carries its async-readahead marker (PG_readahead), if any.
/// </summary>
public readonly record struct ReadaheadWindow(FileId File, ulong Start, int Size, ulong? Marker)
{
    public IEnumerable<FilePage> Pages
    {
        get
        {
            for (var i = 0UL; i < (ulong)Size; i++)
                yield return new FilePage(File, Start + i);
        }
    }
}

/// <summary>
/// The page cache's read policy, as Linux's mm/filemap.c and mm/readahead.c have it, written once for both engines: which
/// pages a major fault reads (its window), where the async-readahead marker goes and which window its hit reads next, what
/// madvise(MADV_WILLNEED) reads, and which cached neighbours a read fault maps (fault-around).
/// </summary>
public static class Readahead
{
    /// <summary>
    /// The window a major fault on <paramref name="page"/> reads (do_sync_mmap_readahead): none but the page under
    /// MADV_RANDOM or with readahead off; from the page on, its marker halfway, under MADV_SEQUENTIAL; otherwise the
    /// read-around window centred on the page, its marker a quarter from its end. Clamped to the file's end.
    /// </summary>
    /// <param name="shmem">The file is shmem (its pages come back from swap one at a time): the page alone.</param>
    public static ReadaheadWindow ForMajorFault(FilePage page, ulong fileSize, VmaFlags flags, ReadaheadRules rules, bool shmem)
    {
        if (rules.WindowPages <= 1 || (flags & VmaFlags.RandomRead) != 0 || shmem)
            return new ReadaheadWindow(page.File, page.Index, 1, null);
        var size = rules.WindowPages;
        if ((flags & VmaFlags.SequentialRead) != 0)
            return Clamped(page.File, page.Index, size, size / 2, fileSize);
        var start = page.Index - Math.Min(page.Index, (ulong)size / 2);
        return Clamped(page.File, start, size, size / 4, fileSize);
    }

    /// <summary>
    /// The window a hit on <paramref name="marked"/>'s marker reads (page_cache_async_ra): the next one, grown
    /// (<see cref="Grown"/>), its marker on its first page; null past the file's end or under MADV_RANDOM.
    /// </summary>
    public static ReadaheadWindow? AfterMarker(ReadaheadWindow marked, ulong fileSize, VmaFlags flags, ReadaheadRules rules)
    {
        if ((flags & VmaFlags.RandomRead) != 0 || rules.WindowPages <= 1)
            return null;
        var size = Grown(marked.Size, rules.MaxPages);
        var next = Clamped(marked.File, marked.Start + (ulong)marked.Size, size, size, fileSize);
        return next.Size > 0 ? next : null;
    }

    /// <summary>get_next_ra_size: a window grows fourfold while small, then twofold, up to <paramref name="max"/>.</summary>
    public static int Grown(int size, int max) =>
        size < max / 16 ? 4 * size : size <= max / 2 ? 2 * size : Math.Max(max, size);

    /// <summary>
    /// madvise(MADV_WILLNEED) over file pages [<paramref name="first"/>, <paramref name="end"/>) (force_page_cache_ra):
    /// windows of at most the maximum size, each one disk request, no markers; clamped to the file's end.
    /// </summary>
    public static IEnumerable<ReadaheadWindow> WillNeed(FileId file, ulong first, ulong end, ulong fileSize, ReadaheadRules rules)
    {
        var pages = PagesIn(fileSize);
        end = Math.Min(end, pages);
        var chunk = (ulong)Math.Max(1, rules.MaxPages);
        for (var start = first; start < end; start += chunk)
            yield return new ReadaheadWindow(file, start, (int)Math.Min(chunk, end - start), null);
    }

    /// <summary>
    /// Whether a fault of <paramref name="access"/> in <paramref name="vma"/>, carried out as <paramref name="effect"/>, maps the cached pages around it
    /// (do_read_fault's do_fault_around): a read or an instruction fetch (never a write) of a file page that maps the
    /// page-cache page itself — cached, read from disk (the retried fault maps around), or a shared-memory page made now.
    /// </summary>
    public static bool FaultsAround(AccessKind access, Vma vma, FaultEffect effect, ReadaheadRules rules) =>
        rules.FaultsAround && access != AccessKind.Write && vma is { Backing: Backing.File }
        && effect is FaultEffect.MapCached { FromSwapCache: false }
            or FaultEffect.Read { CopyForWrite: false, Source: PageSource.FromFile }
            or FaultEffect.ZeroInPageCache;

    /// <summary>
    /// The pages fault-around covers for a fault at <paramref name="address"/> in <paramref name="vma"/>: its window of
    /// <see cref="ReadaheadRules.FaultAroundPages"/> pages aligned in the address space (so within one page table), within
    /// the VMA and not past the file's end.
    /// </summary>
    public static (PageNumber From, PageNumber To) FaultAroundRange(VirtualAddress address, Vma vma, ulong fileSize, ReadaheadRules rules)
    {
        var n = (ulong)rules.FaultAroundPages;
        var page = address.Page.Value;
        var from = Math.Max(page - page % n, vma.FirstPage.Value);
        var to = Math.Min(page - page % n + n, vma.EndPage.Value);
        if (vma.FilePageOf(address.Page) is { } filePage)
        {
            var pagesLeft = PagesIn(fileSize) - Math.Min(PagesIn(fileSize), filePage.Index); // the faulting page is within the file
            to = Math.Min(to, page + pagesLeft);
        }
        return (new PageNumber(from), new PageNumber(Math.Max(from, to)));
    }

    /// <summary>The pages a file of <paramref name="fileSize"/> bytes has (the last one partial).</summary>
    public static ulong PagesIn(ulong fileSize) =>
        fileSize == ulong.MaxValue ? ulong.MaxValue / VirtualAddress.PageSize : (fileSize + VirtualAddress.PageSize - 1) / VirtualAddress.PageSize;

    /// <summary>A window of <paramref name="size"/> pages from <paramref name="start"/>, its marker <paramref name="async"/> pages from its end, cut at the file's end.</summary>
    private static ReadaheadWindow Clamped(FileId file, ulong start, int size, int async, ulong fileSize)
    {
        var pages = PagesIn(fileSize);
        var n = start >= pages ? 0 : (int)Math.Min((ulong)size, pages - start);
        // page_cache_ra_unbounded marks page n - async of the pages it reads: none when the window was cut shorter than that.
        ulong? marker = async > 0 && async <= n ? start + (ulong)(n - async) : null;
        return new ReadaheadWindow(file, start, n, marker);
    }
}

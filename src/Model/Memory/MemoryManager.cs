using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Faults;
using Faultsim.Model.Frames;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;
using Faultsim.Model.Replacement;
using Faultsim.Model.Storage;

namespace Faultsim.Model.Memory;

/// <summary>What memory did for one process: pages zeroed and copied for its faults, evicted and written out by its reclaim.</summary>
public sealed class MemoryCounts
{
    public long Zeroed { get; set; }
    public long Copied { get; set; }
    public long Evicted { get; set; }
    public long DiskWrites { get; set; }
    /// <summary>Disk requests memory made on the process's behalf, beside its faults' reads: async readahead (a marker's hit) and madvise(MADV_WILLNEED).</summary>
    public long DiskReads { get; set; }

    /// <summary>The counts as they are now, as one value (what a run adds to the process's <see cref="Counters"/>).</summary>
    public MemoryTotals Totals => new(Zeroed, Copied, Evicted, DiskWrites, DiskReads);
}

/// <summary>What memory counted for one process, as one value: see <see cref="MemoryCounts"/>.</summary>
public readonly record struct MemoryTotals(long Zeroed, long Copied, long Evicted, long DiskWrites, long DiskReads);

/// <summary>
/// The kernel's memory management, for every engine alike: frames with the page cache and the swap cache, swap space,
/// the replacement policy and reclaim. The reference machine calls it one step at a time; the memory actor calls it as
/// the messages of its protocols arrive. It decides what happens to frames and slots; page tables and TLBs are the
/// callers' (an eviction says which PTEs to replace and with what, and waits to be told they were).
/// </summary>
public sealed class MemoryManager
{
    private readonly Dictionary<ProcessId, MemoryCounts> _counts = [];
    private readonly HashSet<FrameNumber> _evicting = [];
    private readonly HashSet<FrameNumber> _swapReads = [];   // frames reserved for a swap-in whose read is not yet done
    private readonly FileTable? _files;
    private readonly HashSet<FilePage> _shmemWritten = [];   // shared-memory pages written out: they have content on disk
    private readonly HashSet<FrameNumber> _fileReads = [];   // page-cache frames whose read is not yet done (locked, not uptodate)
    private readonly Dictionary<FilePage, ReadaheadWindow> _markers = []; // pages with PG_readahead set, and the window that set it
    private readonly HashSet<(PageKey Page, FrameNumber Frame)> _locked = []; // mappings in a locked VMA: each pins its frame (mlock)
    private long _evictions;

    /// <param name="readahead">Fault-around and readahead sizes (<see cref="ReadaheadRules.Off"/> unless given).</param>
    /// <param name="files">The machine's files, which tell shmem (tmpfs) files from disk ones; none: only shared-memory objects are shmem.</param>
    public MemoryManager(int frameLimit, int wordsPerPage, IReplacementPolicy policy, ReadaheadRules readahead = default, FileTable? files = null)
    {
        _files = files;
        Frames = new PhysicalMemory(frameLimit, wordsPerPage, policy);
        Swap = new SwapSpace(wordsPerPage);
        Limited = frameLimit > 0;
        ReadaheadRules = readahead;
    }

    public ReadaheadRules ReadaheadRules { get; }

    public PhysicalMemory Frames { get; }
    public SwapSpace Swap { get; }

    /// <summary>Whether frames are limited: only then does reclaim choose victims, and only then is recency followed.</summary>
    public bool Limited { get; }

    /// <summary>Whether the next frame needs an eviction first.</summary>
    public bool IsFull => Frames.IsFull;

    /// <summary>Whether some frame may be chosen for eviction now.</summary>
    public bool CanEvict => Frames.Evictable > 0;

    /// <summary>
    /// Whether an eviction holds the frame (Linux's reclaim holds the folio lock until it is done): until its PTEs are
    /// shot down, CPUs may still write the page through their TLBs, so nothing may copy it meanwhile.
    /// </summary>
    public bool IsEvicting(FrameNumber frame) => _evicting.Contains(frame);

    public MemoryCounts CountsOf(ProcessId pid) => _counts.TryGetValue(pid, out var counts) ? counts : _counts[pid] = new();

    public IReadOnlyDictionary<ProcessId, MemoryCounts> Counts => _counts;

    /// <summary>The memory facts the fault decision reads for <paramref name="f"/> (<see cref="MemoryQuery.For"/>), filled in.</summary>
    public FaultInput Complete(in FaultInput f) => MemoryQuery.For(f) switch
    {
        MemoryQuery.OfFrame frame => f with { Frame = Frames.Facts(frame.Frame) },
        MemoryQuery.OfFile file when Cached(file) is null => f with { FileHole = IsHole(file) },
        { } query => f with { CachedFrame = Cached(query) },
        null => f,
    };

    /// <summary>Whether <paramref name="query"/> names a hole: a shmem page with no content on disk, made zeroed in the page cache instead of read.</summary>
    public bool IsHole(MemoryQuery query) => query is MemoryQuery.OfFile file && !HasContent(file.Page);

    /// <summary>Whether the file page has content on disk: every page of a file does, a shared-memory object's once written out.</summary>
    public bool HasContent(FilePage page) => !IsShmem(page.File) || _shmemWritten.Contains(page);

    /// <summary>Whether the file is shmem (a shared-memory object, a tmpfs file): no disk content until a page is written out, read a page at a time.</summary>
    public bool IsShmem(FileId file) => _files?.IsShmemFile(file) ?? FileTable.IsShmem(file);

    /// <summary>A shared-memory page never written out is made zeroed in the frame reserved for it (no disk read).</summary>
    public void FillHole(FrameNumber frame, ProcessId pid)
    {
        Span<ulong> zeroes = stackalloc ulong[Frames.WordsPerPage];
        zeroes.Clear();
        Frames.Fill(frame, zeroes);
        _fileReads.Remove(frame); // filled: fault-around may map it now
        CountsOf(pid).Zeroed++;
    }

    /// <summary>The frame that already holds the page <paramref name="query"/> names: the page cache's or the swap cache's.</summary>
    public FrameNumber? Cached(MemoryQuery query) => query switch
    {
        MemoryQuery.OfFile file => Frames.LookupPageCache(file.Page),
        MemoryQuery.OfSwap swap => Frames.LookupSwapCache(swap.Slot),
        _ => null,
    };

    /// <summary>A swap entry read before its slot was freed (and maybe reused): the PTE changed since, the fault must look again.</summary>
    public bool IsStale(SwapSlot slot) => !Swap.IsAllocated(slot);

    /// <summary>A fresh zero-filled frame for a fault of <paramref name="pid"/>; the caller made room first.</summary>
    public FrameNumber NewZeroed(ProcessId pid)
    {
        CountsOf(pid).Zeroed++;
        return Frames.AllocateAnonymous();
    }

    /// <summary>A new anonymous frame holding a copy of <paramref name="source"/> (a copy of the zero page is a zero fill).</summary>
    public FrameNumber NewCopy(FrameNumber source, ProcessId pid)
    {
        var copy = Frames.AllocateAnonymous();
        if (source == FrameNumber.Zero)
        {
            CountsOf(pid).Zeroed++;
        }
        else
        {
            Frames.Copy(source, copy);
            CountsOf(pid).Copied++;
        }
        return copy;
    }

    /// <summary>
    /// A frame for a disk read of <paramref name="source"/>, entered in the page cache or the swap cache now so that other
    /// faults on the page find it (and wait for the read); the caller made room first.
    /// </summary>
    public FrameNumber ReserveRead(PageSource source)
    {
        if (source is PageSource.FromFile file)
        {
            var cached = Frames.AllocatePageCache(file.Page);
            _fileReads.Add(cached);
            return cached;
        }
        var frame = Frames.AllocateAnonymous();
        AddToSwapCache(frame, ((PageSource.FromSwap)source).Slot);
        _swapReads.Add(frame);
        return frame;
    }

    /// <summary>The read is done: the frame holds the page (a file's content as read; a swap slot's from swap space).</summary>
    public void FillRead(FrameNumber frame, PageSource source, ReadOnlySpan<ulong> fileContent)
    {
        _swapReads.Remove(frame);
        _fileReads.Remove(frame);
        if (source is PageSource.FromSwap swap)
            Frames.Fill(frame, Swap.Read(swap.Slot));
        else
            Frames.Fill(frame, fileContent);
    }

    /// <summary>A reserved read will not happen (an I/O error, an abandoned fault): the frame leaves its cache.</summary>
    public void CancelRead(FrameNumber frame, PageSource source)
    {
        _swapReads.Remove(frame);
        _fileReads.Remove(frame);
        if (source is PageSource.FromFile file)
        {
            _markers.Remove(file.Page);
            Frames.RemoveFromPageCache(frame);
        }
        else
            RemoveFromSwapCache(frame);
    }

    /// <summary>Frees a frame allocated for a fault that was abandoned before anything mapped it.</summary>
    public void FreeUnused(FrameNumber frame) => Frames.FreeUnused(frame);

    /// <summary>
    /// A PTE of <paramref name="page"/> maps the frame now (its reference); <paramref name="locked"/> when its VMA is locked
    /// (VM_LOCKED), and then the frame is never chosen for reclaim while that PTE maps it (<see cref="Lock"/>).
    /// </summary>
    public void Map(FrameNumber frame, PageKey page, bool locked = false)
    {
        Frames.Map(frame, page);
        if (locked)
            Lock(page, frame);
    }

    /// <summary>That PTE was not installed after all: its reference goes (the frame is freed if nothing else holds it).</summary>
    public void Unmap(FrameNumber frame, PageKey page) => Unmapping(frame, page);

    /// <summary>
    /// mlock: the PTE of <paramref name="page"/>, which maps <paramref name="frame"/>, is in a locked VMA now; the frame is
    /// unevictable (Linux's mlocked folio on the unevictable list) until every such PTE is unlocked or gone. Reclaim passes
    /// it over; when every frame is so, a fault that needs one finds nothing to evict and the OOM killer ends its process.
    /// </summary>
    public void Lock(PageKey page, FrameNumber frame)
    {
        // Keyed by page and frame: a COW break in a locked VMA maps the copy (locked) before the old frame's reference goes.
        if (frame != FrameNumber.Zero && _locked.Add((page, frame)))
            Frames.Pin(frame);
    }

    /// <summary>munlock: the PTE of <paramref name="page"/> that maps <paramref name="frame"/> is no longer in a locked VMA; the frame may be reclaimed again unless another locked PTE maps it.</summary>
    public void Unlock(PageKey page, FrameNumber frame)
    {
        if (_locked.Remove((page, frame)))
            Frames.Unpin(frame);
    }

    /// <summary>
    /// mremap moved these PTEs of <paramref name="asid"/>: each frame is mapped at its new page instead of its old one (the
    /// reverse map follows, a lock too: <paramref name="locked"/> when the moved region is locked); swap slots are unchanged.
    /// </summary>
    public void Move(Asid asid, IEnumerable<PageMove> moves, bool locked)
    {
        foreach (var move in moves)
        {
            if (!move.Pte.HoldsFrame)
                continue;
            Map(move.Pte.Frame, new PageKey(asid, move.To), locked);
            Unmapping(move.Pte.Frame, new PageKey(asid, move.From));
        }
    }

    private void Unmapping(FrameNumber frame, PageKey page)
    {
        // The page's last reference to the frame takes its lock along (before the frame may be freed). Another reference of
        // the same page to the same frame — a fault mapped it again before the release of the old one came — keeps it.
        if (_locked.Contains((page, frame)) && Frames.Mappers(frame).Count(m => m == page) == 1)
            Unlock(page, frame);
        Frames.Unmap(frame, page);
    }

    /// <summary>The frame may be chosen for eviction from now on — unless an eviction holds it, which puts it back itself.</summary>
    public void Activate(FrameNumber frame)
    {
        if (!_evicting.Contains(frame))
            Frames.Activate(frame);
    }

    /// <summary>
    /// Reserves the reads of <paramref name="window"/>'s pages besides <paramref name="except"/> (the faulting page, read
    /// by its own reservation) that are neither cached nor holes, in frames that are free now: readahead's allocations do
    /// not reclaim, so under a frame limit the window ends where free frames do. The window's marker is set on its page,
    /// if that page is read now. Each reserved frame is filled (<see cref="FillRead"/>) or cancelled (<see cref="CancelRead"/>).
    /// A request of memory's own (a marker's hit, MADV_WILLNEED) names the process it reads for, <paramref name="requestOf"/>:
    /// when it reserves anything, it is one disk read of that process's; the pages a major fault reads along are part of the
    /// fault's request (null).
    /// </summary>
    public IReadOnlyList<(FilePage Page, FrameNumber Frame)> ReserveAhead(ReadaheadWindow window, FilePage? except, ProcessId? requestOf = null)
    {
        List<(FilePage, FrameNumber)>? reserved = null;
        foreach (var page in window.Pages)
        {
            if (page == except || Frames.LookupPageCache(page) is not null || !HasContent(page))
                continue;
            if (IsFull)
                break;
            var frame = ReserveRead(new PageSource.FromFile(page));
            if (window.Marker == page.Index)
                _markers[page] = window;
            (reserved ??= []).Add((page, frame));
        }
        if (reserved is null)
            return [];
        if (requestOf is { } pid)
            CountsOf(pid).DiskReads++;
        return reserved;
    }

    /// <summary>
    /// A fault found <paramref name="page"/> in the page cache (do_async_mmap_readahead): when the page carries a marker,
    /// the marker goes and the next window is returned, for the caller to read in one request (<see cref="ReserveAhead"/>);
    /// null when it carries none, or under MADV_RANDOM (which leaves the marker).
    /// </summary>
    public ReadaheadWindow? HitMarker(FilePage page, ulong fileSize, Vmas.VmaFlags flags)
    {
        if ((flags & Vmas.VmaFlags.RandomRead) != 0 || !_markers.Remove(page, out var window))
            return null;
        return Readahead.AfterMarker(window, fileSize, flags, ReadaheadRules);
    }

    /// <summary>Whether <paramref name="page"/> carries an async-readahead marker (PG_readahead).</summary>
    public bool IsMarked(FilePage page) => _markers.ContainsKey(page);

    /// <summary>
    /// Fault-around (filemap_map_pages) for a fault at <paramref name="address"/> in <paramref name="vma"/> that <paramref name="effect"/>
    /// resolves: none unless it faults around (<see cref="Readahead.FaultsAround"/>), else the pages of its window besides
    /// the faulting one whose file page is in the page cache, read (not locked by a read in flight), not under eviction,
    /// without a marker and not in <paramref name="skip"/> — for the caller to map where their PTE is empty
    /// (<see cref="MapsAround"/>), without a fault. Both engines ask it, so which neighbours map is one rule.
    /// </summary>
    public IReadOnlyList<(PageNumber Page, FrameNumber Frame)> AroundFault(VirtualAddress address, AccessKind access, Vmas.Vma vma, ulong fileSize,
        FaultEffect effect, IReadOnlySet<FilePage>? skip)
    {
        if (!Readahead.FaultsAround(access, vma, effect, ReadaheadRules))
            return [];
        var (from, to) = Readahead.FaultAroundRange(address, vma, fileSize, ReadaheadRules);
        List<(PageNumber, FrameNumber)>? around = null; // most faults find no neighbour cached: no list for them
        for (var p = from.Value; p < to.Value; p++)
        {
            var page = new PageNumber(p);
            if (page == address.Page || vma.FilePageOf(page) is not { } filePage || skip?.Contains(filePage) == true)
                continue;
            if (Frames.LookupPageCache(filePage) is { } frame && !_fileReads.Contains(frame) && !_evicting.Contains(frame) && !_markers.ContainsKey(filePage))
                (around ??= []).Add((page, frame));
        }
        return around is null ? [] : around;
    }

    /// <summary>filemap_map_folio_range maps a neighbour only where its PTE is empty: a present, swapped or PROT_NONE one stays.</summary>
    public static bool MapsAround(Pte now) => now.IsNone;

    /// <summary>
    /// do_swap_page: whether the PTE being swapped in to <paramref name="frame"/> is the page's only user — no other PTE
    /// names <paramref name="slot"/>, and none maps the frame already (another swapped it in first) — so it may be mapped writable.
    /// A slot no PTE names any more (freed since the fault saw it) makes nothing exclusive: the install that asks is refused.
    /// </summary>
    public bool SwapInExclusive(SwapSlot slot, FrameNumber frame) =>
        Swap.IsAllocated(slot) && Swap.References(slot) == 1 && Frames.MapCount(frame) == 0;

    /// <summary>A PTE no longer names <paramref name="slot"/> (it maps the frame now, or is gone): the last one takes the page out of the swap cache.</summary>
    public void DropSwapEntry(SwapSlot slot)
    {
        var cached = Frames.LookupSwapCache(slot);
        if (Swap.Release(slot) || cached is not { } frame || Swap.References(slot) > 0 || _evicting.Contains(frame) || _swapReads.Contains(frame))
            return;
        // An eviction under way keeps its frame in the swap cache until it completes, and a read under way (a locked
        // page: free_swap_and_cache leaves it) until it is filled or cancelled, which then frees the slot.
        RemoveFromSwapCache(frame);
    }

    /// <summary>A PTE that is gone (munmap, exit, madvise, a COW break's old frame): its frame reference or its swap reference goes.</summary>
    public void Release(PageRelease page)
    {
        if (page.Frame is { } frame)
            Unmapping(frame, page.Page);
        if (page.Slot is { } slot)
            DropSwapEntry(slot);
    }

    /// <summary>fork: the child's PTEs reference the parent's frames and swap slots too.</summary>
    public void AddReferences(IEnumerable<PageRelease> pages)
    {
        foreach (var page in pages)
        {
            if (page.Frame is { } frame)
                Frames.Map(frame, page.Page);
            if (page.Slot is { } slot)
                Swap.AddReference(slot);
        }
    }

    /// <summary>
    /// An access through a translation to <paramref name="frame"/> cached with generation tag <paramref name="tag"/>: false
    /// when the frame was freed or reused since (a stale translation); else the store is applied (or the word read into
    /// <paramref name="read"/>) and recency updated.
    /// </summary>
    public bool Access(FrameNumber frame, uint tag, PageKey page, ulong offset, bool write, ulong value, out ulong read)
    {
        read = 0;
        if (!IsCurrent(frame, tag))
            return false;
        Frames.Referenced(frame, page);
        if (write)
            Frames.Write(frame, offset, value);
        else
            read = Frames.Read(frame, offset);
        return true;
    }

    /// <summary>
    /// The page whose content an access through a translation of <paramref name="page"/> to <paramref name="frame"/> reached:
    /// that page, unless mremap moved it while the access was on its way (a TLB reports its accesses when it acknowledges
    /// the move's shootdown) — then the page of the same address space that maps the frame now, where the content is.
    /// </summary>
    public PageKey PageOfAccess(FrameNumber frame, PageKey page)
    {
        if (frame == FrameNumber.Zero || Frames.UseOf(frame) == FrameUse.Free || Frames.IsMappedBy(frame, page))
            return page;
        var same = Frames.Mappers(frame).Where(m => m.Asid == page.Asid).ToList();
        return same.Count == 1 ? same[0] : page;
    }

    /// <summary>The file page a frame holds when it is a page-cache frame (a shared mapping's page, or one not copied yet); else null.</summary>
    public FilePage? FileOf(FrameNumber frame) => Frames.UseOf(frame) == FrameUse.PageCache ? Frames.CachedFilePage(frame) : null;

    /// <summary>Whether <paramref name="frame"/> still holds what it held when a PTE recorded generation tag <paramref name="tag"/>.</summary>
    public bool IsCurrent(FrameNumber frame, uint tag) =>
        frame == FrameNumber.Zero || (Frames.UseOf(frame) != FrameUse.Free && Frames.GenerationTag(frame) == tag % Pte.GenerationTags);

    /// <summary>MADV_PAGEOUT: which of <paramref name="frames"/> (of the calling process's range) are its alone, and free to reclaim.</summary>
    public IReadOnlyList<FrameNumber> PageOutCandidates(IEnumerable<FrameNumber> frames) =>
        [.. frames.Where(f => f != FrameNumber.Zero && Frames.UseOf(f) != FrameUse.Free && Frames.MapCount(f) == 1 && !_evicting.Contains(f)).Distinct()];

    /// <summary>The next victim of the replacement policy, passing over pinned frames and <paramref name="keep"/>.</summary>
    public FrameNumber ChooseVictim(FrameNumber? keep = null)
    {
        if (keep is { } k)
            Frames.Pin(k);
        var victim = Frames.ChooseVictim();
        if (keep is { } kept)
            Frames.Unpin(kept);
        return victim;
    }

    /// <summary>
    /// The next victim, never <paramref name="keep"/>, and one of <paramref name="rather"/> (frames other requests will
    /// need) only when nothing else can go; null when nothing can.
    /// </summary>
    public FrameNumber? ChooseVictim(FrameNumber? keep, IReadOnlyList<FrameNumber> rather)
    {
        foreach (var frame in rather)
            Frames.Pin(frame);
        var victim = CanEvictBut(keep) ? ChooseVictim(keep) : (FrameNumber?)null;
        foreach (var frame in rather)
            Frames.Unpin(frame);
        return victim ?? (CanEvictBut(keep) ? ChooseVictim(keep) : null);
    }

    /// <summary>Whether some frame other than <paramref name="keep"/> may be chosen for eviction now.</summary>
    public bool CanEvictBut(FrameNumber? keep)
    {
        if (keep is not { } k)
            return CanEvict;
        Frames.Pin(k);
        var can = CanEvict;
        Frames.Unpin(k);
        return can;
    }

    /// <summary>
    /// Starts evicting <paramref name="frame"/> for <paramref name="initiator"/>'s reclaim: it leaves the replacement lists;
    /// an anonymous page gets a swap slot (the swap cache holds the frame meanwhile). The caller replaces each PTE of
    /// <see cref="Eviction.Mappers"/> with <see cref="Eviction.Replacement"/>, shoots it down, and reports it with
    /// <see cref="Unmapped"/>; then <see cref="WriteOut"/>, then <see cref="Finish"/>.
    /// </summary>
    public Eviction BeginEviction(FrameNumber frame, ProcessId initiator)
    {
        Frames.Isolate(frame);
        _evicting.Add(frame);
        SwapSlot? slot = null;
        var fresh = false;
        if (Frames.UseOf(frame) == FrameUse.Anonymous)
        {
            if (Frames.IsSwapCached(frame))
            {
                slot = Frames.SwapSlotOf(frame);
            }
            else
            {
                slot = Swap.Allocate(Frames.Content(frame), references: 0);
                AddToSwapCache(frame, slot.Value);
                fresh = true;
            }
        }
        var mappers = Frames.Mappers(frame);
        if (slot is { } held)
        {
            // Each PTE holds the slot from the moment its mm replaces it, which may be well before it is reported: a fault
            // can swap the page back in (and drop that PTE's reference) in between.
            foreach (var _ in mappers)
                Swap.AddReference(held);
        }
        var replacement = slot is { } named ? Pte.Swapped(named, Swap.Generation(named)) : Pte.None;
        return new Eviction(++_evictions, frame, initiator, slot, replacement, fresh, [.. mappers]);
    }

    /// <summary>The PTE of <paramref name="page"/> holds the replacement now (<paramref name="replaced"/>), or kept its frame (a fault or a call got there first).</summary>
    public void Unmapped(Eviction eviction, PageKey page, bool replaced)
    {
        if (replaced)
            Unmapping(eviction.Frame, page);
        else if (eviction.Slot is { } slot)
            Swap.Release(slot); // that PTE does not name the slot
        eviction.Unmapping--;
    }

    /// <summary>
    /// Once every PTE is replaced and shot down nobody can write the page any more: what must be written out, if anything
    /// (a new swap slot, or a dirty page), counted against the initiator. Swap space takes the content at once; a file
    /// page's is for the caller to write. Null when nothing is to be written, or a fault mapped the page again meanwhile.
    /// </summary>
    public WriteBack? WriteOut(Eviction eviction)
    {
        if (eviction.Unmapping > 0)
            throw new InvalidOperationException($"eviction {eviction.Id} still waits for {eviction.Unmapping} PTE(s)");
        var frame = eviction.Frame;
        if (Frames.MapCount(frame) > 0 || !(eviction.FreshSlot || Frames.IsDirty(frame)))
            return null;
        var content = Frames.Content(frame).ToArray();
        PageSource block = eviction.Slot is { } slot ? new PageSource.FromSwap(slot) : new PageSource.FromFile(Frames.CachedFilePage(frame));
        if (eviction.Slot is { } written)
            Swap.Write(written, content);
        else if (block is PageSource.FromFile { Page: var page } && IsShmem(page.File))
            _shmemWritten.Add(page);
        Frames.MarkClean(frame);
        CountsOf(eviction.Initiator).DiskWrites++;
        return new WriteBack(block, content);
    }

    /// <summary>
    /// The eviction is over: the frame is freed and true returned — unless a fault mapped it again meanwhile, or one did
    /// and wrote it after the write-out (its PTE may be gone by now, but what it wrote is the page's newest content), and
    /// then it stays.
    /// </summary>
    public bool Finish(Eviction eviction)
    {
        var frame = eviction.Frame;
        _evicting.Remove(frame);
        // An anonymous page written again matters only while a PTE names its slot; a page-cache page's content is its file's.
        var rewritten = Frames.IsDirty(frame) && (eviction.Slot is not { } named || Swap.References(named) > 0);
        if (Frames.MapCount(frame) > 0 || rewritten)
        {
            if (eviction.Slot is { } kept && Swap.References(kept) == 0)
                RemoveFromSwapCache(frame); // no PTE names the slot: the page is plain anonymous memory again
            Frames.Activate(frame);
            return false;
        }
        if (eviction.Slot is not null)
            RemoveFromSwapCache(frame); // the frame goes; the slot stays while a PTE names it
        else
        {
            _markers.Remove(Frames.CachedFilePage(frame)); // PG_readahead goes with the page
            Frames.RemoveFromPageCache(frame);
        }
        CountsOf(eviction.Initiator).Evicted++;
        return true;
    }

    /// <summary>What <paramref name="pte"/>'s page holds, as its process would read it: an anonymous frame's words, a swapped-out page's; empty for a file's page-cache page (the file's content, not the process's).</summary>
    public ReadOnlySpan<ulong> ContentOf(Pte pte) => ContentOf(pte.HoldsFrame ? pte.Frame : null, pte.IsSwapped ? pte.Slot : null);

    private ReadOnlySpan<ulong> ContentOf(FrameNumber? frame, SwapSlot? slot)
    {
        if (frame is { } f)
            return Frames.UseOf(f) == FrameUse.Anonymous ? Frames.Content(f) : [];
        var swapped = slot!.Value;
        return Frames.LookupSwapCache(swapped) is { } cached ? Frames.Content(cached) : Swap.Read(swapped);
    }

    /// <summary>
    /// The words of the pages <paramref name="ptes"/> map, for a memory image (<see cref="PageImages.Of"/>, which keeps
    /// those not all zero): <see cref="PhysicalMemory.WordsPerPage"/> a page, one after another in one array (no object a
    /// page), zeroes where a PTE maps a page-cache page (the files' content, not the process's).
    /// </summary>
    public ImmutableArray<ulong> ImageWords(IReadOnlyCollection<Pte> ptes)
    {
        var perPage = Frames.WordsPerPage;
        var words = ImmutableArray.CreateBuilder<ulong>(ptes.Count * perPage);
        foreach (var pte in ptes)
        {
            var content = ContentOf(pte);
            words.AddRange(content);
            for (var w = content.Length; w < perPage; w++)
                words.Add(0);
        }
        return words.MoveToImmutable();
    }

    /// <summary>The page-cache pages whose content differs from their file's original, with that content.</summary>
    public IEnumerable<(FilePage Page, ulong[] Words)> ChangedCachedFilePages() =>
        Frames.CachedFilePages
            .Select(page => (Page: page, Words: Frames.Content(Frames.LookupPageCache(page)!.Value).ToArray()))
            .Where(p => MemoryImage.Changed(p.Page, p.Words));

    private void AddToSwapCache(FrameNumber frame, SwapSlot slot)
    {
        Frames.AddToSwapCache(frame, slot);
        Swap.SetCached(slot, true);
    }

    private void RemoveFromSwapCache(FrameNumber frame)
    {
        var slot = Frames.SwapSlotOf(frame);
        Frames.RemoveFromSwapCache(frame);
        Swap.SetCached(slot, false);
    }
}

/// <summary>What an eviction writes out: the block (a swap slot or a file page) and the page's content.</summary>
public sealed record WriteBack(PageSource Block, ulong[] Content);

/// <summary>One eviction in progress: its frame, whose reclaim it serves, the slot an anonymous page goes to, and the PTEs to replace.</summary>
public sealed class Eviction
{
    internal Eviction(long id, FrameNumber frame, ProcessId initiator, SwapSlot? slot, Pte replacement, bool freshSlot, IReadOnlyList<PageKey> mappers)
    {
        (Id, Frame, Initiator, Slot, Replacement, FreshSlot, Mappers) = (id, frame, initiator, slot, replacement, freshSlot, mappers);
        Unmapping = mappers.Count;
    }

    public long Id { get; }
    public FrameNumber Frame { get; }
    public ProcessId Initiator { get; }
    public SwapSlot? Slot { get; }

    /// <summary>The slot was allocated for this eviction: the page must be written to it.</summary>
    public bool FreshSlot { get; }

    /// <summary>The PTEs that mapped the frame when the eviction began.</summary>
    public IReadOnlyList<PageKey> Mappers { get; }

    /// <summary>What each PTE becomes: the swap entry of an anonymous page (with its slot's generation), nothing for a file page (it is read again).</summary>
    public Pte Replacement { get; }

    /// <summary>PTEs not yet reported replaced (or kept).</summary>
    public int Unmapping { get; internal set; }
}

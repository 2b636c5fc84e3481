using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Cpu;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Scheduling;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Faults;
using Faultsim.Model.Frames;
using Faultsim.Model.Machine;
using Faultsim.Model.Memory;
using Faultsim.Model.PageTables;

namespace Faultsim.Actors.Memory;

/// <summary>
/// Physical memory: the model's <see cref="MemoryManager"/> (frames with reference counts, generations, reverse maps
/// and content, the page cache and swap cache, swap space, the replacement policy and reclaim) behind the memory
/// protocol, plus what only a concurrent engine has: reads in flight (a page being read is a locked page, and whoever
/// asks for it meanwhile waits), requests waiting for a free frame, and evictions under way.
/// </summary>
// Serving ──a request that needs a frame when none is free──▶ Reclaiming: the request waits (Waiting), in arrival order,
//   and evictions start; each eviction step (PteReplaced, PageWritten) or request served is progress, and re-enters Reclaiming
// Reclaiming ──no request waits and no eviction is under way──▶ Serving
// Both states take every message of the memory protocol alike (a lookup of a page being read waits in that read's
// queue, not in a state); Reclaiming is the waiting one, bounded in live runs like every wait.
// Both states: AfterAccesses (a cluster run's CPU: its barrier or finish) on to the machine, the accesses before it applied.
public sealed partial class MemoryActor : SimulationActor
{
    private readonly MemoryManager _memory;
    private readonly RunContext _run;
    private readonly SimTime _time;
    private readonly Waker _waker;
    private readonly Dictionary<MemoryQuery, List<(IActorRef Loader, FaultId Id)>> _reading = [];

    /// <summary>
    /// Frames a fault in flight holds, off the replacement lists (only tracked under a frame limit): reserved for a read,
    /// or prepared for a PTE whose faulting access has not been performed yet. Reclaim must not take them — an eviction
    /// before the PTE is installed would find nothing to replace and try again at once, forever; one before the access
    /// would make the fault start over, and two CPUs could take each other's pages so forever — and it waits for them to
    /// settle rather than kill a process for want of a frame. A frame settles once its fault's CPU has used it: at its
    /// first access, or when the access faults on it again (a write to it needs a copy).
    /// </summary>
    private readonly Dictionary<FrameNumber, uint> _unsettled = [];   // frame → its generation then

    /// <summary>
    /// The sources of copies whose PTE is not in place yet (new frame → source), pinned meanwhile: reclaim taking the
    /// source would replace the very PTE the copy is to replace, and the copy would be refused and made again.
    /// </summary>
    private readonly Dictionary<FrameNumber, FrameNumber> _copiedFrom = [];

    public MemoryActor(MemorySettings settings, RunContext run) : base(nameof(Serving), run.WaitBound, run.Coverage, run.Traffic)
    {
        _serving = Serving;
        _reclaimReport = new ReclaimReport(this);
        _memory = new MemoryManager(settings.Frames, settings.WordsPerPage, settings.CreatePolicy(), settings.Readahead, settings.Files);
        _run = run;
        _time = new SimTime(Context.System);
        _waker = new Waker(Self.Path.Name, run, _time, Self, cpu => Peers.Tlb(cpu));
    }

    public static Props Props(MemorySettings settings, RunContext run) =>
        ActorFactory.Props(() => new MemoryActor(settings, run));

    protected override bool Receive(object message) => Serving(message);

    /// <summary>Serving and Reclaiming: memory takes every message alike in both.</summary>
    private bool Serving(object message)
    {
        switch (message)
        {
            case Accessed accessed: OnAccessed(accessed); break;
            case LookUp lookUp: OnLookUp(lookUp, Sender); break;
            case Prepare prepare: OnPrepare(prepare); break;
            case Unprepare unprepare: OnUnprepare(unprepare); break;
            case SwapEntryDropped dropped: _memory.DropSwapEntry(dropped.Slot); break;
            case ReleasePages release:
                _run.Events?.Record(Self.Path.Name, null, new SimEvent.PagesReleased([.. release.Pages.Select(p => p.Page)], release.Replaced));
                foreach (var page in release.Pages)
                {
                    _memory.Release(page);
                    if (page.Frame is { } frame)
                        SettleUnmapped(frame);
                }
                break;
            case CancelRead cancel: OnCancelRead(cancel); break;
            case AddReferences add: OnAddReferences(add); break;
            case WillNeed willNeed: OnWillNeed(willNeed, Sender); break;
            case PageRead read when _aheadReads.Remove(read.Id, out var request): ReadAheadDone(request, read); break;
            case PageReadFailed failed when _aheadReads.Remove(failed.Id, out var request): ReadAheadDone(request, null); break;
            case LockPages locks:
                foreach (var page in locks.Pages)
                {
                    if (locks.Locks)
                        _memory.Lock(page.Page, page.Frame!.Value);
                    else
                        _memory.Unlock(page.Page, page.Frame!.Value);
                }
                break;
            case MovePages moved:
                // Recorded here, in memory's order: accesses a TLB made before the move and reports later are applied before
                // it, to the pages they were made at; those it reports after it reach the pages the frames moved to.
                _memory.Move(moved.Asid, moved.Moves, moved.Locked);
                _run.Events?.Record(Sender.Path.Name, Self.Path.Name, new SimEvent.PagesMoved(moved.Asid, moved.Moves));
                break;
            case ReadContents read: OnReadContents(read); break;
            case AfterAccesses after: Peers.Machine.Tell(after.Message); break; // a CPU's accesses before it are applied
            default:
                if (!Reclaim(message))
                    return false;
                break;
        }
        ServeWaiting(); // whatever freed a frame lets a request waiting for one go on
        Reclaiming();
        return true;
    }

    private void OnLookUp(LookUp lookUp, IActorRef asker)
    {
        var query = lookUp.Query;
        if (query is MemoryQuery.OfFrame frame)
        {
            Settle(frame.Frame, _memory.Frames.Generation(frame.Frame)); // faulted on again: its CPU has used it
            asker.Tell(new LookedUp(lookUp.Id, new CacheAnswer.Facts(_memory.Frames.Facts(frame.Frame))));
            return;
        }
        if (_reading.TryGetValue(query, out var waiters))
        {
            if (_run.Bugs.NoLeaderElection)
                WithFrame(new Waiting.SecondRead(lookUp, asker)); // planted bug: a second reader reads the page too, into a frame of its own
            else
                waiters.Add((asker, lookUp.Id)); // a locked page: answered when its read completes
            return;
        }
        if (_memory.Cached(query) is { } hit)
        {
            var generation = _memory.Frames.Generation(hit);
            // do_async_mmap_readahead: a marked page's hit reads the next window, answered once that read is done
            if (query is MemoryQuery.OfFile file && _memory.HitMarker(file.Page, lookUp.FileSize, lookUp.Flags) is { } window
                && ReserveAhead(window, except: null, lookUp.Page.Asid.Pid) is { Length: > 0 } ahead)
            {
                _readFor[lookUp.Id] = [.. ahead.Select(a => a.Page)];
                ReadAhead(ahead, new AheadRequest(ahead, new PendingHit(asker, lookUp.Id, hit, generation), null), lookUp.Page.Asid.Pid);
                return;
            }
            asker.Tell(new LookedUp(lookUp.Id, new CacheAnswer.Hit(hit, generation, Waited: false)));
            return;
        }
        if (query is MemoryQuery.OfSwap { Slot: var freed } && _memory.IsStale(freed))
        {
            asker.Tell(new LookedUp(lookUp.Id, CacheAnswer.Retry.Instance)); // a stale swap entry: the PTE changed, fault again
            return;
        }
        // A miss: the asker reads the page into a frame entered in the cache, locked until the read is done; those who
        // ask meanwhile wait for it, even while the frame itself is still being freed up.
        _reading[query] = [];
        WithFrame(new Waiting.Read(lookUp, asker));
    }

    /// <summary>A frame is free for the read a lookup missed: it is reserved for the asker, unless the page changed meanwhile.</summary>
    private void ReserveRead(Waiting.Read read)
    {
        var (lookUp, asker) = (read.LookUp, read.Asker);
        if (lookUp.Query is MemoryQuery.OfSwap { Slot: var slot } && (_memory.IsStale(slot) || _memory.Cached(lookUp.Query) is not null))
        {
            // While it waited for a frame, the slot was freed (and maybe taken by an eviction): the entry is stale.
            asker.Tell(new LookedUp(lookUp.Id, CacheAnswer.Retry.Instance));
            RetryReaders(lookUp.Query);
            return;
        }
        var reserved = _memory.ReserveRead(SourceOf(lookUp.Query));
        Unsettled(reserved);
        var hole = _memory.IsHole(lookUp.Query);
        // do_sync_mmap_readahead: the window's other pages, read by the loader in the same request
        var ahead = lookUp.Query is MemoryQuery.OfFile { Page: var page } && !hole
            ? ReserveAhead(Readahead.ForMajorFault(page, lookUp.FileSize, lookUp.Flags, _memory.ReadaheadRules, _memory.IsShmem(page.File)), page, requestOf: null)
            : [];
        asker.Tell(new LookedUp(lookUp.Id, new CacheAnswer.Reserved(reserved, _memory.Frames.Generation(reserved), hole, ahead)));
    }

    /// <summary>The read of <paramref name="source"/> will not happen: those who waited for it fault again.</summary>
    private void RetryReaders(MemoryQuery source)
    {
        if (_reading.Remove(source, out var waiting))
        {
            foreach (var (loader, id) in waiting)
                loader.Tell(new LookedUp(id, CacheAnswer.Retry.Instance));
        }
    }

    private void OnPrepare(Prepare prepare)
    {
        var readAhead = _readFor.Remove(prepare.Id, out var pages) ? pages : null; // the fault's marker read them: not mapped around
        if (prepare.What is Preparation.ReadDone { Ahead.Length: > 0 } withAhead)
            FillAhead(withAhead.Ahead); // the window the same request read
        switch (prepare.What)
        {
            case Preparation.ZeroFilled:
                WithFrame(new Waiting.Frame(prepare, Keep: null));
                break;
            case Preparation.Cached cached when Current(cached.Frame, cached.Generation):
                var exclusive = cached.Slot is { } slot && _memory.SwapInExclusive(slot, cached.Frame);
                var copies = prepare.Effect.CopiesOnSwapIn(prepare.Vma, prepare.Access, exclusive);
                if (copies && _memory.IsEvicting(cached.Frame))
                    _waker.Retry(prepare.Then.Waiters, prepare.Page); // a copy waits until the eviction's shootdowns let nobody write it
                else if (copies)
                    WithFrame(new Waiting.Frame(prepare, Keep: cached.Frame)); // a write to a page others share: a private copy
                else
                    Install(prepare, cached.Frame, exclusive, readAhead: readAhead);
                break;
            case Preparation.CopyOf copy when _memory.IsCurrent(copy.Source, copy.Generation):
                Settle(copy.Source, _memory.Frames.Generation(copy.Source)); // faulted on again: its CPU has used it
                WithFrame(new Waiting.Frame(prepare, Keep: copy.Source));
                break;
            case Preparation.Hole hole when Current(hole.Frame, hole.Generation):
                _memory.FillHole(hole.Frame, prepare.Pid);
                Unlock(hole.Source, hole.Frame, hole.Generation, waited: false); // they waited for no read: a plain hit
                Install(prepare, hole.Frame, exclusive: false, PageWork.Zeroed, _run.Latencies.PageZero, readAhead);
                break;
            case Preparation.ReadDone done when Current(done.Frame, done.Generation):
                Fill(done);
                var alone = done.Source is MemoryQuery.OfSwap swap && _memory.SwapInExclusive(swap.Slot, done.Frame);
                if (done.CopyForWrite || prepare.Effect.CopiesOnSwapIn(prepare.Vma, prepare.Access, alone))
                    WithFrame(new Waiting.Frame(prepare, Keep: done.Frame)); // a private copy of the page read
                else
                    Install(prepare, done.Frame, alone, readAhead: readAhead);
                break;
            default:
                _waker.Retry(prepare.Then.Waiters, prepare.Page); // the frame went away since the lookup: fault again
                if (prepare.What switch { Preparation.ReadDone r => r.Source, Preparation.Hole h => h.Source, _ => null } is { } lost)
                    RetryReaders(lost); // nor may those who waited for the read sleep on
                break;
        }
    }

    /// <summary>A frame is free for a preparation that needs one: a zero fill, or a copy — if its source is still there.</summary>
    private void PrepareWithFrame(Prepare prepare)
    {
        switch (prepare.What)
        {
            case Preparation.ZeroFilled:
                Install(prepare, _memory.NewZeroed(prepare.Pid), exclusive: false, PageWork.Zeroed, _run.Latencies.PageZero);
                break;
            case Preparation.CopyOf copy when _memory.IsCurrent(copy.Source, copy.Generation):
                var copied = _memory.NewCopy(copy.Source, prepare.Pid);
                if (_memory.Limited && copy.Source != FrameNumber.Zero)
                {
                    _memory.Frames.Pin(copy.Source);
                    _copiedFrom[copied] = copy.Source;
                }
                Install(prepare, copied, exclusive: false,
                    copy.Source == FrameNumber.Zero ? PageWork.Zeroed : PageWork.Copied,
                    copy.Source == FrameNumber.Zero ? _run.Latencies.PageZero : _run.Latencies.PageCopy);
                break;
            case Preparation.ReadDone done when Current(done.Frame, done.Generation):
                Install(prepare, _memory.NewCopy(done.Frame, prepare.Pid), exclusive: false, PageWork.Copied, _run.Latencies.PageCopy);
                Settle(done.Frame, done.Generation); // the page-cache (or swap-cache) page itself is only cached now
                break;
            case Preparation.Cached cached when Current(cached.Frame, cached.Generation) && !_memory.IsEvicting(cached.Frame):
                Install(prepare, _memory.NewCopy(cached.Frame, prepare.Pid), exclusive: false, PageWork.Copied, _run.Latencies.PageCopy); // a swap-cache page others share
                break;
            default:
                _waker.Retry(prepare.Then.Waiters, prepare.Page); // the copy's source went away meanwhile: fault again
                break;
        }
    }

    /// <summary>The frame is referenced for the page's PTE, which goes to the mm to install (the model's install rules give its flags).</summary>
    private void Install(Prepare prepare, FrameNumber frame, bool exclusive, PageWork work = PageWork.None, long latency = 0,
        IReadOnlySet<FilePage>? readAhead = null)
    {
        _memory.Map(frame, prepare.Page, prepare.Vma.IsLocked);
        if (work != PageWork.None)
            Unsettled(frame); // a new frame: on the replacement lists once its PTE is in place
        var flags = prepare.Effect.FlagsFor(prepare.Vma, prepare.Access, exclusive);
        var pte = Pte.Mapped(frame, flags, _memory.Frames.Generation(frame));
        var install = prepare.Then with
        {
            New = pte, FramePrepared = true, PreparedAt = prepare.Then.Trace.IsSampled ? _time.NowNanos : 0, Work = work, // the time: for a span only
            Around = Around(prepare, readAhead),
        };
        _time.Send(Peers.AddressSpace(prepare.Page.Asid), install, latency, Self); // zeroing or copying takes its time
    }

    /// <summary>A read's content arrives: the frame is filled and unlocked, and whoever waited for it gets the page.</summary>
    private void Fill(Preparation.ReadDone done)
    {
        _memory.FillRead(done.Frame, SourceOf(done.Source), done.Content.AsSpan());
        Unlock(done.Source, done.Frame, done.Generation, waited: true);
    }

    /// <summary>The page is in its frame: it is no longer locked, and whoever asked for it meanwhile gets it.</summary>
    private void Unlock(MemoryQuery source, FrameNumber frame, uint generation, bool waited)
    {
        if (_reading.Remove(source, out var waiters))
        {
            foreach (var (loader, id) in waiters)
                loader.Tell(new LookedUp(id, new CacheAnswer.Hit(frame, generation, waited)));
        }
    }

    private void OnCancelRead(CancelRead cancel)
    {
        if (!_reading.Remove(cancel.Source, out var waiters))
            return;
        _unsettled.Remove(cancel.Frame);
        _memory.CancelRead(cancel.Frame, SourceOf(cancel.Source));
        foreach (var (loader, id) in waiters)
            loader.Tell(new LookedUp(id, CacheAnswer.Retry.Instance));
    }

    /// <summary>Under a frame limit, a frame a fault in flight holds stays off the replacement lists until it settles.</summary>
    private void Unsettled(FrameNumber frame)
    {
        if (_memory.Limited)
            _unsettled[frame] = _memory.Frames.Generation(frame);
    }

    /// <summary>The fault that held the frame is done with it (its PTE is installed, or it was only copied): reclaim may take it now.</summary>
    private void Settle(FrameNumber frame, uint generation)
    {
        if (_unsettled.TryGetValue(frame, out var held) && held % Pte.GenerationTags == generation % Pte.GenerationTags)
        {
            _unsettled.Remove(frame);
            _memory.Activate(frame);
            ReleaseSource(frame);
        }
    }

    /// <summary>The copy in <paramref name="frame"/> is in place (or given up): its source may go now.</summary>
    private void ReleaseSource(FrameNumber frame)
    {
        if (_copiedFrom.Remove(frame, out var source))
            _memory.Frames.Unpin(source);
    }

    /// <summary>
    /// A frame a fault put in place settles when its CPU uses it; when a PTE of it goes first (the process exited, the
    /// range was unmapped) that access may never come, and a frame that stays — a shared page in the page cache, a page
    /// a forked child maps too — would be held off the replacement lists for good: with nothing else to evict, reclaim
    /// would wait for it forever. It settles then (at worst the fault's CPU faults on it again after an eviction).
    /// </summary>
    private void SettleUnmapped(FrameNumber frame)
    {
        if (_unsettled.TryGetValue(frame, out var generation) && !_waiting.Any(w => w.Keep == frame))
            Settle(frame, generation);
    }

    /// <summary>
    /// Whether a fault in flight still holds a frame that will settle without a free frame: reclaim then waits for it
    /// instead of the OOM killer. (A page read for a private copy that itself waits for a frame settles only with one.)
    /// </summary>
    private bool AnyUnsettled()
    {
        foreach (var (frame, _) in _unsettled.Where(u => !Current(u.Key, u.Value)).ToList())
        {
            _unsettled.Remove(frame); // freed since: nothing to wait for
            ReleaseSource(frame);
        }
        return _unsettled.Keys.Any(frame => !_waiting.Any(w => w.Keep == frame));
    }

    /// <summary>The PTE was not installed after all: its reference goes; a frame still in use (cached) settles there.</summary>
    private void OnUnprepare(Unprepare unprepare)
    {
        var generation = _memory.Frames.Generation(unprepare.Frame);
        _memory.Unmap(unprepare.Frame, unprepare.Page);
        Settle(unprepare.Frame, generation);
    }

    private void OnAccessed(Accessed accessed)
    {
        foreach (var access in accessed.Accesses)
        {
            if (_unsettled.Count > 0)
                Settle(access.Frame, access.Generation); // the fault that brought the page in has had its access
            if (!_memory.Access(access.Frame, access.Generation, access.Page, access.Offset, access.Write, access.Value, out var read))
            {
                _run.Events?.Record(Sender.Path.Name, Self.Path.Name, new SimEvent.StaleAccess(accessed.Cpu, access.Page, access.Frame));
                Peers.Machine.Tell(new ViolationFound($"stale translation used by {accessed.Cpu}: {access.Frame} of {access.Page} was freed or reused after it was cached"));
                continue;
            }
            if (_run.Events is not { } events)
                continue;
            var word = _memory.Frames.WordOf(access.Offset);
            var page = _memory.PageOfAccess(access.Frame, access.Page);
            events.Record(Sender.Path.Name, Self.Path.Name, access.Write
                ? new SimEvent.StoreApplied(page, word, access.Value, _memory.FileOf(access.Frame))
                : new SimEvent.LoadApplied(accessed.Cpu, page, word, read, _memory.FileOf(access.Frame)));
        }
    }

    private void OnAddReferences(AddReferences add)
    {
        _run.Events?.Record(Sender.Path.Name, Self.Path.Name, new SimEvent.Forked(add.Parent, add.ChildAsid.Pid));
        _memory.AddReferences(add.Pages);
        Sender.Tell(new ReferencesAdded(add.Id));
    }

    private void OnReadContents(ReadContents read)
    {
        var words = _memory.ImageWords(read.Ptes);
        var report = new MemoryReport(
            _memory.Counts.ToImmutableDictionary(kv => kv.Key, kv => kv.Value.Totals),
            _memory.Frames.PeakInUse, MessagesReceived);
        Sender.Tell(new Contents(words, _memory.Frames.WordsPerPage, [.. _memory.ChangedCachedFilePages().Select(p => (p.Page, p.Words.ToImmutableArray()))], report));
    }

    /// <summary>Whether <paramref name="frame"/> is still the frame of generation <paramref name="generation"/> (not freed nor reused).</summary>
    private bool Current(FrameNumber frame, uint generation) =>
        _memory.Frames.UseOf(frame) != FrameUse.Free && _memory.Frames.Generation(frame) == generation;

    private static PageSource SourceOf(MemoryQuery query) => query switch
    {
        MemoryQuery.OfFile file => new PageSource.FromFile(file.Page),
        MemoryQuery.OfSwap swap => new PageSource.FromSwap(swap.Slot),
        _ => throw new InvalidOperationException($"{query} names no page to read"),
    };
}

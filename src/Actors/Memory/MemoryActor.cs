using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Scheduling;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Faults;
using Faultsim.Model.Frames;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;
using Faultsim.Model.Replacement;
using Faultsim.Model.Storage;

namespace Faultsim.Actors.Memory;

/// <summary>
/// Physical memory: frames with reference counts, generations, reverse maps and content, the page
/// cache and swap cache (with the reads in flight that fill them: a page being read is a locked
/// page, and whoever asks for it meanwhile waits), swap space and the replacement policy.
/// </summary>
public sealed partial class MemoryActor : SimulationActor
{
    private const int Zeroed = 0, Copied = 1, Evicted = 2, DiskWrites = 3;

    private readonly PhysicalMemory _memory;
    private readonly SwapSpace _swap;
    private readonly IActorRef _machine;
    private readonly RunContext _run;
    private readonly SimTime _time;
    private readonly Waker _waker;
    private readonly Dictionary<MemoryQuery, List<(IActorRef Loader, FaultId Id)>> _reading = [];
    private readonly Dictionary<ProcessId, long[]> _byProcess = [];   // zeroed, copied, evicted, disk writes

    public MemoryActor(MemorySettings settings, IActorRef machine, RunContext run)
    {
        _memory = new PhysicalMemory(settings.Frames, settings.WordsPerPage, settings.CreatePolicy());
        _swap = new SwapSpace(settings.WordsPerPage);
        _machine = machine;
        _run = run;
        _time = new SimTime(Context.System);
        _waker = new Waker(Self.Path.Name, run, _time, Self);
    }

    public static Props Props(MemorySettings settings, IActorRef machine, RunContext run) =>
        Akka.Actor.Props.Create(typeof(MemoryActor), settings, machine, run);

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case Accessed accessed: OnAccessed(accessed); break;
            case LookUp lookUp: OnLookUp(lookUp); break;
            case Prepare prepare: OnPrepare(prepare); break;
            case Unprepare unprepare: _memory.Unmap(unprepare.Frame, unprepare.Page); break;
            case SwapEntryDropped dropped: DropSwapReference(dropped.Slot); break;
            case ReleasePages release:
                _run.Events?.Record(Self.Path.Name, null, new SimEvent.PagesReleased([.. release.Pages.Select(p => p.Page)]));
                foreach (var page in release.Pages)
                    Release(page);
                break;
            case CancelRead cancel: OnCancelRead(cancel); break;
            case AddReferences add: OnAddReferences(add); break;
            case ReadContents read: OnReadContents(read); break;
            default: return Reclaim(message);
        }
        ServeWaitingForFrames(); // whatever freed a frame lets a request waiting for one go on
        return true;
    }

    private void OnLookUp(LookUp lookUp)
    {
        var query = lookUp.Query;
        if (query is MemoryQuery.OfFrame frame)
        {
            Sender.Tell(new LookedUp(lookUp.Id, new CacheAnswer.Facts(_memory.Facts(frame.Frame))));
            return;
        }
        if (_reading.TryGetValue(query, out var waiters) && !_run.Bugs.NoLeaderElection)
        {
            waiters.Add((Sender, lookUp.Id)); // a locked page: answered when its read completes
            return;
        }
        if (waiters is not null)
        {
            // Planted bug no-leader-election: a second reader of a page being read reads it too, into a frame of its own.
            var second = Sender;
            WithFrame(new ProcessId(lookUp.Page.Asid.Value), lookUp.Cpu, () =>
            {
                var own = _memory.AllocateAnonymous();
                second.Tell(new LookedUp(lookUp.Id, new CacheAnswer.Reserved(own, _memory.Generation(own))));
            }, () => second.Tell(new LookedUp(lookUp.Id, CacheAnswer.OutOfMemory.Instance)));
            return;
        }
        var cached = query switch
        {
            MemoryQuery.OfFile file => _memory.LookupPageCache(file.Page),
            MemoryQuery.OfSwap swap => _memory.LookupSwapCache(swap.Slot),
            _ => null,
        };
        if (cached is { } hit)
        {
            Sender.Tell(new LookedUp(lookUp.Id, new CacheAnswer.Hit(hit, _memory.Generation(hit), Waited: false)));
            return;
        }
        if (query is MemoryQuery.OfSwap { Slot: var freed } && !_swap.IsAllocated(freed))
        {
            Sender.Tell(new LookedUp(lookUp.Id, CacheAnswer.Retry.Instance)); // a stale swap entry: the PTE changed, fault again
            return;
        }
        // A miss: the asker reads the page into a frame entered in the cache now, locked until the read is done;
        // those who ask meanwhile wait for it, even while the frame itself is still being freed up.
        _reading[query] = [];
        var asker = Sender;
        var pid = new ProcessId(lookUp.Page.Asid.Value);
        WithFrame(pid, lookUp.Cpu, () =>
        {
            if (query is MemoryQuery.OfSwap { Slot: var slot } && (!_swap.IsAllocated(slot) || _memory.LookupSwapCache(slot) is not null))
            {
                // While it waited for a frame, the slot was freed (and maybe taken by an eviction): the entry is stale.
                asker.Tell(new LookedUp(lookUp.Id, CacheAnswer.Retry.Instance));
                RetryReaders(query);
                return;
            }
            var reserved = query switch
            {
                MemoryQuery.OfFile file => _memory.AllocatePageCache(file.Page),
                _ => AllocateSwapCache(((MemoryQuery.OfSwap)query).Slot),
            };
            asker.Tell(new LookedUp(lookUp.Id, new CacheAnswer.Reserved(reserved, _memory.Generation(reserved))));
        }, outOfMemory: () =>
        {
            asker.Tell(new LookedUp(lookUp.Id, CacheAnswer.OutOfMemory.Instance));
            RetryReaders(query);
        });
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

    private FrameNumber AllocateSwapCache(SwapSlot slot)
    {
        var frame = _memory.AllocateAnonymous();
        _memory.AddToSwapCache(frame, slot);
        return frame;
    }

    private void OnPrepare(Prepare prepare)
    {
        var counts = CountsOf(prepare.Pid);
        switch (prepare.What)
        {
            case Preparation.ZeroFilled:
                WithFrame(prepare, () =>
                {
                    counts[Zeroed]++;
                    Install(prepare, _memory.AllocateAnonymous(), exclusive: false, PageWork.Zeroed, _run.Latencies.PageZero);
                });
                break;
            case Preparation.Cached cached when Current(cached.Frame, cached.Generation):
                Install(prepare, cached.Frame, exclusive: cached.Slot is { } slot && _swap.References(slot) == 1);
                break;
            case Preparation.CopyOf copy when CurrentTag(copy.Source, copy.Generation):
                WithSource(prepare, copy.Source, () => CurrentTag(copy.Source, copy.Generation),
                    () => Install(prepare, Copy(copy.Source, counts), exclusive: false,
                        copy.Source == FrameNumber.Zero ? PageWork.Zeroed : PageWork.Copied, CopyTime(copy.Source)));
                break;
            case Preparation.ReadDone done when Current(done.Frame, done.Generation):
                Fill(done);
                if (done.CopyForWrite)
                    WithSource(prepare, done.Frame, () => Current(done.Frame, done.Generation),
                        () => Install(prepare, Copy(done.Frame, counts), exclusive: false, PageWork.Copied, _run.Latencies.PageCopy));
                else
                    Install(prepare, done.Frame, exclusive: done.Source is MemoryQuery.OfSwap swap && _swap.References(swap.Slot) == 1);
                break;
            default:
                _waker.Retry(prepare.Then.Waiters, prepare.Page); // the frame went away since the lookup: fault again
                if (prepare.What is Preparation.ReadDone lost)
                    RetryReaders(lost.Source); // nor may those who waited for the read sleep on
                break;
        }
    }

    /// <summary>
    /// A copy needs a second frame while its source must stay: the source is pinned (not chosen for eviction) until the
    /// copy is made, and if it went away meanwhile the waiters fault again.
    /// </summary>
    private void WithSource(Prepare prepare, FrameNumber source, Func<bool> sourceStillThere, Action copy)
    {
        _memory.Pin(source);
        WithFrame(prepare, () =>
        {
            _memory.Unpin(source);
            if (sourceStillThere())
                copy();
            else
                _waker.Retry(prepare.Then.Waiters, prepare.Page);
        }, restore: () => _memory.Unpin(source));
    }

    /// <summary>A copy of the zero page is a zero fill.</summary>
    private long CopyTime(FrameNumber source) => source == FrameNumber.Zero ? _run.Latencies.PageZero : _run.Latencies.PageCopy;

    private FrameNumber Copy(FrameNumber source, long[] counts)
    {
        var copy = _memory.AllocateAnonymous();
        if (source == FrameNumber.Zero)
        {
            counts[Zeroed]++;
        }
        else
        {
            _memory.Copy(source, copy);
            counts[Copied]++;
        }
        return copy;
    }

    /// <summary>The frame is referenced for the page's PTE, which goes to the mm to install (the model's install rules give its flags).</summary>
    private void Install(Prepare prepare, FrameNumber frame, bool exclusive, PageWork work = PageWork.None, long latency = 0)
    {
        _addressSpaces[prepare.Page.Asid] = prepare.AddressSpace;
        _memory.Map(frame, prepare.Page);
        Activate(frame);
        var flags = InstallRules.For(prepare.Resolution, prepare.Vma, prepare.Access, exclusive);
        var pte = Pte.Mapped(frame, flags, _memory.Generation(frame));
        var install = prepare.Then with { New = pte, FramePrepared = true, PreparedAt = _time.NowNanos, Work = work };
        _time.Send(prepare.AddressSpace, install, latency, Self); // zeroing or copying takes its time
    }

    /// <summary>A read's content arrives: the frame is filled and unlocked, and whoever waited for it gets the page.</summary>
    private void Fill(Preparation.ReadDone done)
    {
        if (done.Source is MemoryQuery.OfSwap swap)
            _memory.Fill(done.Frame, _swap.Read(swap.Slot));
        else
            _memory.Fill(done.Frame, done.Content.AsSpan());
        Activate(done.Frame);
        if (_reading.Remove(done.Source, out var waiters))
        {
            foreach (var (loader, id) in waiters)
                loader.Tell(new LookedUp(id, new CacheAnswer.Hit(done.Frame, done.Generation, Waited: true)));
        }
    }

    private void OnCancelRead(CancelRead cancel)
    {
        if (!_reading.Remove(cancel.Source, out var waiters))
            return;
        if (cancel.Source is MemoryQuery.OfFile)
            _memory.RemoveFromPageCache(cancel.Frame);
        else
            _memory.RemoveFromSwapCache(cancel.Frame);
        foreach (var (loader, id) in waiters)
            loader.Tell(new LookedUp(id, CacheAnswer.Retry.Instance));
    }

    private void OnAccessed(Accessed accessed)
    {
        foreach (var access in accessed.Accesses)
        {
            if (!CurrentTag(access.Frame, access.Generation) || _memory.UseOf(access.Frame) == FrameUse.Free)
            {
                _run.Events?.Record(Sender.Path.Name, Self.Path.Name, new SimEvent.StaleAccess(accessed.Cpu, access.Page, access.Frame));
                Violation($"stale translation used by {accessed.Cpu}: {access.Frame} of {access.Page} was freed or reused after it was cached");
                continue;
            }
            _memory.Referenced(access.Frame, access.Page);
            if (!access.Write)
                continue;
            _memory.Write(access.Frame, access.Offset, access.Value);
            _run.Events?.Record(Sender.Path.Name, Self.Path.Name, new SimEvent.StoreApplied(access.Page, _memory.WordOf(access.Offset),
                access.Value, _memory.UseOf(access.Frame) == FrameUse.Anonymous));
        }
    }

    private void Release(PageRelease page)
    {
        if (page.Frame is { } frame)
            _memory.Unmap(frame, page.Page);
        if (page.Slot is { } slot)
            DropSwapReference(slot);
    }

    private void DropSwapReference(SwapSlot slot)
    {
        if (_swap.Release(slot) && _memory.LookupSwapCache(slot) is { } cached)
            _memory.RemoveFromSwapCache(cached);
    }

    private void OnAddReferences(AddReferences add)
    {
        _run.Events?.Record(Sender.Path.Name, Self.Path.Name, new SimEvent.Forked(add.Parent, new ProcessId(add.ChildAsid.Value)));
        _addressSpaces[add.ChildAsid] = add.Child;
        foreach (var page in add.Pages)
        {
            if (page.Frame is { } frame)
                _memory.Map(frame, page.Page);
            if (page.Slot is { } slot)
                _swap.AddReference(slot);
        }
        Sender.Tell(new ReferencesAdded(add.Id));
    }

    private void OnReadContents(ReadContents read)
    {
        var words = read.Pages.Select(p => p.Frame is { } frame
            ? _memory.UseOf(frame) == FrameUse.Anonymous ? _memory.Content(frame).ToImmutableArray() : []
            : _memory.LookupSwapCache(p.Slot!.Value) is { } cached ? _memory.Content(cached).ToImmutableArray() : _swap.Read(p.Slot!.Value).ToImmutableArray());
        var changed = _memory.CachedFilePages
            .Select(page => (Page: page, Words: _memory.Content(_memory.LookupPageCache(page)!.Value).ToImmutableArray()))
            .Where(p => MemoryImage.Changed(p.Page, p.Words.AsSpan()));
        var report = new MemoryReport(
            _byProcess.ToImmutableDictionary(kv => kv.Key, kv => (kv.Value[Zeroed], kv.Value[Copied], kv.Value[Evicted], kv.Value[DiskWrites])),
            _memory.PeakInUse, MessagesReceived);
        Sender.Tell(new Contents([.. words], [.. changed], report));
    }

    private bool Current(FrameNumber frame, uint generation) =>
        _memory.UseOf(frame) != FrameUse.Free && _memory.Generation(frame) == generation;

    private bool CurrentTag(FrameNumber frame, uint tag) =>
        frame == FrameNumber.Zero || (_memory.UseOf(frame) != FrameUse.Free && _memory.GenerationTag(frame) == tag % Pte.GenerationTags);

    private long[] CountsOf(ProcessId pid) =>
        _byProcess.TryGetValue(pid, out var counts) ? counts : _byProcess[pid] = new long[4];

    private void Violation(string description) => _machine.Tell(new ViolationFound(description));
}

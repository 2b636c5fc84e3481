using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Paging;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Frames;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;

namespace Faultsim.Actors.Memory;

// Reclaim: requests for a frame wait while memory is full, and evictions free frames for them.
// An eviction takes its victim off the replacement lists and holds it (in the swap cache for an
// anonymous page, the page cache holds a file page), has each PTE that maps it replaced through the
// page's loader and mm (who shoot it down), writes it out, and frees it — unless a fault mapped it
// again meanwhile, in which case it stays and the requests wait for another eviction.
public sealed partial class MemoryActor
{
    private readonly Dictionary<Asid, IActorRef> _addressSpaces = [];
    private readonly Queue<FrameRequest> _waitingForFrames = new();
    private readonly Dictionary<long, Eviction> _evictions = [];
    private readonly HashSet<FrameNumber> _evicting = [];
    private readonly Dictionary<DiskRequestId, long> _writes = [];
    private IActorRef _loaders = ActorRefs.Nobody, _disk = ActorRefs.Nobody;
    private long _nextEviction, _nextWrite;

    private bool Reclaim(object message)
    {
        switch (message)
        {
            case ConnectMemory connect:
                (_loaders, _disk) = (connect.Loaders, connect.Disk);
                foreach (var (asid, mm) in connect.AddressSpaces)
                    _addressSpaces[asid] = mm;
                return true;
            case PteReplaced replaced when _evictions.TryGetValue(replaced.EvictionId, out var eviction):
                if (replaced.Replaced)
                    _memory.Unmap(eviction.Frame, replaced.Page);
                else if (eviction.Slot is { } unused)
                    _swap.Release(unused); // the PTE kept its frame: it holds no reference to the slot
                if (--eviction.Unmapping == 0)
                    Unmapped(eviction);
                return true;
            case PageWritten written when _writes.Remove(written.Id, out var id):
                Complete(_evictions[id]);
                return true;
            case PageOut pageOut:
                OnPageOut(pageOut);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Runs <paramref name="allocate"/> once a frame is free; a Prepare that cannot get one ends in the OOM killer.</summary>
    private void WithFrame(Prepare prepare, Action allocate, Action? restore = null) =>
        WithFrame(prepare.Pid, prepare.Then.Cpu, allocate, () =>
        {
            restore?.Invoke();
            prepare.AddressSpace.Tell(new KillProcess(ProcessFate.KilledByOom, prepare.Then.Cpu));
            _waker.Ended(prepare.Then.Waiters, prepare.Page, prepare.Then.Report, counted: false, FaultOutcome.Killed);
        });

    /// <param name="cpu">The CPU that needs the frame: reclaim for it runs there.</param>
    private void WithFrame(ProcessId pid, CpuId cpu, Action allocate, Action outOfMemory)
    {
        if (!_memory.IsFull)
        {
            allocate();
            return;
        }
        _waitingForFrames.Enqueue(new FrameRequest(pid, cpu, allocate, outOfMemory));
        ServeWaitingForFrames();
    }

    /// <summary>Gives free frames to the requests in arrival order, and starts as many evictions as the rest need.</summary>
    private void ServeWaitingForFrames()
    {
        if (_waitingForFrames.Count == 0)
            return; // the common case, after every message
        while (_waitingForFrames.Count > 0 && !_memory.IsFull)
            _waitingForFrames.Dequeue().Allocate();
        var needed = _waitingForFrames.Count - _evictions.Values.Count(e => e.Done is null);
        while (needed-- > 0 && _memory.Evictable > 0)
        {
            var request = _waitingForFrames.Peek();
            Evict(_memory.ChooseVictim(), request.Pid, request.Cpu, done: null);
        }
        if (_waitingForFrames.Count > 0 && _evictions.Count == 0)
        {
            while (_waitingForFrames.TryDequeue(out var request))
                request.OutOfMemory(); // nothing can be freed: the OOM killer
        }
    }

    private void Evict(FrameNumber frame, ProcessId initiator, CpuId cpu, Action? done)
    {
        _memory.Isolate(frame);
        var anonymous = _memory.UseOf(frame) == FrameUse.Anonymous;
        SwapSlot? slot = null;
        var freshSlot = false;
        if (anonymous)
        {
            // The eviction holds the slot (and, through the swap cache, the frame) until it is done.
            if (_memory.IsSwapCached(frame))
            {
                slot = _memory.SwapSlotOf(frame);
                _swap.AddReference(slot.Value);
            }
            else
            {
                slot = _swap.Allocate(_memory.Content(frame), references: 1);
                _memory.AddToSwapCache(frame, slot.Value);
                freshSlot = true;
            }
        }
        var eviction = new Eviction(++_nextEviction, frame, initiator, slot, freshSlot, done);
        _evictions[eviction.Id] = eviction;
        _evicting.Add(frame);
        var replacement = slot is { } s ? Pte.Swapped(s) : Pte.None;
        var mappers = _memory.Mappers(frame);
        eviction.Unmapping = mappers.Count;
        eviction.Pages = [.. mappers];
        foreach (var page in mappers)
        {
            if (_addressSpaces.TryGetValue(page.Asid, out var mm))
            {
                // The PTE holds the slot from the moment its mm replaces it, which may be well before the reply: a fault
                // can swap the page back in (and drop the PTE's reference) in between.
                if (slot is { } held)
                    _swap.AddReference(held);
                _loaders.Tell(new EvictPage(eviction.Id, page, frame, replacement, cpu, mm, Self));
            }
            else
                eviction.Unmapping--; // no mm is known for it: it cannot be unmapped, so the eviction will keep the frame
        }
        if (eviction.Unmapping == 0)
            Unmapped(eviction);
    }

    private void Unmapped(Eviction eviction)
    {
        // Only now, with every PTE gone and shot down, can nobody write the page any more: dirty or not is final.
        var write = eviction.FreshSlot || _memory.IsDirty(eviction.Frame);
        if (_memory.MapCount(eviction.Frame) > 0 || !write)
        {
            Complete(eviction);
            return;
        }
        var content = _memory.Content(eviction.Frame).ToImmutableArray();
        DiskBlock block = eviction.Slot is { } slot ? new DiskBlock.OfSwap(slot) : new DiskBlock.OfFile(_memory.CachedFilePage(eviction.Frame));
        if (eviction.Slot is { } swapSlot)
            _swap.Write(swapSlot, content.AsSpan());
        var request = new DiskRequestId(++_nextWrite);
        _writes[request] = eviction.Id;
        CountsOf(eviction.Initiator)[DiskWrites]++;
        _disk.Tell(new WritePage(request, block, content));
    }

    /// <summary>The page is out: the frame is freed — unless a fault mapped it again meanwhile, and then it stays.</summary>
    private void Complete(Eviction eviction)
    {
        _evictions.Remove(eviction.Id);
        var frame = eviction.Frame;
        _evicting.Remove(frame);
        if (_memory.MapCount(frame) > 0)
        {
            if (eviction.Slot is { } kept)
                DropSwapReference(kept);
            _memory.Activate(frame);
        }
        else
        {
            if (eviction.Slot is { } slot)
            {
                _memory.RemoveFromSwapCache(frame);
                _swap.Release(slot);
            }
            else
            {
                _memory.RemoveFromPageCache(frame);
            }
            CountsOf(eviction.Initiator)[Evicted]++;
            _run.Events?.Record(Self.Path.Name, null, new SimEvent.PageEvicted(frame, eviction.Pages));
        }
        eviction.Done?.Invoke();
        ServeWaitingForFrames();
    }

    /// <summary>MADV_PAGEOUT: evicts the frames the process alone maps, then answers.</summary>
    private void OnPageOut(PageOut pageOut)
    {
        var mm = Sender;
        var frames = pageOut.Frames.Where(f => _memory.UseOf(f) != FrameUse.Free && _memory.MapCount(f) == 1
                                               && !_evicting.Contains(f)).Distinct().ToList();
        var remaining = frames.Count;
        if (remaining == 0)
        {
            mm.Tell(new PagedOut(pageOut.Id));
            return;
        }
        foreach (var frame in frames)
            Evict(frame, pageOut.Pid, pageOut.Cpu, () => { if (--remaining == 0) mm.Tell(new PagedOut(pageOut.Id)); });
    }

    /// <summary>
    /// Puts a frame on the replacement lists — unless an eviction holds it: a fault that maps it again meanwhile leaves it
    /// to the eviction, which puts it back when it completes (as Linux's reclaim does with an isolated page).
    /// </summary>
    private void Activate(FrameNumber frame)
    {
        if (!_evicting.Contains(frame))
            _memory.Activate(frame);
    }

    /// <summary>A request waiting for a free frame.</summary>
    private sealed record FrameRequest(ProcessId Pid, CpuId Cpu, Action Allocate, Action OutOfMemory);

    /// <summary>One eviction in progress.</summary>
    private sealed class Eviction(long id, FrameNumber frame, ProcessId initiator, SwapSlot? slot, bool freshSlot, Action? done)
    {
        public long Id { get; } = id;
        public FrameNumber Frame { get; } = frame;
        public ProcessId Initiator { get; } = initiator;
        public SwapSlot? Slot { get; } = slot;
        /// <summary>The slot was allocated for this eviction: the page must be written to it.</summary>
        public bool FreshSlot { get; } = freshSlot;
        /// <summary>Set for a MADV_PAGEOUT eviction: what to do when it is over (it serves no waiting request).</summary>
        public Action? Done { get; } = done;
        public int Unmapping { get; set; }
        public ImmutableArray<PageKey> Pages { get; set; } = [];
    }
}

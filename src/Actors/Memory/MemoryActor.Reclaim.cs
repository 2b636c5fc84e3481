using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Paging;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Memory;

namespace Faultsim.Actors.Memory;

// Reclaim: requests for a frame wait while memory is full, and evictions free frames for them. The model's
// MemoryManager decides each eviction (its victim, its swap slot, what each PTE becomes, what is written out, whether
// the frame is freed or kept); here each PTE is replaced through the page's loader and mm (who shoot it down), the
// page is written out through the disk, and the frame freed — unless a fault mapped it again meanwhile.
public sealed partial class MemoryActor
{
    private readonly Queue<Waiting> _waiting = new();
    private readonly Dictionary<long, (Eviction Eviction, long? PageOut)> _evictions = [];
    private readonly Dictionary<long, (IActorRef Mm, long RequestId, int Remaining)> _pageOuts = [];
    private readonly Dictionary<DiskRequestId, long> _writes = [];
    private readonly Receive _serving;
    private readonly ReclaimReport _reclaimReport;
    private long _nextWrite, _nextPageOut;
    private long _progress, _progressSeen;   // reclaim's steps, and how many there were when Reclaiming was last entered
    private bool _reclaiming;
    private bool _throttled; // an eviction freed nothing: no new one until the throttle's end (or a frame freed meanwhile)

    /// <summary>
    /// After each message: memory is Reclaiming while a request waits for a frame or an eviction is under way, and
    /// each step of reclaim enters that waiting state afresh (its bound is on a step, not on a long stretch of pressure).
    /// </summary>
    private void Reclaiming()
    {
        if (_waiting.Count == 0 && _evictions.Count == 0)
        {
            if (_reclaiming)
                Become(nameof(Serving), _serving);
            _reclaiming = false;
            return;
        }
        if (_reclaiming && _progress == _progressSeen)
            return;
        (_reclaiming, _progressSeen) = (true, _progress);
        BecomeWaiting(nameof(Reclaiming), _serving, "its evictions to free frames (PteReplaced from the mms, PageWritten from the disk)", _reclaimReport);
    }

    private bool Reclaim(object message)
    {
        switch (message)
        {
            case PteReplaced replaced when _evictions.TryGetValue(replaced.EvictionId, out var eviction):
                _progress++;
                _memory.Unmapped(eviction.Eviction, replaced.Page, replaced.Replaced);
                if (eviction.Eviction.Unmapping == 0)
                    WriteOut(eviction.Eviction);
                return true;
            case PageWritten written when _writes.Remove(written.Id, out var id):
                _progress++;
                Finish(_evictions[id].Eviction);
                return true;
            case PageOut pageOut:
                OnPageOut(pageOut, Sender);
                return true;
            case ReclaimThrottled:
                _throttled = false;
                return true;
            default:
                return false;
        }
    }

    /// <summary>A request that needs a free frame: a read's reservation, a preparation's new frame (keeping a copy's source).</summary>
    private abstract record Waiting(ProcessId Pid, CpuId Cpu, FrameNumber? Keep)
    {
        public sealed record Read(LookUp LookUp, IActorRef Asker) : Waiting(LookUp.Page.Asid.Pid, LookUp.Cpu, null);

        /// <summary>Planted bug no-leader-election: a second reader of a page being read, into a frame of its own.</summary>
        public sealed record SecondRead(LookUp LookUp, IActorRef Asker) : Waiting(LookUp.Page.Asid.Pid, LookUp.Cpu, null);

        public sealed record Frame(Prepare Prepare, FrameNumber? Keep) : Waiting(Prepare.Pid, Prepare.Then.Cpu, Keep);
    }

    /// <summary>Serves <paramref name="request"/> now if a frame is free, else queues it (reclaim runs on its CPU).</summary>
    private void WithFrame(Waiting request)
    {
        if (_memory.IsFull)
            _waiting.Enqueue(request);
        else
            Serve(request);
    }

    private void Serve(Waiting request)
    {
        _progress++;
        switch (request)
        {
            case Waiting.Read read:
                ReserveRead(read);
                break;
            case Waiting.SecondRead { LookUp.Query: MemoryQuery.OfSwap { Slot: var slot } } second when _memory.IsStale(slot):
                // As a first read's (ReserveRead): while it waited for a frame, the read it doubled installed the page and
                // freed the slot, so the entry is stale and the fault faults again.
                second.Asker.Tell(new LookedUp(second.LookUp.Id, CacheAnswer.Retry.Instance));
                break;
            case Waiting.SecondRead second:
                var own = _memory.Frames.AllocateAnonymous();
                Unsettled(own);
                second.Asker.Tell(new LookedUp(second.LookUp.Id, new CacheAnswer.Reserved(own, _memory.Frames.Generation(own))));
                break;
            case Waiting.Frame frame:
                PrepareWithFrame(frame.Prepare);
                break;
        }
    }

    /// <summary>No frame can be freed for <paramref name="request"/>: the OOM killer ends its process.</summary>
    private void OutOfMemory(Waiting request)
    {
        switch (request)
        {
            case Waiting.Read or Waiting.SecondRead:
                var (lookUp, asker) = request is Waiting.Read r ? (r.LookUp, r.Asker) : (((Waiting.SecondRead)request).LookUp, ((Waiting.SecondRead)request).Asker);
                asker.Tell(new LookedUp(lookUp.Id, CacheAnswer.OutOfMemory.Instance));
                if (request is Waiting.Read)
                    RetryReaders(lookUp.Query);
                break;
            case Waiting.Frame { Prepare: var prepare }:
                if (prepare.What is Preparation.ReadDone done)
                    Settle(done.Frame, done.Generation);
                Peers.AddressSpace(prepare.Page.Asid).Tell(new KillProcess(ProcessFate.KilledByOom, prepare.Then.Cpu));
                _waker.Ended(prepare.Then.Waiters, prepare.Page, prepare.Then.Report, counted: false, FaultOutcome.Killed);
                break;
        }
    }

    /// <summary>Gives free frames to the waiting requests in arrival order, and starts as many evictions as the rest need.</summary>
    private void ServeWaiting()
    {
        while (_waiting.Count > 0)
        {
            while (_waiting.Count > 0 && !_memory.IsFull)
                Serve(_waiting.Dequeue());
            var needed = _waiting.Count - _evictions.Values.Count(e => e.PageOut is null);
            if (needed <= 0 || _throttled)
                return;
            // The next request to get a frame keeps its copy's source; the sources of those behind it go only when nothing
            // else can (their faults then start over), so two copies waiting on each other's source cannot stall reclaim.
            var head = _waiting.Peek();
            var rather = _waiting.Skip(1).Select(w => w.Keep).OfType<FrameNumber>().ToList();
            while (needed-- > 0 && _memory.ChooseVictim(head.Keep, rather) is { } victim)
                Evict(victim, head.Pid, head.Cpu, pageOut: null);
            if (_memory.IsFull)
                break; // the evictions take their time (or there is nothing to evict)
        }
        if (_waiting.Count > 0 && _evictions.Count == 0 && !AnyUnsettled())
        {
            while (_waiting.TryDequeue(out var request))
                OutOfMemory(request); // nothing can be freed, nor will be: the OOM killer
        }
    }

    private void Evict(FrameNumber frame, ProcessId initiator, CpuId cpu, long? pageOut)
    {
        var eviction = _memory.BeginEviction(frame, initiator);
        _evictions[eviction.Id] = (eviction, pageOut);
        foreach (var page in eviction.Mappers)
            Peers.Loaders.Tell(new EvictPage(eviction.Id, page, frame, eviction.Replacement, cpu));
        if (eviction.Unmapping == 0)
            WriteOut(eviction);
    }

    /// <summary>Every PTE is replaced and shot down: what must be written goes to the disk, and then the eviction is over.</summary>
    private void WriteOut(Eviction eviction)
    {
        if (_memory.WriteOut(eviction) is not { } write)
        {
            Finish(eviction);
            return;
        }
        var request = new DiskRequestId(++_nextWrite);
        _writes[request] = eviction.Id;
        DiskBlock block = write.Block switch
        {
            PageSource.FromSwap swap => new DiskBlock.OfSwap(swap.Slot),
            PageSource.FromFile file => new DiskBlock.OfFile(file.Page),
            _ => throw new InvalidOperationException($"no disk block for {write.Block}"),
        };
        Peers.Disk.Tell(new WritePage(request, block, [.. write.Content]));
    }

    /// <summary>The page is out: the frame is freed — unless a fault mapped it again meanwhile, and then it stays.</summary>
    private void Finish(Eviction eviction)
    {
        var (_, pageOut) = _evictions[eviction.Id];
        _evictions.Remove(eviction.Id);
        if (_memory.Finish(eviction))
            _run.Events?.Record(Self.Path.Name, null, new SimEvent.PageEvicted(eviction.Frame, [.. eviction.Mappers]));
        else if (_waiting.Count > 0 && !_throttled)
            Throttle();
        if (pageOut is { } id && _pageOuts[id] is var (mm, requestId, remaining))
        {
            if (remaining == 1)
            {
                _pageOuts.Remove(id);
                mm.Tell(new PagedOut(requestId));
            }
            else
            {
                _pageOuts[id] = (mm, requestId, remaining - 1);
            }
        }
    }

    /// <summary>
    /// An eviction freed nothing (each PTE it came for had changed, or a fault mapped the frame again): the victim would
    /// be the same at once, and what frees it — an exit's or a munmap's release after its shootdown — may be waiting on
    /// time (an IPI's delivery). So reclaim waits, as Linux's throttles when it makes no progress, instead of spinning.
    /// </summary>
    private void Throttle()
    {
        _throttled = true;
        _time.Send(Self, ReclaimThrottled.Instance, _run.Latencies.ReclaimThrottle, Self);
    }

    /// <summary>MADV_PAGEOUT: evicts the frames the process alone maps, then answers.</summary>
    private void OnPageOut(PageOut pageOut, IActorRef mm)
    {
        var frames = _memory.PageOutCandidates(pageOut.Frames);
        if (frames.Count == 0)
        {
            mm.Tell(new PagedOut(pageOut.Id));
            return;
        }
        var id = ++_nextPageOut;
        _pageOuts[id] = (mm, pageOut.Id, frames.Count);
        foreach (var frame in frames)
            Evict(frame, pageOut.Pid, pageOut.Cpu, id);
    }

    /// <summary>What reclaim waits on, read only when a stuck wait is reported.</summary>
    private sealed class ReclaimReport(MemoryActor memory)
    {
        public override string ToString() =>
            $"{memory._waiting.Count} request(s) waiting for a frame, {memory._evictions.Count} eviction(s) under way";
    }
}

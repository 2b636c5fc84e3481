using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.Disk;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Faults;
using Faultsim.Model.Memory;
using Faultsim.Model.PageTables;

namespace Faultsim.Actors.Memory;

// Readahead and fault-around, as the model's Readahead and MemoryManager decide them: a miss reserves its window's pages
// with its own (the loader reads them in its one request); a hit on a marked page reads the next window, memory's own
// request, before the hit is answered; madvise(WILLNEED) reads its windows, one request each, before it returns. Pages
// being read ahead are locked like any read (a fault on one waits for it). A read fault's install takes the page's cached
// neighbours along (fault-around), each referenced for its PTE; the mm installs those whose PTE is empty.
public sealed partial class MemoryActor
{
    private readonly Dictionary<DiskRequestId, AheadRequest> _aheadReads = [];   // memory's own reads in flight
    private readonly Dictionary<FaultId, HashSet<FilePage>> _readFor = [];        // pages a fault's marker read: not mapped around by it
    private readonly Dictionary<long, (IActorRef Mm, long RequestId, int Remaining)> _willNeeds = [];
    private long _nextRead, _nextWillNeed;

    /// <summary>A hit on a marked page, answered once the next window is read.</summary>
    private sealed record PendingHit(IActorRef Asker, FaultId Id, FrameNumber Frame, uint Generation);

    /// <summary>One of memory's own readahead requests: its pages, and whom its end answers (a marker's hit, or a WILLNEED call).</summary>
    private sealed record AheadRequest(ImmutableArray<ReservedAhead> Pages, PendingHit? Hit, long? WillNeed);

    /// <summary>
    /// Reserves <paramref name="window"/>'s pages that are not cached, in frames free now — none while another request waits
    /// for a frame — each locked (a lookup waits for it) and held off reclaim until it is read; a request of memory's own
    /// counted for <paramref name="requestOf"/> (<see cref="MemoryManager.ReserveAhead"/>).
    /// </summary>
    private ImmutableArray<ReservedAhead> ReserveAhead(ReadaheadWindow window, FilePage? except, ProcessId? requestOf)
    {
        if (_waiting.Count > 0)
            return [];
        var reserved = _memory.ReserveAhead(window, except, requestOf);
        if (reserved.Count == 0)
            return [];
        var pages = ImmutableArray.CreateBuilder<ReservedAhead>(reserved.Count);
        foreach (var (page, frame) in reserved)
        {
            _reading[new MemoryQuery.OfFile(page)] = [];
            Unsettled(frame);
            pages.Add(new ReservedAhead(page, frame, _memory.Frames.Generation(frame)));
        }
        return pages.MoveToImmutable();
    }

    /// <summary>Readahead pages read: each is filled and unlocked (those waiting for it get it, as a read they waited for), or, failed, leaves the cache.</summary>
    private void FillAhead(ImmutableArray<AheadPage> pages)
    {
        foreach (var page in pages)
        {
            var query = new MemoryQuery.OfFile(page.Page);
            if (page.Failed)
            {
                OnCancelRead(new CancelRead(query, page.Frame));
                continue;
            }
            _memory.FillRead(page.Frame, new PageSource.FromFile(page.Page), page.Content.AsSpan());
            Unlock(query, page.Frame, page.Generation, waited: true);
            Settle(page.Frame, page.Generation); // only cached: reclaim may take it now
        }
    }

    /// <summary>Memory's own request for <paramref name="request"/>'s pages (the first is the request's block), made for <paramref name="pid"/>.</summary>
    private void ReadAhead(ImmutableArray<ReservedAhead> pages, AheadRequest request, ProcessId pid)
    {
        var id = new DiskRequestId(++_nextRead);
        _aheadReads[id] = request;
        var blocks = pages.Select(p => (DiskBlock)new DiskBlock.OfFile(p.Page)).ToImmutableArray();
        if (_run.Events is { } events)
        {
            events.Record(Self.Path.Name, Peers.Disk.Path.Name, new SimEvent.ReadAheadStarted(pid, blocks.Length));
            foreach (var block in blocks)
                events.Record(Self.Path.Name, Peers.Disk.Path.Name, new SimEvent.DiskReadStarted(0, block.ToString()));
        }
        Peers.Disk.Tell(new ReadPage(id, blocks[0], blocks.RemoveAt(0)) { Demanded = false });
    }

    /// <summary>Memory's own read is done (<paramref name="read"/> null: it failed): its pages are filled, then its caller answered.</summary>
    private void ReadAheadDone(AheadRequest request, PageRead? read)
    {
        var pages = request.Pages;
        FillAhead([.. pages.Select((p, i) => new AheadPage(p.Page, p.Frame, p.Generation, read is null || (i == 0 ? read.BlockFailed : read.Ahead[i - 1].Failed),
            read is null ? [] : i == 0 ? read.Content : read.Ahead[i - 1].Content))]);
        if (request.Hit is { } hit)
            hit.Asker.Tell(new LookedUp(hit.Id, new CacheAnswer.Hit(hit.Frame, hit.Generation, Waited: false)));
        if (request.WillNeed is { } call && _willNeeds.TryGetValue(call, out var pending))
            WillNeedRead(call, pending with { Remaining = pending.Remaining - 1 });
    }

    /// <summary>madvise(MADV_WILLNEED): each window's pages not cached, read in a request of its own; the call returns once all are read.</summary>
    private void OnWillNeed(WillNeed willNeed, IActorRef mm)
    {
        var call = ++_nextWillNeed;
        var requests = 0;
        foreach (var window in willNeed.Windows)
        {
            if (ReserveAhead(window, except: null, willNeed.Pid) is { Length: > 0 } pages)
            {
                ReadAhead(pages, new AheadRequest(pages, null, call), willNeed.Pid);
                requests++;
            }
        }
        WillNeedRead(call, (mm, willNeed.Id, requests));
    }

    private void WillNeedRead(long call, (IActorRef Mm, long RequestId, int Remaining) pending)
    {
        if (pending.Remaining > 0)
        {
            _willNeeds[call] = pending;
            return;
        }
        _willNeeds.Remove(call);
        pending.Mm.Tell(new WillNeeded(pending.RequestId));
    }

    /// <summary>
    /// Fault-around for a read fault's install: its cached neighbours (<see cref="MemoryManager.AroundFault"/>; not those the
    /// fault's own marker read), each referenced for its PTE, for the mm to install where the PTE is empty.
    /// </summary>
    private ImmutableArray<(PageNumber Page, Pte Pte)> Around(Prepare prepare, IReadOnlySet<FilePage>? readAhead)
    {
        var around = _memory.AroundFault(prepare.Page.Page.BaseAddress, prepare.Access, prepare.Vma, prepare.FileSize, prepare.Effect, readAhead);
        if (around.Count == 0)
            return [];
        var flags = InstallRules.AroundPage(prepare.Vma);
        var ptes = ImmutableArray.CreateBuilder<(PageNumber, Pte)>(around.Count);
        foreach (var (page, frame) in around)
        {
            _memory.Map(frame, new PageKey(prepare.Page.Asid, page), prepare.Vma.IsLocked); // locked as the fault's own page is
            ptes.Add((page, Pte.Mapped(frame, flags, _memory.Frames.Generation(frame))));
        }
        return ptes.MoveToImmutable();
    }
}

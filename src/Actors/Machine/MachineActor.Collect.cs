using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Placement;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Memory;
using Faultsim.Model.PageTables;

namespace Faultsim.Actors.Machine;

// The end of a run: every mm reports its page table and counts, memory the content of the live
// processes' pages, the router its loaders; the machine adds them up into the RunResult.
public sealed partial class MachineActor
{
    public const string EngineName = "actors";

    private long _tlbMessages, _diskMessages;
    private readonly Dictionary<ResolutionKind, LatencyHistogram> _latency = [];

    private void Collect()
    {
        foreach (var process in _processes.Values)
            Peers.AddressSpace(process.Asid).Tell(new ReportAddressSpace(WithEntries: _settings.CaptureMemory));
        Become(nameof(CollectingMms), m => CollectingMms(m, ImmutableDictionary<ProcessId, AddressSpaceReport>.Empty));
    }

    private bool CollectingMms(object message, ImmutableDictionary<ProcessId, AddressSpaceReport> reports)
    {
        if (message is not AddressSpaceReport report)
            return Always(message);
        reports = reports.SetItem(report.Pid, report);
        var entry = _processes.Values.First(p => p.Pid == report.Pid);
        _processes[entry.Name] = entry with { Fate = report.Fate }; // the mm knows best how its process ended
        if (reports.Count < _processes.Count)
        {
            Become(nameof(CollectingMms), m => CollectingMms(m, reports));
            return true;
        }
        var live = _settings.CaptureMemory
            ? _processes.Values.Where(p => p.Fate == ProcessFate.Running).OrderBy(p => p.Pid.Value).ToList()
            : [];
        var ptes = ImmutableArray.CreateBuilder<Pte>(live.Sum(p => reports[p.Pid].Entries.Length));
        foreach (var process in live)
        {
            foreach (var (_, pte) in reports[process.Pid].Entries)
                ptes.Add(pte);
        }
        Peers.Memory.Tell(new ReadContents(ptes.MoveToImmutable()));
        var pages = live.SelectMany(p => reports[p.Pid].Entries.Select(e => (p.Pid, e.Page))); // in the order of the PTEs asked
        Become(nameof(ReadingMemory), m => ReadingMemory(m, reports, pages));
        return true;
    }

    private bool ReadingMemory(object message, ImmutableDictionary<ProcessId, AddressSpaceReport> reports, IEnumerable<(ProcessId Pid, PageNumber Page)> pages)
    {
        if (message is not Contents contents)
            return Always(message);
        Peers.Disk.Tell(ReadWrittenFiles.Instance);
        Become(nameof(ReadingFiles), m => ReadingFiles(m, reports, pages, contents));
        return true;
    }

    private bool ReadingFiles(object message, ImmutableDictionary<ProcessId, AddressSpaceReport> reports, IEnumerable<(ProcessId Pid, PageNumber Page)> pages,
        Contents contents)
    {
        if (message is not WrittenFiles written)
            return Always(message);
        _diskMessages = written.MessagesReceived;
        var image = Image(pages, contents, written);
        Peers.Loaders.Tell(GetRouterStats.Instance);
        foreach (var tlb in Peers.Tlbs)
            tlb.Tell(Tlb.GetTlbStats.Instance);
        foreach (var node in _nodeRuns)
            node.Tell(GetTraffic.Instance);
        var collected = new Collected(reports, contents.Report, image, Router: null, Tlbs: 0, Nodes: [], CrossNode: 0);
        Become(nameof(CollectingStats), m => CollectingStats(m, collected));
        return true;
    }

    private bool CollectingStats(object message, Collected collected)
    {
        switch (message)
        {
            case RouterStats router:
                collected = collected with { Router = router };
                break;
            case Tlb.TlbStats stats:
                _tlbMessages += stats.MessagesReceived;
                foreach (var latencies in stats.Latencies)
                {
                    if (!_latency.TryGetValue(latencies.Kind, out var merged))
                        _latency[latencies.Kind] = merged = new LatencyHistogram();
                    merged.Merge(latencies.Buckets, latencies.Max);
                }
                collected = collected with { Tlbs = collected.Tlbs + 1 };
                break;
            case Traffic traffic:
                collected = collected with { Nodes = collected.Nodes.Add(Sender), CrossNode = collected.CrossNode + traffic.Received };
                break;
            case LoadersRetired retired:
                OnRetired(retired);
                break;
            case LoadsHeld:
                OnHeld();
                break;
            default:
                return Always(message);
        }
        if (collected.Router is { } done && collected.Tlbs == Peers.Tlbs.Length && _nodeRuns.TrueForAll(collected.Nodes.Contains) && LeavesAcknowledged)
            Finish(collected.Reports, collected.Memory, done, collected.Image, collected.CrossNode);
        else
            Become(nameof(CollectingStats), m => CollectingStats(m, collected));
        return true;
    }

    /// <summary>What the end of a run has gathered once memory and the disk have answered.</summary>
    /// <param name="Nodes">The nodes' run parts (of a cluster run) that told their traffic so far — awaited by who they are, not
    /// by how many, since a node that leaves meanwhile is no longer asked; <paramref name="CrossNode"/> is what their parts got from other nodes.</param>
    private sealed record Collected(ImmutableDictionary<ProcessId, AddressSpaceReport> Reports, MemoryReport Memory, MemoryImage Image, RouterStats? Router, int Tlbs,
        ImmutableHashSet<IActorRef> Nodes, long CrossNode);

    /// <summary>The run's memory as processes would read it: their anonymous pages, and the file pages changed (the page cache over the disk).</summary>
    private MemoryImage Image(IEnumerable<(ProcessId Pid, PageNumber Page)> pages, Contents contents, WrittenFiles written)
    {
        return MemoryImage.Of(PageImages.Of(pages, contents.Words, contents.WordsPerPage),
            written.Pages.Select(p => (p.Page, p.Words.ToArray())), contents.ChangedFilePages.Select(p => (p.Page, p.Words.ToArray())),
            _files.Name);
    }

    private void Finish(ImmutableDictionary<ProcessId, AddressSpaceReport> reports, MemoryReport memory, RouterStats router, MemoryImage image, long crossNode)
    {
        var processes = _processes.Values.OrderBy(p => p.Pid.Value).Select(p =>
        {
            var counters = new Counters();
            foreach (var cpu in _finished.Values)
            {
                if (cpu.ByProcess.TryGetValue(p.Pid, out var s))
                    AddQuantumStats(counters, s);
            }
            var mm = reports[p.Pid];
            counters.Shootdowns = mm.Shootdowns;
            counters.Ipis = mm.Ipis;
            counters.SyscallErrors = mm.SyscallErrors;
            if (memory.ByProcess.TryGetValue(p.Pid, out var m))
                counters.Add(m); // with memory's own readahead requests, beside the faults' reads
            return new ProcessReport(p.Pid, p.Name, p.Fate, counters);
        }).ToImmutableArray();
        var totals = new Counters();
        foreach (var p in processes)
            totals.Add(p.Counters);
        var messages = MessagesReceived + memory.MessagesReceived + router.Messages + _retiredMessages + _tlbMessages + _diskMessages
                       + reports.Values.Sum(r => r.MessagesReceived) + _finished.Values.Sum(c => c.MessagesReceived);
        var result = new RunResult(EngineName, _seed, Peers.Cpus.Length, totals, processes, _settings.CaptureMemory ? image : null,
            _finished.Values.Sum(c => c.Steps), _panic)
        {
            Violations = [.. _violations],
            Messages = messages,
            NeverStarted = [.. _neverStarted],
            FaultLatency = [.. _latency.OrderBy(kv => kv.Key).Select(kv => LatencySummary.Of(kv.Key, kv.Value))],
            Placement = [.. _placed],
            NodesLeft = [.. _nodesLeft],
            CrossNodeMessages = crossNode + (_settings.Run.Traffic?.Received ?? 0),
        };
        End(new RunFinished(result));
    }

    private static void AddQuantumStats(Counters counters, Tlb.QuantumStats stats)
    {
        counters.TlbHits += stats.Hits;
        counters.TlbMisses += stats.Misses;
        counters.Accesses += stats.Accesses;
        counters.DiskReads += stats.DiskReads;
        counters.Minor += stats.Minor;
        counters.Major += stats.Major;
        foreach (var kind in Enum.GetValues<ResolutionKind>())
            counters[kind] += stats.FaultsByKind[(int)kind];
    }
}

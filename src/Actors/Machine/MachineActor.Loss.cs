using System.Collections.Immutable;
using System.Globalization;
using Akka.Actor;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Placement;

namespace Faultsim.Actors.Machine;

// A cluster run that loses a node (only a cluster run's machine watches its parts). What can move is the loaders' routing
// point: the page loaders are entities of shards, which the cluster moves to the pager nodes that stay.
//   NodeLeaving (a graceful leave, before the node's shards hand off), every part of the node a routing point and another
//   pager node staying ──▶ HoldLoads to the routing point that stays (a shard that hands off drops what reaches it)
//   ──LoadsHeld (no load in flight through it any more)──▶ LoadersMoved to memory and the mms (when the directory named the
//   node's) and RetireLoaders to it ──LoadersRetired (drained, its loads idle)──▶ LeaveAcknowledged: the node hands its
//   shards off, no loader there holding a load ──NodeHandedOff (or its host Terminated)──▶ ReleaseLoads: the held page
//   messages go to the shards' new homes, and the run goes on without the node.
//   NodeLeaving with a part that cannot move (a CPU, a TLB, an mm, memory, the disk) or no pager node left, or any part or
//   host of a node Terminated (the cluster downed it: killed, or unreachable past down-unreachable-after) ──▶ Reporting:
//   every TLB elsewhere is asked which fault it waits on ──PendingFault (each, or the report's bound)──▶ Done (RunLost)
public sealed partial class MachineActor
{
    /// <summary>How long the machine waits for the TLBs' answers before it ends a run that lost a node with what it has.</summary>
    public static readonly TimeSpan LossReportBound = TimeSpan.FromSeconds(2);

    private readonly Dictionary<Part, IActorRef> _partActors = [];                    // a cluster run: each part's actor
    private readonly HashSet<string> _goneNodes = new(StringComparer.Ordinal);         // nodes that left, the run going on without them
    private readonly List<Model.Machine.NodeLeft> _nodesLeft = [];                      // what the result says of them
    private readonly Dictionary<string, Leave> _leaves = new(StringComparer.Ordinal); // pager nodes leaving, until their shards have moved
    private long _retiredMessages;
    private readonly HashSet<string> _unreachable = new(StringComparer.Ordinal); // members unreachable now, as the node's watch says
    private ICancelable? _lossReport;

    private static string NodeOf(IActorRef actor) => actor.Path.Address.ToString();

    private List<Part> PartsOn(string node) => [.. _partActors.Where(p => NodeOf(p.Value) == node).Select(p => p.Key).OrderBy(p => p.Kind).ThenBy(p => p.Index)];

    /// <summary>A node of the run is leaving the cluster: its routing points retire if the run can go on without them; else the run ends.</summary>
    private void OnLeaving(string node, IActorRef runParts)
    {
        var parts = PartsOn(node);
        var fixedParts = parts.Where(p => p.Kind != PartKind.Loaders).ToList();
        var staying = _partActors.Where(p => p.Key.Kind == PartKind.Loaders && NodeOf(p.Value) != node && !_goneNodes.Contains(NodeOf(p.Value)))
            .OrderBy(p => p.Key.Index).ToList();
        if (StateName is nameof(Placing) or nameof(Connecting))
        {
            Lose(node, "is leaving the cluster", "the run had not started", runParts);
            return;
        }
        if (fixedParts.Count > 0)
        {
            Lose(node, "is leaving the cluster", $"{Names(fixedParts)} cannot move to another node", runParts);
            return;
        }
        if (staying.Count == 0)
        {
            Lose(node, "is leaving the cluster", "no other pager node of the run is left to host its page loaders", runParts);
            return;
        }
        _goneNodes.Add(node);
        foreach (var part in parts)
            Context.Unwatch(_partActors[part]); // its host stays watched: when it stops, the node's shards have moved
        _nodeRuns.Remove(runParts); // its traffic is not asked for at the end: the node is gone by then
        var next = staying[0];
        var old = parts.Select(p => _partActors[p]).FirstOrDefault(a => a.Equals(Peers.Loaders)); // null: no page message comes to its routing point
        var leave = new Leave(runParts, old is null ? Peers.Loaders : next.Value, old, next.Key.Name, [.. staying.Select(p => p.Value)]);
        _leaves[node] = leave;
        leave.Router.Tell(HoldLoads.Instance);
    }

    /// <summary>A pager node that leaves: the run's parts there, the routing point that holds page messages meanwhile, and the one the node's replaces (if the directory named it).</summary>
    /// <remarks>A class, not a record: its progress changes as the leave goes on, and a record's equality would follow it.</remarks>
    private sealed class Leave(IActorRef runParts, IActorRef router, IActorRef? old, string next, ImmutableArray<IActorRef> staying)
    {
        public IActorRef RunParts { get; } = runParts;
        public IActorRef Router { get; } = router;
        public IActorRef? Old { get; } = old;
        public string Next { get; } = next;
        public ImmutableArray<IActorRef> Staying { get; } = staying;
        public bool Held { get; set; }
        public bool Acknowledged { get; set; }
        public bool HandedOff { get; set; }
    }

    /// <summary>The routing point that stays holds page messages: the node's routing point retires (when the directory named it), or the node may go at once.</summary>
    private void OnHeld()
    {
        if (_leaves.FirstOrDefault(l => l.Value.Router.Equals(Sender) && !l.Value.Held) is not { Value: { } leave } entry)
            return;
        leave.Held = true;
        if (leave.HandedOff)
        {
            Release(entry.Key);
            return;
        }
        if (leave.Old is null)
        {
            Acknowledge(entry.Key, leave);
            return;
        }
        UsePeers(Peers with { Loaders = leave.Router });
        Peers.Memory.Tell(new LoadersMoved(leave.Router, Drain: true));
        foreach (var mm in Peers.AddressSpaces.Values)
            mm.Tell(new LoadersMoved(leave.Router, Drain: true));
        foreach (var point in leave.Staying)
            point.Tell(new LoadersMoved(leave.Router, Drain: false));
        leave.Old.Tell(new RetireLoaders(1 + Peers.AddressSpaces.Count, leave.Router));
    }

    /// <summary>A routing point that leaves has passed on every page message sent to it: its node may hand its shards off.</summary>
    private void OnRetired(LoadersRetired retired)
    {
        if (_leaves.FirstOrDefault(l => Sender.Equals(l.Value.Old)) is not { Value: { } leave } entry)
            return;
        _retiredMessages += retired.Messages;
        Acknowledge(entry.Key, leave);
    }

    private void Acknowledge(string node, Leave leave)
    {
        leave.Acknowledged = true;
        _nodesLeft.Add(new(node, $"left mid-run; its {Names(PartsOn(node))} retired" +
                                 (leave.Old is null ? "" : $", page messages went to {leave.Next} from then on") +
                                 ", and its shards of the page loaders handed off to the pager nodes that stay"));
        leave.RunParts.Tell(LeaveAcknowledged.Instance);
    }

    /// <summary>A leaving node's shards have moved (it said so, or its host stopped): the page messages held meanwhile go on.</summary>
    private void Release(string node)
    {
        if (!_leaves.TryGetValue(node, out var leave))
            return;
        if (!leave.Acknowledged)
        {
            // It went before the run let it go (it waits at most its 10 s: a load there or one the hold waited for never
            // went idle, say one waiting on memory's reclaim, whose eviction the hold keeps back): what was in flight there
            // may be lost, and a hold never released would keep every later fault waiting.
            Lose(node, "left the cluster", "it went before the run had drained its loads, and the loads in flight there may be lost", leave.RunParts);
            return;
        }
        leave.HandedOff = true;
        if (!leave.Held)
            return; // released once held
        _leaves.Remove(node);
        leave.Router.Tell(ReleaseLoads.Instance);
    }

    /// <summary>Whether every node that leaves has been let go (the run's figures are whole only then).</summary>
    private bool LeavesAcknowledged => _leaves.Values.All(l => l.Acknowledged);

    /// <summary>A watched part or host stopped: its node was lost (downed), unless it left and the run let it go.</summary>
    private void OnTerminated(IActorRef stopped)
    {
        var node = NodeOf(stopped);
        if (_goneNodes.Contains(node))
        {
            Release(node); // its host: the node has gone, its shards with it
            return;
        }
        Lose(node, "was lost", PartsOn(node).Any(p => p.Kind != PartKind.Loaders) ? null : "the loads in flight there are lost", runParts: null);
    }

    /// <summary>
    /// The run cannot go on without <paramref name="node"/>: every TLB elsewhere is asked which fault it waits on, and the
    /// run ends with one line naming the node, its parts and those loads (<see cref="RunLost"/>) once all answered or
    /// <see cref="LossReportBound"/> has passed.
    /// </summary>
    private void Lose(string node, string how, string? reason, IActorRef? runParts)
    {
        runParts?.Tell(LeaveAcknowledged.Instance); // the run ends: the node need not wait for it
        var parts = PartsOn(node);
        var fixedParts = parts.Where(p => p.Kind != PartKind.Loaders).ToList();
        var what = parts.Count == 0 ? "no part of the run created yet"
            : $"{Names(parts)}{(parts.Any(p => p.Kind == PartKind.Loaders) ? " and its shards of the page loaders" : "")}";
        reason ??= fixedParts.Count > 0 ? $"{Names(fixedParts)} cannot move to another node" : "the loads in flight there are lost";
        var line = $"node {node} {how} mid-run with {what}: {reason}";
        var asked = _peersKnown
            ? Peers.Tlbs.Where(t => NodeOf(t) != node && !_goneNodes.Contains(NodeOf(t))).ToList()
            : [];
        if (asked.Count == 0)
        {
            End(new RunLost(line + "; the run ended"));
            return;
        }
        foreach (var tlb in asked)
            tlb.Tell(GetPendingFault.Instance);
        _lossReport = Context.System.Scheduler.ScheduleTellOnceCancelable(LossReportBound, Self, LossReportDue.Instance, Self);
        Become(nameof(Reporting), m => Reporting(m, line, asked.Count, []));
    }

    /// <summary>A node was lost: the TLBs' answers are gathered for the report, and nothing else matters any more.</summary>
    private bool Reporting(object message, string line, int remaining, ImmutableArray<PendingFault> pending)
    {
        switch (message)
        {
            case PendingFault fault:
                pending = pending.Add(fault);
                if (remaining > 1)
                {
                    Become(nameof(Reporting), m => Reporting(m, line, remaining - 1, pending));
                    return true;
                }
                break;
            case LossReportDue:
                break;
            case NodeLeaving:
                Sender.Tell(LeaveAcknowledged.Instance);
                return true;
            default:
                return true; // the run is lost: what its parts still say is of no use
        }
        _lossReport?.Cancel();
        var waiting = pending.Where(p => p.Waiting).OrderBy(p => p.Cpu.Value).ToList();
        var unanswered = message is LossReportDue ? remaining : 0;
        var loads = waiting.Count == 0
            ? unanswered == 0 ? "no CPU was waiting on a fault" : "no TLB that answered was waiting on a fault"
            : "the CPUs then waiting on a fault: " + string.Join(", ", waiting.Select(p =>
                $"{p.Cpu} ({p.Fault} on {p.Page}, for {(p.WaitedNanos / 1e9).ToString("0.0", CultureInfo.InvariantCulture)} s)"));
        End(new RunLost($"{line}; {loads}{(unanswered > 0 ? $" ({unanswered} TLB(s) did not answer within {LossReportBound.TotalSeconds:0} s)" : "")}; the run ended"));
        return true;
    }

    protected override void PostStop()
    {
        _lossReport?.Cancel();
        base.PostStop();
    }

    /// <summary>A node of the run (one that has not left) that is unreachable now, in address order; null if none is.</summary>
    private string? UnreachableNode() =>
        _settings.Placement?.Hosts.Values.Select(NodeOf).Where(n => _unreachable.Contains(n) && !_goneNodes.Contains(n)).Order(StringComparer.Ordinal).FirstOrDefault();

    private static string Names(IEnumerable<Part> parts) => string.Join(", ", parts.Select(p => p.Name));

    /// <summary>The bound of a lost node's report has passed: the machine ends the run with the answers it has.</summary>
    private sealed class LossReportDue : INoSerializationVerificationNeeded
    {
        public static readonly LossReportDue Instance = new();
    }
}

using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.Machine;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Placement;

// Placement protocol: a run whose machine's parts live on the nodes of a cluster (see MachineActor, NodeHostActor).
//   machine ──CreateParts──▶ node host ──creates──▶ run parts (one actor per node and run)
//   run parts ──PartsCreated | PartsRefused──▶ machine        every part placed on the node, or why none could be
//   run parts ──PartFailed──▶ machine                          an actor of the run failed there: the run is void
//   machine ──GetTraffic──▶ run parts ──Traffic──▶ machine     at the end: what the node's parts got from other nodes
//   run parts watch the machine: when it stops, so do the run's actors on their node.
public interface IPlacementProtocol : ISimulationMessage;

/// <summary>
/// What a run is, as every node rebuilds it: the run config's text, where it came from, and the overrides (--set); and
/// whether its parts record its events (<see cref="Events"/>: each node keeps them until the machine asks, see <see cref="GetRunEvents"/>).
/// </summary>
public sealed record RunSpec(string Origin, string Text, ImmutableArray<string> Overrides, bool Events = false);

/// <summary>
/// Machine → a node's host: create these parts of the run <see cref="Run"/> (an id unique in the cluster) whose spec is
/// <see cref="Spec"/>. Answered by <see cref="PartsCreated"/> or <see cref="PartsRefused"/>.
/// </summary>
public sealed record CreateParts(string Run, RunSpec Spec, ImmutableArray<Part> Parts) : IPlacementProtocol;

/// <summary>A part of the run and its actor.</summary>
public sealed record PlacedPart(Part Part, IActorRef Actor);

/// <summary>Run parts → machine: the parts on <see cref="Node"/> (its address) exist, not yet connected.</summary>
public sealed record PartsCreated(string Node, ImmutableArray<PlacedPart> Parts) : IPlacementProtocol;

/// <summary>Node host → machine: <see cref="Node"/> could not make the run's parts (it could not rebuild the run).</summary>
public sealed record PartsRefused(string Node, string Reason) : IPlacementProtocol;

/// <summary>Run parts → machine: an actor of the run on <see cref="Node"/> failed with <see cref="Message"/>.</summary>
public sealed record PartFailed(string Node, string Message) : IPlacementProtocol;

/// <summary>Machine → run parts, once every CPU has finished. Answered by <see cref="Traffic"/>.</summary>
public sealed record GetTraffic : IPlacementProtocol
{
    public static readonly GetTraffic Instance = new();
}

/// <summary>Run parts → machine: the messages the run's actors on <see cref="Node"/> received from other nodes.</summary>
public sealed record Traffic(string Node, long Received) : IPlacementProtocol;

/// <summary>
/// Submitter → a node's host, once the run has ended: the events the node's parts of run <see cref="Run"/> recorded.
/// Answered by <see cref="RunEvents"/> batches, the last marked.
/// </summary>
public sealed record GetRunEvents(string Run) : IPlacementProtocol;

/// <summary>Node host → submitter: a batch of the events <see cref="Node"/> recorded for the run, in the node's order; <see cref="Last"/> ends them.</summary>
public sealed record RunEvents(string Node, ImmutableArray<NodeEvent> Events, bool Last) : IPlacementProtocol;

/// <summary>
/// Where a cluster run's parts go (engine settings of the submitting machine only): the node host of each part, the run as
/// the nodes rebuild it, and the address of the node the machine itself runs on; and where the machine hears which
/// members are unreachable (<see cref="Reachability"/>, on the machine's node: see <see cref="WatchReachability"/>; null: it does not).
/// </summary>
public sealed record ClusterPlacement(string Run, RunSpec Spec, ImmutableDictionary<Part, IActorRef> Hosts, string MachineNode, IActorRef? Reachability = null);

/// <summary>
/// Machine → the reachability watch of its node (in its process): tell <see cref="Subscriber"/> each member that becomes
/// unreachable or reachable again (<see cref="NodeReachability"/>), those unreachable now first.
/// </summary>
public sealed record WatchReachability(IActorRef Subscriber) : INoSerializationVerificationNeeded;

/// <summary>
/// The reachability watch → machine: the member <see cref="Node"/> is (un)reachable. The machine does not end a run on
/// this alone (the split-brain resolver may yet keep the node); but a part that fails while a node of the run is
/// unreachable (a TLB's wait for a load there ran out first) is that node's loss, and reported so.
/// </summary>
public sealed record NodeReachability(string Node, bool Reachable) : INoSerializationVerificationNeeded;

// Node loss (see MachineActor.Loss):
//   node host (coordinated shutdown, before its shards hand off) ──LeaveRuns──▶ host ──NodeLeaving──▶ run parts ──▶ machine
//   machine ──LeaveAcknowledged──▶ run parts ──PartsReleased──▶ host   the run no longer needs the node's parts (moved, or the run ended)
//   host (coordinated shutdown, its shards handed off) ──RunsHandedOff──▶ run parts ──NodeHandedOff──▶ machine
//   machine ──GetPendingFault──▶ every TLB ──PendingFault──▶ machine   a node was lost: the loads then in flight, for the report

/// <summary>
/// A node's run parts → machine: <see cref="Node"/> is leaving the cluster (its coordinated shutdown has begun) and its
/// parts of the run go with it. Answered by <see cref="LeaveAcknowledged"/>, once the run no longer depends on them:
/// its routing points retired (the page loaders' shards then hand off to the pager nodes that stay), or the run ended.
/// </summary>
public sealed record NodeLeaving(string Node) : IPlacementProtocol;

/// <summary>
/// A leaving node's run parts → machine: the node's shards have handed off (its coordinated shutdown is past the shard
/// regions' phase): the page messages held meanwhile may go on.
/// </summary>
public sealed record NodeHandedOff(string Node) : IPlacementProtocol;

/// <summary>A node's coordinated shutdown → its host and on to every run's parts (in the node's process): the node's shards have handed off.</summary>
public sealed record RunsHandedOff : INoSerializationVerificationNeeded
{
    public static readonly RunsHandedOff Instance = new();
}

/// <summary>Machine → a leaving node's run parts: the run no longer needs them; the node may hand off its shards and go.</summary>
public sealed record LeaveAcknowledged : IPlacementProtocol
{
    public static readonly LeaveAcknowledged Instance = new();
}

/// <summary>
/// A node's coordinated shutdown → its host (in the node's process, never sent across): the node is leaving; answered
/// with <see cref="Akka.Done"/> once every run with parts here has released them (<see cref="LeaveAcknowledged"/>) or ended.
/// </summary>
public sealed record LeaveRuns : INoSerializationVerificationNeeded
{
    public static readonly LeaveRuns Instance = new();
}

/// <summary>Run parts → their host (the same node): the run has released them (see <see cref="LeaveRuns"/>).</summary>
public sealed record PartsReleased : INoSerializationVerificationNeeded
{
    public static readonly PartsReleased Instance = new();
}

/// <summary>Machine → a TLB, when a node of the run was lost: which fault it waits on. Answered by <see cref="PendingFault"/>.</summary>
public sealed record GetPendingFault : IPlacementProtocol
{
    public static readonly GetPendingFault Instance = new();
}

/// <summary>
/// TLB → machine: whether <see cref="Cpu"/>'s TLB waits on a fault (<see cref="Waiting"/>), which one, on which page, and
/// for how long so far (ns).
/// </summary>
public sealed record PendingFault(CpuId Cpu, bool Waiting, FaultId Fault, PageKey Page, long WaitedNanos) : IPlacementProtocol;

using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.Machine;

namespace Faultsim.Actors.Placement;

/// <summary>
/// Rebuilds the parts of run <paramref name="run"/> from its spec on this node, its actors counting what they get from
/// other nodes in <paramref name="traffic"/> and recording their events in <paramref name="events"/> (null: the run keeps
/// none); throws for a spec it cannot read.
/// </summary>
public delegate MachineParts PartsOf(string run, RunSpec spec, CrossNodeTraffic traffic, Monitoring.EventLog? events);

/// <summary>
/// The one actor a cluster node offers runs (found under <see cref="Name"/> at the node's address): for each
/// <see cref="CreateParts"/> it starts the run's parts on this node, under a <see cref="RunPartsActor"/> of their own.
/// </summary>
// Serving ──CreateParts──▶ Serving (a RunPartsActor more, or PartsRefused; always refused once the node leaves)
// Serving ──GetRunEvents──▶ Serving (RunEvents batches)
// Serving ──LeaveRuns (the node's coordinated shutdown)──▶ NodeLeaving to every run's parts ──each PartsReleased, or stopped──▶ Done to the asker
// Serving ──RunsHandedOff (the node's shards moved)──▶ to every run's parts
public sealed class NodeHostActor : ReceiveActor
{
    /// <summary>The name a node's host has, at every node: a submitting machine finds it at the address of each member.</summary>
    public const string Name = "faultsim-node";

    /// <summary>Events per <see cref="RunEvents"/> batch: well within a frame (each event is tens of bytes on the wire).</summary>
    public const int EventBatch = 4096;

    private readonly NodeEventStore _events = new();
    private readonly HashSet<IActorRef> _releasing = [];
    private readonly List<IActorRef> _leaveAskers = [];
    private long _runs;
    private bool _leaving;                                       // the node's coordinated shutdown has begun: no new run

    public NodeHostActor(PartsOf partsOf, string node)
    {
        Receive<GetRunEvents>(get =>
        {
            var events = _events.Take(get.Run);
            for (var i = 0; i < events.Length; i += EventBatch)
                Sender.Tell(new RunEvents(node, events.Slice(i, Math.Min(EventBatch, events.Length - i)), Last: false));
            Sender.Tell(new RunEvents(node, [], Last: true));
        });
        Receive<CreateParts>(create =>
        {
            if (_leaving)
            {
                // Parts made now would never be released, and the node would leave under them.
                Sender.Tell(new PartsRefused(node, "the node is leaving the cluster; submit the run again, to the nodes that stay"));
                return;
            }
            var traffic = new CrossNodeTraffic();
            MachineParts parts;
            try
            {
                parts = partsOf(create.Run, create.Spec, traffic, create.Spec.Events ? _events.Open(create.Run).Log : null);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                Sender.Tell(new PartsRefused(node, error.Message));
                return;
            }
            Props[] props;
            try
            {
                props = [.. create.Parts.Select(parts.Props)];
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                Sender.Tell(new PartsRefused(node, error.Message));
                return;
            }
            Context.Watch(Context.ActorOf(RunPartsActor.Props(create.Parts, [.. props], Sender, node, traffic), $"run{++_runs}"));
        });
        Receive<LeaveRuns>(_ =>
        {
            _leaving = true;
            _leaveAskers.Add(Sender);
            foreach (var run in Context.GetChildren())
            {
                if (_releasing.Add(run))
                    run.Tell(LeaveRuns.Instance);
            }
            Released();
        });
        Receive<RunsHandedOff>(handedOff =>
        {
            foreach (var run in Context.GetChildren())
                run.Tell(handedOff);
        });
        Receive<PartsReleased>(_ =>
        {
            _releasing.Remove(Sender);
            Released();
        });
        Receive<Terminated>(stopped =>
        {
            _releasing.Remove(stopped.ActorRef);
            Released();
        });
    }

    /// <summary>Every run has released its parts here (or ended): the node may go on leaving.</summary>
    private void Released()
    {
        if (_releasing.Count > 0)
            return;
        foreach (var asker in _leaveAskers)
            asker.Tell(Akka.Done.Instance);
        _leaveAskers.Clear();
    }

    public static Props Props(PartsOf partsOf, string node) => Akka.Actor.Props.Create(typeof(NodeHostActor), partsOf, node);

    /// <summary>A run's parts that fail are the run's business (its machine is told): the host goes on serving.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(-1, -1, _ => Directive.Stop, loggingEnabled: false);
}

/// <summary>
/// A run's parts on one node: it creates them, tells the machine, reports a part that fails, counts their cross-node
/// traffic for the machine, and stops with them when the machine stops (or its node is lost to this one).
/// </summary>
// Running ──GetTraffic──▶ Running (Traffic);  Running ──Terminated(machine)──▶ stopped, the parts with it
// Running ──LeaveRuns (its node leaves)──▶ NodeLeaving to the machine ──LeaveAcknowledged──▶ PartsReleased to the host
//   ──RunsHandedOff (its shards moved)──▶ NodeHandedOff to the machine
public sealed class RunPartsActor : ReceiveActor
{
    private readonly IActorRef _machine;
    private readonly string _node;
    private IActorRef? _host;                                   // the host, once the node leaves

    /// <param name="props">How each of <paramref name="placed"/> is made, in the same order.</param>
    public RunPartsActor(ImmutableArray<Part> placed, ImmutableArray<Props> props, IActorRef machine, string node, CrossNodeTraffic traffic)
    {
        (_machine, _node) = (machine, node);
        Context.Watch(machine);
        var created = placed.Select((p, i) => new PlacedPart(p, Context.ActorOf(props[i], p.Name))).ToImmutableArray();
        machine.Tell(new PartsCreated(node, created));
        Receive<GetTraffic>(_ => Sender.Tell(new Traffic(node, traffic.Received)));
        Receive<LeaveRuns>(_ =>
        {
            _host = Sender;
            machine.Tell(new NodeLeaving(node));
        });
        Receive<LeaveAcknowledged>(_ => _host?.Tell(PartsReleased.Instance)); // the parts stay until the node stops: their loads finish
        Receive<RunsHandedOff>(_ => machine.Tell(new NodeHandedOff(node)));
        Receive<Terminated>(_ => Context.Stop(Self)); // only the machine is watched
    }

    public static Props Props(ImmutableArray<Part> placed, ImmutableArray<Props> props, IActorRef machine, string node, CrossNodeTraffic traffic) =>
        Akka.Actor.Props.Create(typeof(RunPartsActor), placed, props, machine, node, traffic);

    /// <summary>A part that throws has voided the run: the machine ends it, and the part stops.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(-1, -1, error =>
    {
        _machine.Tell(new PartFailed(_node, error.Message));
        return Directive.Stop;
    }, loggingEnabled: false);
}

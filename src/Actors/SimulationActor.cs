using Akka.Actor;

namespace Faultsim.Actors;

/// <summary>
/// Base of the engine's busy actors. Each protocol state is a method <c>bool State(object message)</c> that returns
/// false for what it does not handle, and <c>Become(name, State)</c> swaps one delegate: a ReceiveActor would rebuild
/// its handler table on every Become, a cost paid on every fault here. The state's name is kept beside it, so that:
/// <list type="bullet">
/// <item>a message the current state does not handle is a protocol error that fails the run, naming the actor, the
/// state and the message (<see cref="ProtocolException"/>): a state that means to drop a message says so itself;</item>
/// <item>a waiting state (<see cref="BecomeWaiting"/>) is bounded in live runs: an actor still in the same wait after
/// the run's bound (<c>faultsim.actors.wait-bound</c>) fails the run, naming the actor, the state and what it waits
/// for. The check costs a wait nothing: a timer runs only while the actor keeps waiting, one tick per bound, and a
/// wait seen at two ticks in a row is stuck (so a stuck wait is reported after one to two bounds). Re-entering a
/// waiting state is progress and starts its wait afresh. Deterministic runs give no bound: there virtual time and
/// quiescence detect a stall.</item>
/// </list>
/// It also counts the messages the actor received, for the engine's messages-per-fault figure, and keeps the
/// <see cref="ActorDirectory"/> its first message (<see cref="Connect"/>) gives it: where its peers are.
/// </summary>
public abstract class SimulationActor : ActorBase
{
    private readonly TimeSpan? _waitBound;
    private string _state;
    private string? _awaiting;   // what the current state waits for; null unless it is a waiting state
    private object? _pending;    // the operation it waits on, for the report of a stuck wait
    private long _waits, _checked = -1;
    private ICancelable? _check;
    private ActorDirectory? _peers;
    private readonly Monitoring.ProtocolCoverage? _coverage;
    private Receive? _receive;   // the current state's handler, for a slot that hosts this actor (null: the first state, Receive)
    private readonly CrossNodeTraffic? _traffic;

    /// <param name="initialState">The name of the state <see cref="ActorBase.Receive"/> is (the first state).</param>
    /// <param name="waitBound">How long a waiting state may last (live runs); null: unbounded.</param>
    /// <param name="coverage">Where each (state, message) handled is noted (explore's coverage); null: nowhere.</param>
    /// <param name="traffic">Where a message from another node is counted (a cluster run); null: not counted.</param>
    protected SimulationActor(string initialState, TimeSpan? waitBound = null, Monitoring.ProtocolCoverage? coverage = null,
        CrossNodeTraffic? traffic = null)
    {
        _state = initialState;
        _waitBound = waitBound;
        _coverage = coverage;
        _traffic = traffic;
    }

    /// <summary>Where this actor's peers are: given by <see cref="Connect"/>, or at creation to an actor made after it.</summary>
    protected ActorDirectory Peers => _peers ?? throw new ProtocolException($"{Self.Path.Name}: a message came before the directory (Connect)");

    /// <summary>An actor created once the directory exists (a loader, a shootdown round) gets it at creation.</summary>
    protected void UsePeers(ActorDirectory peers) => _peers = peers;

    /// <summary>Messages this actor has received.</summary>
    protected long MessagesReceived { get; private set; }

    /// <summary>The name of the current protocol state.</summary>
    protected string StateName => _state;

    /// <summary>The name of the current protocol state, for a spec that drives the actor to a state.</summary>
    internal string State => _state;

    /// <summary>Use <see cref="Become(string, Receive)"/>: every state has a name.</summary>
    [Obsolete("Name the state: Become(name, receive)", error: true)]
    protected new void Become(Receive receive) => base.Become(receive);

    /// <summary>Enters the state <paramref name="state"/>, whose handler is <paramref name="receive"/>.</summary>
    protected void Become(string state, Receive receive)
    {
        (_state, _awaiting, _pending) = (state, null, null);
        _receive = receive;
        base.Become(receive);
    }

    /// <summary>
    /// Enters the waiting state <paramref name="state"/>, which waits for <paramref name="awaiting"/> (a constant: it is
    /// only read to report a stuck wait) on <paramref name="pending"/> (the operation, printed then).
    /// </summary>
    protected void BecomeWaiting(string state, Receive receive, string awaiting, object? pending = null)
    {
        (_state, _awaiting, _pending) = (state, awaiting, pending);
        _waits++;
        if (_waitBound is { } bound && _check is null)
            _check = Context.System.Scheduler.ScheduleTellOnceCancelable(bound, Self, WaitCheck.Instance, Self);
        _receive = receive;
        base.Become(receive);
    }

    /// <summary>A message to this actor, handed on by the <see cref="Machine.ActorSlot"/> that hosts it, to its current state.</summary>
    internal bool Deliver(object message) => AroundReceive(_receive ??= Receive, message);

    /// <summary>How this actor supervises its children, for the slot that hosts it (whose children they are).</summary>
    internal SupervisorStrategy Supervision() => SupervisorStrategy();

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (ReferenceEquals(message, WaitCheck.Instance))
        {
            CheckWait();
            return true;
        }
        MessagesReceived++;
        _traffic?.Note(Sender);
        _coverage?.Handle(GetType(), _state, message.GetType());
        if (message is Connect connect)
        {
            if (_peers is not null)
                throw ProtocolException.Unexpected(Self.Path.Name, _state, message); // one directory a run
            _peers = connect.Directory;
            Sender.Tell(Connected.Instance); // the machine starts the CPUs only once every actor knows its peers
            return true;
        }
        if (message is Paging.LoadersMoved moved)
        {
            // A cluster run's routing point leaves with its node: page messages go to the new one from now on, and the old
            // one hears that nothing more comes from this actor, behind whatever it sent there (one sender, one receiver: in order).
            var old = Peers.Loaders;
            _peers = Peers with { Loaders = moved.Loaders };
            if (moved.Drain)
                old.Tell(Paging.LoadersDrained.Instance, Self);
            return true;
        }
        return base.AroundReceive(receive, message);
    }

    /// <summary>A message no handler of the current state takes: the run fails, never a silent drop.</summary>
    protected sealed override void Unhandled(object message) => throw ProtocolException.Unexpected(Self.Path.Name, _state, message);

    /// <summary>A simulation actor's child that fails voids the run too: the failure goes up to the machine.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(-1, -1, _ => Directive.Escalate, loggingEnabled: false);

    protected override void PostStop()
    {
        _check?.Cancel();
        _check = null;
        base.PostStop();
    }

    private void CheckWait()
    {
        _check = null;
        if (_awaiting is null)
            return; // not waiting: the check rests until the next wait
        if (_waits == _checked)
            throw ProtocolException.Stuck(Self.Path.Name, _state, _awaiting, _pending, _waitBound!.Value);
        _checked = _waits;
        _check = Context.System.Scheduler.ScheduleTellOnceCancelable(_waitBound!.Value, Self, WaitCheck.Instance, Self);
    }

    /// <summary>The timer's tick of a bounded wait: a message to itself, never serialized, never counted.</summary>
    private sealed class WaitCheck : INoSerializationVerificationNeeded
    {
        public static readonly WaitCheck Instance = new();
    }
}

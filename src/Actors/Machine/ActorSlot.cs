using Akka.Actor;

namespace Faultsim.Actors.Machine;

/// <summary>
/// A simulation actor's place that outlives its run: one Akka actor (its cell, mailbox and name) that hosts a new
/// instance of the simulation actor for every run. Creating and stopping a dozen actors cost more than a small run's
/// whole protocol, so the deterministic engine keeps the machine's actors from run to run and gives each run fresh
/// instances: the run's first message to a slot (<see cref="Reincarnate"/>) brings the props of its actor for this run
/// and the message a new actor would have got first. Nothing of one run's actor survives into the next: its instance,
/// its stash and its timers are dropped, and the messages still queued when a run stopped are discarded while the
/// engine drains the machine (<see cref="SlotLease.Draining"/>).
/// </summary>
/// <remarks>
/// The instance is created in the slot's cell (Akka's thread-static context is the slot's while it handles a message),
/// so <c>Self</c>, <c>Sender</c>, <c>Context</c> and its children are the slot's, and its state changes replace the
/// slot's behaviour. A slot's mailbox run takes the same steps as a new actor's first run: one user message, with the
/// system message that created it gone.
/// </remarks>
public sealed class ActorSlot : ActorBase, IWithStash
{
    private readonly SlotLease _lease;
    private readonly SlotIncarnation _incarnation;
    private SimulationActor? _actor;
    private IStash? _stash;

    /// <param name="incarnation">The props of the slot's current actor: a restarted slot (a loader that crashed) makes its actor again from them.</param>
    public ActorSlot(SlotLease lease, SlotIncarnation incarnation)
    {
        (_lease, _incarnation) = (lease, incarnation);
        lease.Joined(Self);
        if (incarnation.Props is { } props)
            Incarnate(props);
    }

    /// <summary>An empty slot: its first message must be a <see cref="Reincarnate"/>.</summary>
    public static Props Props(SlotLease lease) => Akka.Actor.Props.Create(typeof(ActorSlot), lease, new SlotIncarnation());

    /// <summary>A slot whose actor is made at once from <paramref name="actor"/>, as a new actor would be.</summary>
    public static Props Props(SlotLease lease, Props actor) => Akka.Actor.Props.Create(typeof(ActorSlot), lease, new SlotIncarnation { Props = actor });

    public IStash Stash
    {
        get => _stash!;
        set
        {
            _stash = value;
            if (_actor is IWithStash stashing)
                stashing.Stash = value;
        }
    }

    protected override bool Receive(object message) => false; // replaced by the first actor's behaviour; see AroundReceive

    protected override bool AroundReceive(Receive receive, object message)
    {
        if (message is EnsureSlots ensure)
        {
            foreach (var name in ensure.Names)
                if (Context.Child(name).IsNobody())
                    Context.ActorOf(Props(_lease), name);
            return true;
        }
        if (message is Reincarnate next)
        {
            _stash?.ClearStash();
            Incarnate(next.Props);
            _actor!.AroundPreStart();
            return _actor.Deliver(next.First);
        }
        if (_lease.Draining)
            return true; // what a stopped run left queued: no actor of any run takes it
        if (_actor is null)
            throw new ProtocolException($"{Self.Path.Name}: {message.GetType().Name} came to a slot before its actor (Reincarnate)");
        return _actor.Deliver(message);
    }

    private void Incarnate(Props props)
    {
        _incarnation.Props = props;
        _actor = props.NewActor() as SimulationActor
            ?? throw new InvalidOperationException($"{Self.Path.Name}: a slot hosts simulation actors, not {props.TypeName}");
        if (_actor is IWithStash stashing && _stash is not null)
            stashing.Stash = _stash;
    }

    /// <summary>After Akka made the slot (with an actor from its props), its actor starts as a new actor would.</summary>
    public override void AroundPreStart() => _actor?.AroundPreStart();

    protected override SupervisorStrategy SupervisorStrategy() =>
        _actor?.Supervision() ?? new OneForOneStrategy(-1, -1, _ => Directive.Escalate, loggingEnabled: false);

    public override void AroundPreRestart(Exception cause, object message)
    {
        if (_actor is not null)
            _actor.AroundPreRestart(cause, message);
        else
            base.AroundPreRestart(cause, message);
    }

    public override void AroundPostRestart(Exception cause, object message) => _actor?.AroundPostRestart(cause, message);

    public override void AroundPostStop()
    {
        _lease.Left(Self);
        _actor?.AroundPostStop();
    }
}

/// <summary>Slot → the props its actor was last made from (shared by the slot's instances across a restart).</summary>
public sealed class SlotIncarnation
{
    public Props? Props { get; set; }
}

/// <summary>
/// What every slot of one engine shares: whether the engine is draining the machine after a run, when each slot drops
/// what it is sent, and the slots that live. Read and written on the driver's thread only.
/// </summary>
public sealed class SlotLease
{
    public bool Draining { get; set; }

    private readonly HashSet<IActorRef> _slots = [];

    /// <summary>Every live slot of the engine.</summary>
    public IReadOnlySet<IActorRef> Slots => _slots;

    /// <summary>Counts every slot made or stopped: while it stands still, every name has the slot it had.</summary>
    public long Generation { get; private set; }

    /// <summary>
    /// The machine's last run's slots for its parts and their directory, kept for the next run of a machine of the same parts:
    /// while no slot was made or stopped (<see cref="Generation"/>) they are the same slots, so the machine need not look them up.
    /// </summary>
    public SlotDirectory? Directory { get; set; }

    internal void Joined(IActorRef slot)
    {
        _slots.Add(slot);
        Generation++;
    }

    internal void Left(IActorRef slot)
    {
        _slots.Remove(slot);
        Generation++;
    }

    /// <summary>
    /// After a run: every actor of the run that is not a slot (a shootdown round in flight) is stopped, and from now until
    /// <see cref="Draining"/> is cleared the slots drop whatever reaches them.
    /// </summary>
    public void BeginDrain()
    {
        Draining = true;
        foreach (var slot in Slots)
        {
            if (slot is ActorRefWithCell cell && cell.Underlying is not ActorCell { ChildrenContainer: Akka.Actor.Internal.EmptyChildrenContainer })
                foreach (var child in cell.Children) // most slots have no child: those are passed over without listing them
                    if (!_slots.Contains(child))
                        ((IInternalActorRef)child).Stop();
        }
    }
}

/// <summary>A machine's slots for its parts (<paramref name="Parts"/>, in order) and their directory, as of <paramref name="Generation"/>.</summary>
public sealed record SlotDirectory(System.Collections.Immutable.ImmutableArray<Part> Parts, long Generation, IActorRef Machine,
    IReadOnlyDictionary<Part, IActorRef> Slots, ActorDirectory Directory);

/// <summary>
/// A run → a slot, as its first message there: make the slot's actor from <see cref="Props"/> and hand it
/// <see cref="First"/> (with this message's sender), as a new actor made from the props would have got it.
/// </summary>
public sealed record Reincarnate(Props Props, object First) : INoSerializationVerificationNeeded;

/// <summary>Engine → a slot, between runs: have a child slot of each of these names (those missing are made, empty).</summary>
public sealed record EnsureSlots(IReadOnlyList<string> Names) : INoSerializationVerificationNeeded;

using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Event;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Paging;

/// <summary>
/// The routing point of page messages: it binds a loader to a page on the page's first message and
/// unbinds it when the loader reports idle, keeping the loader for the next page. So loaders exist
/// only for pages being resolved, and a new page costs no actor creation. A loader that crashes is
/// restarted; it wakes its waiters first, so none is lost.
/// </summary>
// One state, Routing: IPageMessage ──▶ its page's loader (bound on first use); LoaderIdle ──▶ unbind it if nothing came since;
// GetLoader, GetRouterStats ──▶ answered
public sealed class PageLoaderRouter : SimulationActor
{
    private readonly Func<ActorDirectory, ulong, Props> _loaderProps;
    private readonly RunContext _run;
    private readonly ulong _seed;
    private readonly SlotLease? _slots;
    private readonly Dictionary<PageKey, (IActorRef Loader, long Last)> _bound = [];
    private readonly Stack<IActorRef> _free = new();
    private long _routed, _loaderMessages;
    private int _created, _peak;

    /// <param name="loaderProps">The props of a loader, given the run's directory and its seed.</param>
    /// <param name="slots">The engine's slots when the router runs in one: its loaders are slots too, kept for the next run; null: plain actors.</param>
    public PageLoaderRouter(Func<ActorDirectory, ulong, Props> loaderProps, RunContext run, ulong seed, SlotLease? slots) : base("Routing", coverage: run.Coverage, traffic: run.Traffic)
    {
        (_loaderProps, _run, _seed, _slots) = (loaderProps, run, seed, slots);
    }

    protected override bool Receive(object message) => Routing(message);

    private bool Routing(object message)
    {
        switch (message)
        {
            case IPageMessage page:
                Route(page);
                return true;
            case LoaderIdle idle:
                _loaderMessages += idle.Received;
                if (_bound.TryGetValue(idle.Page, out var binding) && binding.Loader.Equals(Sender) && binding.Last == idle.Sequence)
                {
                    _bound.Remove(idle.Page);
                    _free.Push(Sender);
                    FaultMetrics.Loaders(-1);
                }
                return true;
            case GetLoader get:
                Sender.Tell(new LoaderOf(get.Page, _bound.TryGetValue(get.Page, out var b) ? b.Loader : null));
                return true;
            case GetRouterStats:
                Sender.Tell(new RouterStats(_created, _peak, MessagesReceived + _loaderMessages));
                return true;
            default:
                return false;
        }
    }

    public static Props Props(Func<ActorDirectory, ulong, Props> loaderProps, RunContext run, ulong seed, SlotLease? slots = null) =>
        ActorFactory.Props(() => new PageLoaderRouter(loaderProps, run, seed, slots));

    /// <summary>
    /// A crashed loader restarts (its waiters are woken in its PreRestart); only a crash not injected on purpose is logged.
    /// A broken protocol is no crash to recover from: it fails the run.
    /// </summary>
    protected override SupervisorStrategy SupervisorStrategy() =>
        new OneForOneStrategy(-1, -1, cause =>
        {
            if (cause is ProtocolException)
                return Directive.Escalate;
            if (cause is not InjectedCrash)
                Context.GetLogger().Error(cause, "a page loader crashed and restarts");
            return Directive.Restart;
        }, loggingEnabled: false);

    private void Route(IPageMessage message)
    {
        ref var binding = ref CollectionsMarshal.GetValueRefOrAddDefault(_bound, message.Page, out var bound); // one lookup a message
        if (!bound || (_run.Bugs.NoLeaderElection && message is ResolveFault))
        {
            // (Planted bug no-leader-election: every fault gets a loader of its own, so none waits for another.)
            if (!bound)
                FaultMetrics.Loaders(+1);
            Props? incarnate = null;
            binding = (_free.Count > 0 ? _free.Pop() : NewLoader(out incarnate), 0);
            _peak = Math.Max(_peak, bound ? _bound.Count + 1 : _bound.Count); // (with the planted bug, a page bound twice counts twice)
            if (incarnate is not null)
            {
                binding.Last = ++_routed;
                binding.Loader.Tell(new Reincarnate(incarnate, new Routed(binding.Last, message)), Sender);
                return;
            }
        }
        binding.Last = ++_routed;
        binding.Loader.Tell(new Routed(binding.Last, message), Sender);
    }

    /// <summary>
    /// A loader for the run: a new actor, or in a slot the slot of that name kept from an earlier run, whose first message
    /// must then bring the loader's props (<paramref name="incarnate"/>, null otherwise).
    /// </summary>
    private IActorRef NewLoader(out Props? incarnate)
    {
        _created++;
        var (props, name) = (_loaderProps(Peers, _seed + (ulong)_created), "loader-" + _created);
        incarnate = null;
        if (_slots is null)
            return Context.ActorOf(props, name);
        if (Context.Child(name) is { } kept && !kept.IsNobody())
        {
            incarnate = props;
            return kept;
        }
        return Context.ActorOf(ActorSlot.Props(_slots, props), name);
    }
}

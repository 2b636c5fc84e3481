using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using Faultsim.Actors.Machine;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Paging;

/// <summary>
/// The loaders' routing point of a cluster run: every page message goes to the shard region of page loaders, as the
/// entity of its (run, address space, page), one loader per page being resolved, passivated when idle. One per pager
/// node of the run; each enters the run's directory in its node's <see cref="LoaderRuns"/>, from which the node's
/// shards make the run's loaders. The directory names the first as the run's Loaders.
/// </summary>
// One state, Routing: IPageMessage ──LoaderEnvelope──▶ the region; LoaderIdle ──▶ its messages counted; GetRouterStats ──▶ answered;
// LoadersMoved ──▶ the node's loaders are made with the new directory; RetireLoaders, then every sender's LoadersDrained ──▶ LoadersRetired,
// and what still comes goes to the routing point in its place; HoldLoads ──▶ page messages kept (LoadsHeld once none is in flight) until ReleaseLoads
public sealed class ShardedLoaders : SimulationActor
{
    private readonly string _run;
    private readonly IActorRef _region;
    private readonly LoaderRuns _runs;
    private readonly RunContext _context;
    private readonly ulong _seed;
    private readonly HashSet<PageKey> _pages = [];
    private long _routed, _loaderMessages;
    private (IActorRef Machine, int Senders)? _retiring;
    private IActorRef? _next;      // retired: what still comes goes there
    private int _drained, _holds;  // holds: pager nodes leaving, whose shards hand off meanwhile
    private readonly Queue<(IPageMessage Page, IActorRef Sender)> _held = new();
    private readonly Dictionary<PageKey, long> _inFlight = [];  // pages with a message passed on that their loader has not reported idle since
    private readonly List<IActorRef> _holders = [];              // held, not yet answered: a load is still in flight

    /// <param name="run">The run's id, unique in the cluster: part of every loader's entity id.</param>
    /// <param name="region">This node's shard region of page loaders.</param>
    public ShardedLoaders(string run, IActorRef region, LoaderRuns runs, RunContext context, ulong seed)
        : base("Routing", coverage: context.Coverage, traffic: context.Traffic)
    {
        (_run, _region, _runs, _context, _seed) = (run, region, runs, context, seed);
    }

    public static Props Props(string run, IActorRef region, LoaderRuns runs, RunContext context, ulong seed) =>
        Akka.Actor.Props.Create(typeof(ShardedLoaders), run, region, runs, context, seed);

    protected override bool AroundReceive(Receive receive, object message)
    {
        var handled = base.AroundReceive(receive, message);
        if (message is Connect or LoadersMoved)
            _runs.Add(_run, new LoaderRun(Peers, _context, _seed)); // before any CPU starts: the machine waits for Connected
        return handled;
    }

    protected override bool Receive(object message) => Routing(message);

    private bool Routing(object message)
    {
        switch (message)
        {
            case IPageMessage page when _next is not null:
                _next.Tell(page, Sender); // retired: the routing point in its place routes it
                return true;
            case IPageMessage page when _holds > 0:
                _held.Enqueue((page, Sender));
                return true;
            case IPageMessage page:
                Route(page, Sender);
                return true;
            case HoldLoads:
                _holds++;
                _holders.Add(Sender);
                Quiet();
                return true;
            case ReleaseLoads:
                if (_holds > 0 && --_holds == 0)
                {
                    while (_held.TryDequeue(out var held))
                        Route(held.Page, held.Sender);
                }
                return true;
            case LoaderIdle idle:
                _loaderMessages += idle.Received;
                if (_inFlight.TryGetValue(idle.Page, out var last) && idle.Sequence >= last)
                {
                    _inFlight.Remove(idle.Page);
                    Quiet();
                }
                return true;
            case GetRouterStats:
                // the shards keep no count of their loaders: each page routed had one, at least
                Sender.Tell(new RouterStats(_pages.Count, _pages.Count, MessagesReceived + _loaderMessages));
                return true;
            case RetireLoaders retire:
                _retiring = (Sender, retire.Senders);
                _next = retire.Next;
                Quiet();
                return true;
            case LoadersDrained:
                _drained++;
                Quiet();
                return true;
            default:
                return false;
        }
    }

    private void Route(IPageMessage page, IActorRef sender)
    {
        _pages.Add(page.Page);
        _inFlight[page.Page] = ++_routed;
        _region.Tell(new LoaderEnvelope(_run, new Routed(_routed, page, Self)), sender);
    }

    /// <summary>
    /// Once no load is in flight through this routing point (every page message it passed on was taken by a loader that
    /// is idle since): held, it answers LoadsHeld (a node that leaves hands its shards off only then, so no shard holds a
    /// message while it hands off); retiring, it reports once every sender of page messages has drained too.
    /// </summary>
    private void Quiet()
    {
        if (_inFlight.Count > 0)
            return;
        foreach (var holder in _holders)
            holder.Tell(LoadsHeld.Instance);
        _holders.Clear();
        if (_retiring is not { } retiring || _drained < retiring.Senders)
            return;
        retiring.Machine.Tell(new LoadersRetired(_pages.Count, _pages.Count, MessagesReceived + _loaderMessages));
        _retiring = null;
    }

    protected override void PostStop()
    {
        _runs.Remove(_run);
        base.PostStop();
    }
}

/// <summary>What a node's shards need to make a run's loader: the run's directory, what its actors share, and its seed.</summary>
public sealed record LoaderRun(ActorDirectory Directory, RunContext Context, ulong Seed);

/// <summary>
/// The runs whose loaders a node's shards make, by run id: entered by the run's <see cref="ShardedLoaders"/> on the node
/// once it has the directory, left when it stops. One per node, shared by its routing points and its shard region.
/// </summary>
/// <param name="idleRequest">What a loader tells its shard when idle (the shard's Passivate): it is then stopped, between two faults.</param>
/// <param name="loadStarting">Told of every load this node's loaders start (see <see cref="RunContext.LoadStarting"/>); null: none is.</param>
public sealed class LoaderRuns(object idleRequest, Func<ResolveFault, bool>? loadStarting = null)
{
    private readonly ConcurrentDictionary<string, LoaderRun> _runs = new(StringComparer.Ordinal);

    public void Add(string run, LoaderRun loaders) => _runs[run] = loaders;

    public void Remove(string run) => _runs.TryRemove(run, out _);

    /// <summary>The props of the loader <paramref name="entityId"/> (see <see cref="LoaderEnvelope.EntityId"/>).</summary>
    public Props EntityProps(string entityId)
    {
        var run = entityId[..entityId.IndexOf('|', StringComparison.Ordinal)];
        if (!_runs.TryGetValue(run, out var loaders))
            return Akka.Actor.Props.Create(typeof(UnknownRunLoader), run, idleRequest);
        return PageLoaderActor.Props(loaders.Directory, loaders.Context with { IdleRequest = idleRequest, LoadStarting = loadStarting },
            loaders.Seed + (ulong)(uint)StringComparer.Ordinal.GetHashCode(entityId));
    }

    /// <summary>
    /// The loader of a page of a run this node has no routing point of: the run has ended here (a late message), or the
    /// node joined after the run was placed and a shard of it moved here. What comes has no directory to be served
    /// with: it is dropped with a warning (the fault that sent it ends the run when its wait bound passes), and the
    /// loader asks its shard to passivate it.
    /// </summary>
    private sealed class UnknownRunLoader : ReceiveActor
    {
        public UnknownRunLoader(string run, object idleRequest)
        {
            Receive<StopLoader>(_ => Context.Stop(Self));
            ReceiveAny(message =>
            {
                Context.GetLogger().Warning("a page loader of run {0}, which this node does not run, drops {1}", run, message.GetType().Name);
                Context.Parent.Tell(idleRequest);
            });
        }
    }
}

using Akka.Actor;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Paging;

// Loader routing protocol: how page messages reach the loader of their page.
//   anyone ──IPageMessage──▶ router ──Routed──▶ the loader bound to that page (bound on first use)
//   loader ──LoaderIdle──▶ router          nothing in flight: the router unbinds it for reuse,
//                                          unless more was routed to it since
// The router stands in for a shard region: one routing point, loaders kept only for hot pages. On a cluster:
//   anyone ──IPageMessage──▶ ShardedLoaders ──LoaderEnvelope──▶ shard region ──Routed──▶ the loader entity of that page
//   loader ──LoaderIdle──▶ ShardedLoaders, and its idle request (Passivate) to its shard ──StopLoader──▶ loader, stopped when idle
public interface ILoaderProtocol : ISimulationMessage;

/// <summary>
/// Router → loader: a page message, numbered so the loader can say which it saw last. A cluster run's routing point names
/// itself (<see cref="Router"/>): the loader's idle report goes back to it, with its number (a page's loader may get
/// messages from two routing points while one retires); null: the report goes to the directory's loaders.
/// </summary>
public sealed record Routed(long Sequence, IPageMessage Message, IActorRef? Router = null) : ILoaderProtocol;

/// <summary>Loader → router: idle since message <see cref="Sequence"/>; <see cref="Received"/> messages since its last report.</summary>
public sealed record LoaderIdle(PageKey Page, long Sequence, long Received) : ILoaderProtocol;

/// <summary>Routing point → shard region (a cluster run): a page message for the loader entity of its run and page.</summary>
public sealed record LoaderEnvelope(string Run, Routed Message) : ILoaderProtocol
{
    /// <summary>The loader's entity id: run|asid|page.</summary>
    public string EntityId => $"{Run}|{Message.Message.Page.Asid.Value}|{Message.Message.Page.Page.Value}";
}

/// <summary>Shard → loader entity, after the loader asked to be passivated: stop once no fault is in flight.</summary>
public sealed record StopLoader : ILoaderProtocol
{
    public static readonly StopLoader Instance = new();
}

/// <summary>Anyone → router: which loader serves a page now. Answered by <see cref="LoaderOf"/>.</summary>
public sealed record GetLoader(PageKey Page) : ILoaderProtocol;

public sealed record LoaderOf(PageKey Page, IActorRef? Loader) : ILoaderProtocol;

/// <summary>Anyone → router. Answered by <see cref="RouterStats"/>.</summary>
public sealed record GetRouterStats : ILoaderProtocol
{
    public static readonly GetRouterStats Instance = new();
}

/// <summary>Loaders created in all, the most bound at once, and messages the router and the loaders received.</summary>
public sealed record RouterStats(int Created, int PeakBound, long Messages) : ILoaderProtocol;

// A cluster run whose pager node leaves (see MachineActor.Loss). Sharding drops what reaches a shard while it hands off,
// so no page message may enter the shard regions then: the routing point that stays holds them until the node's shards
// have moved.
//   machine ──HoldLoads──▶ the routing point that stays ──LoadsHeld──▶ machine; … NodeHandedOff ──ReleaseLoads──▶ it
//   (when the directory named the leaving one)
//   machine ──LoadersMoved(drain)──▶ memory, every mm: page messages go to the new routing point from now on; each tells
//                                    the old one LoadersDrained, behind the last page message it sent there
//   machine ──LoadersMoved──▶ the routing points that stay: their node's loaders are made with the new directory
//   machine ──RetireLoaders──▶ the old routing point ──LoadersRetired──▶ machine, once every sender has drained; what
//                                    still comes to it goes to the new one

/// <summary>
/// Machine → an actor of a cluster run: the loaders' routing point is <see cref="Loaders"/> from now on. With
/// <see cref="Drain"/> (memory, the mms: the actors that send page messages) the actor tells the routing point it used
/// until now <see cref="LoadersDrained"/>, behind every page message it sent there.
/// </summary>
public sealed record LoadersMoved(IActorRef Loaders, bool Drain) : ILoaderProtocol;

/// <summary>A sender of page messages → the routing point it no longer uses: nothing more comes from it.</summary>
public sealed record LoadersDrained : ILoaderProtocol
{
    public static readonly LoadersDrained Instance = new();
}

/// <summary>
/// Machine → a routing point that leaves with its node: answer <see cref="LoadersRetired"/> once <see cref="Senders"/>
/// senders have drained (every page message they sent has been passed on to the shard region).
/// </summary>
/// <param name="Next">Where the routing point passes on what still comes to it: the routing point that takes its place.</param>
public sealed record RetireLoaders(int Senders, IActorRef Next) : ILoaderProtocol;

/// <summary>A retired routing point → machine: every page message reached its region; its figures (as <see cref="RouterStats"/>).</summary>
public sealed record LoadersRetired(int Created, int PeakBound, long Messages) : ILoaderProtocol;

/// <summary>
/// Machine → a routing point, while a pager node leaves: keep every page message until <see cref="ReleaseLoads"/> (the
/// leaving node's shards hand off meanwhile, and a shard drops what reaches it then). Answered by <see cref="LoadsHeld"/>
/// once every page message it passed on has been taken by its loader, which is idle since (no load in flight through it).
/// </summary>
public sealed record HoldLoads : ILoaderProtocol
{
    public static readonly HoldLoads Instance = new();
}

public sealed record LoadsHeld : ILoaderProtocol
{
    public static readonly LoadsHeld Instance = new();
}

/// <summary>Machine → a routing point that holds page messages: the leaving node's shards have moved; pass on what was held, in order.</summary>
public sealed record ReleaseLoads : ILoaderProtocol
{
    public static readonly ReleaseLoads Instance = new();
}

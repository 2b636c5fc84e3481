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

/// <summary>Router → loader: a page message, numbered so the loader can say which it saw last.</summary>
public sealed record Routed(long Sequence, IPageMessage Message) : ILoaderProtocol;

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

using Akka.Actor;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Paging;

// Loader routing protocol: how page messages reach the loader of their page.
//   anyone ──IPageMessage──▶ router ──Routed──▶ the loader bound to that page (bound on first use)
//   loader ──LoaderIdle──▶ router          nothing in flight: the router unbinds it for reuse,
//                                          unless more was routed to it since
// The router stands in for a shard region: one routing point, loaders kept only for hot pages.
public interface ILoaderProtocol : ISimulationMessage;

/// <summary>Router → loader: a page message, numbered so the loader can say which it saw last.</summary>
public sealed record Routed(long Sequence, IPageMessage Message) : ILoaderProtocol;

/// <summary>Loader → router: idle since message <see cref="Sequence"/>; <see cref="Received"/> messages since its last report.</summary>
public sealed record LoaderIdle(PageKey Page, long Sequence, long Received) : ILoaderProtocol;

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

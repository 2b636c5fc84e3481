using Faultsim.Model.Addressing;

namespace Faultsim.Actors;

/// <summary>A message for the loader of one page: the routing point (and later the shard region) finds the loader by <see cref="Page"/>.</summary>
public interface IPageMessage
{
    PageKey Page { get; }
}

using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Replacement;

namespace Faultsim.Actors.Memory;

/// <summary>Physical memory's parameters: the frame limit (0: none), words per page, the replacement policy, and for OPT the future.</summary>
public sealed record MemorySettings(int Frames, int WordsPerPage, ReplacementPolicyKind Policy, ImmutableArray<PageKey> OptReferences)
{
    public IReplacementPolicy CreatePolicy() => ReplacementPolicies.Create(Policy, OptReferences);
}

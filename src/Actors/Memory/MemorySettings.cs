using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Memory;
using Faultsim.Model.Replacement;

namespace Faultsim.Actors.Memory;

/// <summary>Physical memory's parameters: the frame limit (0: none), words per page, the replacement policy, for OPT the future, and readahead.</summary>
public sealed record MemorySettings(int Frames, int WordsPerPage, ReplacementPolicyKind Policy, ImmutableArray<PageKey> OptReferences)
{
    /// <summary>Fault-around and readahead (machine.fault-around, machine.readahead); none unless given.</summary>
    public ReadaheadRules Readahead { get; init; } = ReadaheadRules.Off;

    /// <summary>The machine's files, which tell shmem (tmpfs) files from disk ones; none: only shared-memory objects are shmem.</summary>
    public Faultsim.Model.Storage.FileTable? Files { get; init; }

    public IReplacementPolicy CreatePolicy() => ReplacementPolicies.Create(Policy, OptReferences);
}

using System.Collections.Immutable;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Disk;

/// <summary>
/// The simulated disk: its files, how many requests it serves at once (the rest queue in order),
/// and which reads fail — every read of a listed page, and any read with the given probability.
/// </summary>
public sealed record DiskSettings(ImmutableArray<(string Name, ulong Size)> Files, int QueueDepth, double ReadErrorRate, ImmutableHashSet<FilePage> BadPages, ulong Seed);

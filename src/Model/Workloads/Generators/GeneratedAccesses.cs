using Faultsim.Model.Addressing;
using Faultsim.Model.Common;

namespace Faultsim.Model.Workloads.Generators;

/// <summary>
/// One CPU's generated accesses as a stream to replay (<see cref="Op.Replay"/>), made a batch at a time as the CPU reads
/// them, never held whole: each pass starts from the seed again, so every pass (OPT's recording run, a reference run a
/// check compares with) sees the same accesses. Memory is one batch, whatever the count.
/// </summary>
/// <param name="name">What the stream is, for messages.</param>
/// <param name="count">Accesses in the stream.</param>
/// <param name="seed">The seed of the stream's random source (the run's, mixed with the CPU's number).</param>
/// <param name="newPass">Makes a pass (with its own state, a scan's cursor): the next access, given the pass's random source and
/// the access's number from 0.</param>
public sealed class GeneratedAccesses(string name, long count, ulong seed, Func<Func<SimRandom, long, TracedAccess>> newPass) : IAccessSource
{
    /// <summary>Accesses made at once: the batch a CPU reads.</summary>
    public const int BatchSize = 1024;

    public string Name { get; } = name;

    public long Count { get; } = count;

    public IAccessReader Open() => new Reader(Count, new SimRandom(seed), newPass());

    /// <summary>The seed of CPU <paramref name="cpu"/>'s stream under the run's <paramref name="seed"/>: unrelated for nearby CPUs and seeds.</summary>
    public static ulong SeedOf(ulong seed, int cpu) => seed ^ (0x9E3779B97F4A7C15UL * (ulong)(cpu + 1));

    /// <summary>The address of page <paramref name="page"/> of a region at <paramref name="start"/>, at CPU <paramref name="cpu"/>'s own word.</summary>
    public static VirtualAddress At(VirtualAddress start, long page, int cpu, int wordsPerPage) =>
        start + (ulong)page * VirtualAddress.PageSize + (ulong)(cpu % wordsPerPage) * sizeof(ulong);

    private sealed class Reader(long count, SimRandom random, Func<SimRandom, long, TracedAccess> next) : IAccessReader
    {
        private readonly TracedAccess[] _batch = new TracedAccess[(int)Math.Min(BatchSize, Math.Max(count, 1))];
        private long _made;

        public ReadOnlyMemory<TracedAccess> NextBatch()
        {
            var size = (int)Math.Min(_batch.Length, count - _made);
            for (var i = 0; i < size; i++)
                _batch[i] = next(random, _made++);
            return new ReadOnlyMemory<TracedAccess>(_batch, 0, size);
        }

        public void Dispose()
        {
        }
    }
}

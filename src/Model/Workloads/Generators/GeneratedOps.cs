using System.Collections.Immutable;

namespace Faultsim.Model.Workloads.Generators;

/// <summary>
/// One CPU's generated operations as a stream (<see cref="Op.Stream"/>), made one at a time as the CPU reaches them by
/// a lazy sequence that starts from the seed again on every pass, so every pass sees the same operations. Memory is the
/// sequence's own state (a round's counter, a random source), whatever the count.
/// </summary>
/// <param name="name">What the stream is, for messages.</param>
/// <param name="size">Its size as a script's is counted (<see cref="IOpSource.Size"/>).</param>
/// <param name="repertoire">Every distinct operation it may yield (<see cref="IOpSource.Repertoire"/>).</param>
/// <param name="newPass">Makes a pass: the operations, made as they are enumerated.</param>
public sealed class GeneratedOps(string name, long size, ImmutableArray<Op> repertoire, Func<IEnumerable<Op>> newPass) : IOpSource
{
    public string Name { get; } = name;

    public ImmutableArray<Op> Repertoire { get; } = repertoire;

    public long Size { get; } = size;

    public IOpReader Open() => new Reader(newPass().GetEnumerator());

    public override string ToString() => Name;

    private sealed class Reader(IEnumerator<Op> ops) : IOpReader
    {
        public Op? Next() => ops.MoveNext() ? ops.Current : null;

        public void Dispose() => ops.Dispose();
    }
}

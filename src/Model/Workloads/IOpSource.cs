using System.Collections.Immutable;

namespace Faultsim.Model.Workloads;

/// <summary>
/// Where a CPU's streamed operations come from (<see cref="Op.Stream"/>): a workload generator's operations — accesses,
/// system calls, barriers, process switches — made one at a time as the CPU reaches them, never held whole. Each run
/// opens it afresh (OPT's recording run and a reference run a check compares against open it again) and every pass
/// yields the same operations.
/// </summary>
public interface IOpSource
{
    /// <summary>What the stream is, for messages and reports.</summary>
    string Name { get; }

    /// <summary>
    /// Every distinct operation the stream may yield, each once and in an order a stream could yield them (a run
    /// before what it runs): what the checks before a run look at — the processes it runs and forks, the barriers it
    /// names, the regions it maps and touches. A page range may stand for all the ranges of its region.
    /// </summary>
    ImmutableArray<Op> Repertoire { get; }

    /// <summary>The size of the stream as a script's size is counted (<c>StepLimit.ScriptSize</c>): a page each for page ranges, one for any other operation.</summary>
    long Size { get; }

    /// <summary>A reader from the first operation on.</summary>
    IOpReader Open();
}

/// <summary>One pass over an <see cref="IOpSource"/>.</summary>
public interface IOpReader : IDisposable
{
    /// <summary>The next operation in order; null once the stream has ended.</summary>
    Op? Next();
}

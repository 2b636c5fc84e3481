using Faultsim.Model.Addressing;

namespace Faultsim.Model.Workloads;

/// <summary>One access of a replayed stream: a user-mode load, store or instruction fetch within one page.</summary>
public readonly record struct TracedAccess(VirtualAddress Address, AccessKind Kind);

/// <summary>
/// Where a CPU's replayed accesses come from (<see cref="Op.Replay"/>): a program's memory trace, read as the run goes
/// rather than held whole. Each run opens it afresh — OPT's recording run and the reference run a check compares
/// against open it again — and reads it in order, one batch at a time.
/// </summary>
public interface IAccessSource
{
    /// <summary>What the stream is, for messages and reports (a trace file's path).</summary>
    string Name { get; }

    /// <summary>A reader from the first access on.</summary>
    IAccessReader Open();
}

/// <summary>One pass over an <see cref="IAccessSource"/>.</summary>
public interface IAccessReader : IDisposable
{
    /// <summary>
    /// The next accesses in order, valid until the next call; empty once the stream has ended. It waits for the source
    /// when none is ready, and throws when the source cannot go on (a bad line of a trace: the message names it).
    /// </summary>
    ReadOnlyMemory<TracedAccess> NextBatch();
}

using System.Collections.Immutable;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Disk;

// Disk protocol. The disk serves reads and writes of file pages and swap slots in order, with
// its configured latency, queue depth and bandwidth, and fails the reads it is told to fail.
//   loader ──ReadPage──▶ disk ──PageRead | PageReadFailed──▶ loader          a fault's read, with its readahead window
//   memory ──ReadPage──▶ disk ──PageRead | PageReadFailed──▶ memory          async readahead (a marker's hit), madvise(WILLNEED)
//   memory ──WritePage──▶ disk ──PageWritten──▶ memory
// A read of several pages (Block, then Ahead) is one request: the latency once, the bandwidth over all its pages. It fails
// whole when Block's read fails; a page of Ahead that fails comes back Failed, the others read.
public interface IDiskProtocol : ISimulationMessage;

/// <summary>What a disk request reads or writes.</summary>
public abstract record DiskBlock
{
    private DiskBlock() { }

    public sealed record OfFile(FilePage Page) : DiskBlock
    {
        public override string ToString() => Page.ToString();
    }

    public sealed record OfSwap(SwapSlot Slot) : DiskBlock
    {
        public override string ToString() => Slot.ToString();
    }
}

/// <summary>
/// Loader (or memory) → disk: <see cref="Block"/>, and in the same request the file pages of <see cref="Ahead"/> (a
/// readahead window). Answered by <see cref="PageRead"/> (with the content of each file page) or <see cref="PageReadFailed"/>.
/// </summary>
public sealed record ReadPage(DiskRequestId Id, DiskBlock Block, ImmutableArray<DiskBlock> Ahead = default) : IDiskProtocol
{
    public ImmutableArray<DiskBlock> Ahead { get; init; } = Ahead.IsDefault ? [] : Ahead;

    /// <summary>A fault demands <see cref="Block"/> (it fails the request when it fails); false for memory's own readahead, where it is one page of the window like the rest.</summary>
    public bool Demanded { get; init; } = true;
}

/// <summary>Disk → loader (or memory). A swap read brings no content: swap space lives with memory, the disk only times it.</summary>
public sealed record PageRead(DiskRequestId Id, ImmutableArray<ulong> Content, ImmutableArray<AheadRead> Ahead = default) : IDiskProtocol
{
    public ImmutableArray<AheadRead> Ahead { get; init; } = Ahead.IsDefault ? [] : Ahead;

    /// <summary>The block of a request no fault demanded (<see cref="ReadPage.Demanded"/> false) failed, alone.</summary>
    public bool BlockFailed { get; init; }
}

/// <summary>One page of a request's <see cref="ReadPage.Ahead"/>, read (its content) or <see cref="Failed"/>.</summary>
public sealed record AheadRead(DiskBlock Block, bool Failed, ImmutableArray<ulong> Content);

/// <summary>Disk → loader: an I/O error.</summary>
public sealed record PageReadFailed(DiskRequestId Id) : IDiskProtocol;

/// <summary>Memory → disk: write a page back (a file page's content; a swap write is timed only). Answered by <see cref="PageWritten"/>.</summary>
public sealed record WritePage(DiskRequestId Id, DiskBlock Block, ImmutableArray<ulong> Content) : IDiskProtocol;

public sealed record PageWritten(DiskRequestId Id) : IDiskProtocol;

/// <summary>Machine → disk at the end of a run: the file pages written back. Answered by <see cref="WrittenFiles"/>.</summary>
public sealed record ReadWrittenFiles : IDiskProtocol
{
    public static readonly ReadWrittenFiles Instance = new();
}

public sealed record WrittenFiles(ImmutableArray<(FilePage Page, ImmutableArray<ulong> Words)> Pages, long MessagesReceived) : IDiskProtocol;

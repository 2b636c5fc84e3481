using System.Collections.Immutable;
using Faultsim.Model.Addressing;

namespace Faultsim.Actors.Disk;

// Disk protocol. The disk serves reads and writes of file pages and swap slots in order, with
// its configured latency, queue depth and bandwidth, and fails the reads it is told to fail.
//   loader ──ReadPage──▶ disk ──PageRead | PageReadFailed──▶ loader
//   memory ──WritePage──▶ disk ──PageWritten──▶ memory
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

/// <summary>Loader → disk. Answered by <see cref="PageRead"/> (with the content of a file page) or <see cref="PageReadFailed"/>.</summary>
public sealed record ReadPage(DiskRequestId Id, DiskBlock Block) : IDiskProtocol;

/// <summary>Disk → loader. A swap read brings no content: swap space lives with memory, the disk only times it.</summary>
public sealed record PageRead(DiskRequestId Id, ImmutableArray<ulong> Content) : IDiskProtocol;

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

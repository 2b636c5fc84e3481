using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using System.Threading.Channels;
using Faultsim.Host.Configuration;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Traces;

/// <summary>
/// One pass over a trace file: a reader thread parses it into batches of accesses and writes them into a bounded
/// channel, which the simulation reads (<see cref="NextBatch"/>, on whatever thread runs the CPU), so however long the
/// trace, at most <see cref="Capacity"/> + 2 batches of it are in memory. A batch's array goes back to the reader
/// thread once the simulation asks for the next one. A line that does not parse ends the stream with a
/// <see cref="ConfigException"/> naming the file and the line, thrown where the simulation reads.
/// </summary>
internal sealed class TraceReader : IAccessReader
{
    /// <summary>Accesses per batch.</summary>
    public const int BatchSize = 16 * 1024;

    /// <summary>Batches the channel holds before the reader thread waits for the simulation.</summary>
    public const int Capacity = 8;

    private readonly TraceFile _file;
    private readonly Channel<(TracedAccess[] Items, int Count)> _channel =
        Channel.CreateBounded<(TracedAccess[], int)>(new BoundedChannelOptions(Capacity) { SingleReader = true, SingleWriter = true });
    private readonly ConcurrentQueue<TracedAccess[]> _free = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private TracedAccess[]? _handedOut;
    private ConfigException? _error;
    private long _bytesRead;
    private long _accessesRead;
    private int _disposed;

    public TraceReader(TraceFile file)
    {
        _file = file;
        _thread = new Thread(Read) { IsBackground = true, Name = $"trace reader {Path.GetFileName(file.Path)}" };
        _thread.Start();
    }

    /// <summary>Bytes of the file read so far (compressed bytes for a gzipped file).</summary>
    public long BytesRead => Volatile.Read(ref _bytesRead);

    /// <summary>Accesses parsed so far.</summary>
    public long AccessesRead => Volatile.Read(ref _accessesRead);

    public ReadOnlyMemory<TracedAccess> NextBatch()
    {
        if (_handedOut is { } done)
            _free.Enqueue(done);
        _handedOut = null;
        (TracedAccess[] Items, int Count) batch;
        while (!_channel.Reader.TryRead(out batch))
        {
            if (!_channel.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                return _error is { } error ? throw error : ReadOnlyMemory<TracedAccess>.Empty;
        }
        _handedOut = batch.Items;
        return batch.Items.AsMemory(0, batch.Count);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _stop.Cancel();
        _thread.Join();
        _stop.Dispose();
        _file.Closed(this);
    }

    private void Read()
    {
        var writer = _channel.Writer;
        long line = 0;
        try
        {
            using var file = new FileStream(_file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            using var stream = TraceFile.IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            var buffer = new byte[1 << 16];
            var filled = 0;
            var batch = Take();
            var count = 0;
            while (true)
            {
                var read = stream.Read(buffer, filled, buffer.Length - filled);
                Volatile.Write(ref _bytesRead, file.Position);
                var end = filled + read;
                var start = 0;
                while (true)
                {
                    var newline = buffer.AsSpan(start, end - start).IndexOf((byte)'\n');
                    if (newline < 0 && (read > 0 || start == end))
                        break;
                    var length = newline < 0 ? end - start : newline; // the last line may have no line break
                    line++;
                    if (count > BatchSize - TraceParser.MaxAccessesPerLine)
                    {
                        if (!Send(writer, batch, count))
                            return;
                        (batch, count) = (Take(), 0);
                    }
                    if (TraceParser.Parse(buffer.AsSpan(start, length), batch, ref count) is { } wrong)
                        throw Bad(line, buffer.AsSpan(start, length), wrong);
                    start += length + (newline < 0 ? 0 : 1);
                }
                if (read == 0)
                    break;
                if (start == 0 && end == buffer.Length)
                    throw Error(line + 1, $"a trace line longer than {buffer.Length:N0} bytes; {TraceParser.Formats}");
                buffer.AsSpan(start, end - start).CopyTo(buffer);
                filled = end - start;
            }
            if (count > 0)
                Send(writer, batch, count);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // the run is over (or its process ended) before the trace: nothing more is wanted
        }
        catch (ConfigException e)
        {
            _error = _file.Failed(e);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            _error = _file.Failed(Error(line + 1, $"cannot read the trace: {e.Message}"));
        }
        finally
        {
            writer.TryComplete();
        }
    }

    /// <summary>Hands a full batch to the simulation, waiting while the channel is full; false once the pass was stopped.</summary>
    private bool Send(ChannelWriter<(TracedAccess[], int)> writer, TracedAccess[] batch, int count)
    {
        Volatile.Write(ref _accessesRead, _accessesRead + count);
        while (!writer.TryWrite((batch, count)))
        {
            if (!writer.WaitToWriteAsync(_stop.Token).AsTask().GetAwaiter().GetResult())
                return false;
        }
        return true;
    }

    /// <summary>An error at a line of the file (numbered from 1; a trace may have more lines than an int counts).</summary>
    private ConfigException Error(long line, string message) => new($"{_file.Path}:{line}", null, message);

    /// <summary>Batch arrays this pass has allocated: at most <see cref="Capacity"/> + 2 (the channel's, the one being filled, the one handed out), however long the trace.</summary>
    internal int BatchesMade { get; private set; }

    private TracedAccess[] Take()
    {
        if (_free.TryDequeue(out var batch))
            return batch;
        BatchesMade++;
        return new TracedAccess[BatchSize];
    }

    private ConfigException Bad(long line, ReadOnlySpan<byte> text, string wrong)
    {
        const int shown = 60;
        var quoted = Encoding.UTF8.GetString(text.Length > shown ? text[..shown] : text) + (text.Length > shown ? "…" : "");
        return Error(line, $"bad trace line '{quoted}': {wrong}; {TraceParser.Formats}");
    }
}

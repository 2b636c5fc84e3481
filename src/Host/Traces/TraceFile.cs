using Faultsim.Host.Configuration;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Traces;

/// <summary>
/// A memory trace on disk as a run's source of accesses (<see cref="TraceParser"/> says which formats), plain or
/// gzipped (told by its first bytes). Each <see cref="Open"/> is a pass of its own with a reader thread
/// (<see cref="TraceReader"/>); disposing the file stops every pass still open.
/// </summary>
public sealed class TraceFile : IAccessSource, IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<TraceReader> _open = [];
    private TraceReader? _latest;
    private ConfigException? _failure;

    private TraceFile(string path, long length) => (Path, Length) = (path, length);

    public string Path { get; }

    /// <summary>The file's size in bytes (compressed, for a gzipped file).</summary>
    public long Length { get; }

    public string Name => Path;

    /// <summary>The first error a pass met (a bad line, a read error): the run is bad input, whatever the engine made of it.</summary>
    public ConfigException? Failure => Volatile.Read(ref _failure);

    /// <summary>Passes opened so far (OPT's recording run and a check's reference run read the trace again).</summary>
    public int Passes { get; private set; }

    /// <summary>How far the latest pass has read: bytes of the file, and accesses.</summary>
    public (long Bytes, long Accesses) Progress => _latest is { } pass ? (pass.BytesRead, pass.AccessesRead) : (0, 0);

    /// <summary>The trace at <paramref name="path"/>, checked readable now, before any run starts; <paramref name="option"/> names it in the error.</summary>
    public static TraceFile Check(string path, string option)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            return new TraceFile(path, file.Length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new ConfigException(option, null, $"cannot read trace file '{path}': {e.Message}");
        }
    }

    /// <summary>Whether <paramref name="file"/> starts with gzip's magic bytes; it is left at its start.</summary>
    internal static bool IsGzip(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        var read = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    }

    public IAccessReader Open()
    {
        var reader = new TraceReader(this);
        lock (_lock)
        {
            _open.Add(reader);
            _latest = reader;
            Passes++;
        }
        return reader;
    }

    internal void Closed(TraceReader reader)
    {
        lock (_lock)
            _open.Remove(reader);
    }

    internal ConfigException Failed(ConfigException error)
    {
        Interlocked.CompareExchange(ref _failure, error, null);
        return error;
    }

    public void Dispose()
    {
        TraceReader[] open;
        lock (_lock)
            open = [.. _open];
        foreach (var reader in open)
            reader.Dispose();
    }
}

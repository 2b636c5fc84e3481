using Faultsim.Actors.Monitoring;
using Faultsim.Host.Configuration;

namespace Faultsim.Host.Output;

/// <summary>
/// `--events FILE`: every event of a run written to FILE as it happens, one line each, ending in a newline —
/// exactly the bytes the log's hash covers. The file is opened (and emptied) before the run, so a path that
/// cannot be written is bad input before anything runs; a write that fails mid-run is kept and reported after it,
/// never thrown into the actor that recorded the event.
/// </summary>
public sealed class EventFile : IEventSink, IDisposable
{
    private readonly StreamWriter _writer;
    private IOException? _failure;

    private EventFile(string path, StreamWriter writer)
    {
        Path = path;
        _writer = writer;
    }

    public string Path { get; }

    /// <summary>Events written so far.</summary>
    public long Events { get; private set; }

    /// <summary>Opens <paramref name="path"/> for writing; a path that cannot be written is a <see cref="ConfigException"/> naming the option.</summary>
    public static EventFile Open(string option, string path)
    {
        try
        {
            var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1 << 16);
            return new EventFile(path, new StreamWriter(stream, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException(option, null, $"cannot write {path}: {e.Message} Give a file in a directory that exists and that you may write.");
        }
    }

    public void Write(LoggedEvent e, ReadOnlySpan<char> line)
    {
        if (_failure is not null)
            return;
        try
        {
            _writer.Write(line);
            _writer.Write('\n');
            Events++;
        }
        catch (IOException failure)
        {
            _failure = failure;
        }
    }

    /// <summary>Flushes what is buffered; a write that failed during the run becomes a <see cref="ConfigException"/> naming the option.</summary>
    public void Finish(string option)
    {
        if (_failure is null)
        {
            try
            {
                _writer.Flush();
            }
            catch (IOException failure)
            {
                _failure = failure;
            }
        }
        if (_failure is { } f)
            throw new ConfigException(option, null, $"writing {Path} failed after {Events:N0} events: {f.Message} Free space or give another file.");
    }

    public void Dispose()
    {
        try
        {
            _writer.Dispose();
        }
        catch (IOException)
        {
            // Finish already reported it; a second report would hide the first.
        }
    }
}

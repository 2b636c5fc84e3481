using Faultsim.Actors.Monitoring;
using Faultsim.Host.Configuration;

namespace Faultsim.Host.Output;

/// <summary>
/// `--events FILE`: every event of a run written to FILE as it happens, one line each, ending in a newline —
/// exactly the bytes the log's hash covers; `--events -` writes them to standard output. The file is written whole
/// (<see cref="WholeFile"/>: a temporary file beside it, renamed when the run is done), so a killed run never leaves a
/// cut log under its name; a path that cannot be written is bad input before anything runs; a write that fails mid-run
/// is kept and reported after it, never thrown into the actor that recorded the event.
/// </summary>
public sealed class EventFile : IEventSink, IDisposable
{
    private readonly TextWriter _writer;
    private readonly WholeFile? _file;
    private IOException? _failure;
    private bool _closed;

    private EventFile(string path, TextWriter writer, WholeFile? file)
    {
        Path = path;
        _writer = writer;
        _file = file;
    }

    public string Path { get; }

    /// <summary>Events written so far.</summary>
    public long Events { get; private set; }

    /// <summary>Opens <paramref name="path"/> for writing ("-": <paramref name="standardOutput"/>); a path that cannot be written is a <see cref="ConfigException"/> naming the option.</summary>
    public static EventFile Open(string option, string path, TextWriter standardOutput)
    {
        if (path == OutputPaths.StandardOutput)
            return new EventFile(path, standardOutput, null);
        var file = WholeFile.Create(option, path);
        return new EventFile(path, new StreamWriter(file.Stream, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16, leaveOpen: true), file);
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

    /// <summary>
    /// Flushes what is buffered and puts the file in place, whole; a write that failed during the run becomes a
    /// <see cref="ConfigException"/> naming the option (and no file is left).
    /// </summary>
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
        {
            Dispose();
            throw new ConfigException(option, null, $"writing {Path} failed after {Events:N0} events: {f.Message} Free space or give another file.");
        }
        if (_file is not null)
        {
            _closed = true;
            _writer.Dispose();
            _file.Commit();
        }
    }

    /// <summary>A file not finished is abandoned: its temporary file goes, and nothing is left under its name.</summary>
    public void Dispose()
    {
        if (_file is null || _closed)
            return;
        _closed = true;
        try
        {
            _writer.Dispose();
        }
        catch (IOException)
        {
            // Finish already reported it; a second report would hide the first.
        }
        _file.Dispose();
    }
}

using Faultsim.Host.Configuration;

namespace Faultsim.Host.Output;

/// <summary>
/// A file faultsim writes, written whole or not at all: its bytes go to a temporary file beside it (same directory, so the
/// rename cannot cross file systems), which <see cref="Commit"/> renames over the final name. A run killed before then leaves
/// the temporary file at most, never a truncated file under the final name; disposing without a commit deletes it.
/// </summary>
public sealed class WholeFile : IDisposable
{
    private readonly FileStream _stream;
    private bool _done;

    private WholeFile(string option, string path, string temporary, FileStream stream) =>
        (Option, Path, Temporary, _stream) = (option, path, temporary, stream);

    /// <summary>The option that named the file, for messages.</summary>
    public string Option { get; }

    public string Path { get; }

    /// <summary>Where the bytes go until <see cref="Commit"/>: a hidden file beside <see cref="Path"/>.</summary>
    public string Temporary { get; }

    public Stream Stream => _stream;

    /// <summary>The temporary file beside <paramref name="path"/> that a write of it goes through.</summary>
    public static string TemporaryFor(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        return System.IO.Path.Combine(System.IO.Path.GetDirectoryName(full)!, TemporaryName(System.IO.Path.GetFileName(full), $"{Environment.ProcessId}"));
    }

    /// <summary>The name of a temporary file of <paramref name="name"/> written by process <paramref name="pid"/> (or a pattern: "*").</summary>
    private static string TemporaryName(string name, string pid) => $"{TemporaryPrefix(name)}{pid}{TemporarySuffix}";

    private static string TemporaryPrefix(string name) => $".{name}.";

    private const string TemporarySuffix = ".tmp";

    /// <summary>Starts writing <paramref name="path"/>; a place that cannot be written is a <see cref="ConfigException"/> naming <paramref name="option"/>.</summary>
    public static WholeFile Create(string option, string path)
    {
        var temporary = TemporaryFor(path);
        RemoveStale(path);
        try
        {
            return new WholeFile(option, path, temporary, new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw OutputPaths.CannotWrite(option, path, e);
        }
    }

    /// <summary>
    /// Deletes the temporary files of <paramref name="path"/> that killed runs left (their process is gone): a run killed
    /// mid-write leaves its temporary file, and the next write of the same file clears it. A file whose process still runs
    /// (or whose number a new process took) is left alone.
    /// </summary>
    private static void RemoveStale(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var (directory, name) = (System.IO.Path.GetDirectoryName(full)!, System.IO.Path.GetFileName(full));
        try
        {
            foreach (var stale in Directory.EnumerateFiles(directory, TemporaryName(name, "*")))
            {
                var pid = System.IO.Path.GetFileName(stale)[TemporaryPrefix(name).Length..^TemporarySuffix.Length];
                if (int.TryParse(pid, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id)
                    && id != Environment.ProcessId && !Running(id))
                    File.Delete(stale);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a directory that cannot be listed, or a file another process holds: the write itself says what is wrong, if anything
        }
    }

    private static bool Running(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> whole.</summary>
    public static void WriteAllText(string option, string path, string text)
    {
        using var file = Create(option, path);
        try
        {
            using (var writer = new StreamWriter(file._stream, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true))
                writer.Write(text);
        }
        catch (IOException e)
        {
            throw OutputPaths.CannotWrite(option, path, e);
        }
        file.Commit();
    }

    /// <summary>Flushes and closes the temporary file and renames it over <see cref="Path"/>.</summary>
    public void Commit()
    {
        if (_done)
            return;
        try
        {
            if (_stream.CanWrite)
                _stream.Flush(flushToDisk: false);
            _stream.Dispose();
            File.Move(Temporary, Path, overwrite: true);
            _done = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Dispose();
            throw OutputPaths.CannotWrite(Option, Path, e);
        }
    }

    /// <summary>Without a commit: the temporary file is deleted and <see cref="Path"/> left as it was.</summary>
    public void Dispose()
    {
        if (_done)
            return;
        _done = true;
        try
        {
            _stream.Dispose();
        }
        catch (IOException)
        {
            // the file is abandoned either way
        }
        File.Delete(Temporary);
    }
}

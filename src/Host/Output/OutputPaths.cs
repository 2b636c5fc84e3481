using Faultsim.Host.Configuration;

namespace Faultsim.Host.Output;

/// <summary>
/// The outputs of a command checked before it runs: each a file that can be written (its directory exists, it is not a
/// directory, the directory takes a new file) or "-" for standard output; no two on one path, at most one on standard
/// output, none over an input. A bad one is bad input naming its option, before any work is done.
/// </summary>
public static class OutputPaths
{
    /// <summary>What an output option's "-" means, on every output option: standard output.</summary>
    public const string StandardOutput = "-";

    /// <param name="outputs">Each output option with the path it was given (null: not given).</param>
    /// <param name="inputs">Each input option with its path (--config, --scenario): no output may overwrite one.</param>
    public static void Check(IEnumerable<(string Option, string? Path)> outputs, IEnumerable<(string Option, string? Path)> inputs)
    {
        var given = outputs.Where(o => o.Path is not null).Select(o => (o.Option, Path: o.Path!)).ToList();
        var toStdout = given.Where(o => o.Path == StandardOutput).Select(o => o.Option).ToList();
        if (toStdout.Count > 1)
            throw new ConfigException(toStdout[1], null, $"{toStdout[0]} already writes to standard output (-); give {toStdout[1]} a file");
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (option, path) in given.Where(o => o.Path != StandardOutput))
        {
            CheckOne(option, path);
            var full = Path.GetFullPath(path);
            if (seen.TryGetValue(full, out var other))
                throw new ConfigException(option, null, $"{path} is also the file of {other}; give each output a file of its own");
            seen[full] = option;
        }
        foreach (var (option, path) in inputs)
        {
            if (path is not null && File.Exists(path) && seen.TryGetValue(Path.GetFullPath(path), out var output))
                throw new ConfigException(output, null, $"{path} is the file given to {option}; writing it would overwrite the input — give another file");
        }
    }

    /// <summary>Whether any of the options writes to standard output: then the human report stays off it.</summary>
    public static bool AnyToStandardOutput(params string?[] paths) => paths.Any(p => p == StandardOutput);

    private static void CheckOne(string option, string path)
    {
        if (path.Length == 0 || path.Any(char.IsControl))
            throw new ConfigException(option, null, $"'{path}' is not a file name; give a file, or - for standard output");
        if (Directory.Exists(path))
            throw new ConfigException(option, null, $"{path} is a directory; give a file in it, e.g. {Path.Combine(path, "out")}");
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(directory))
            throw new ConfigException(option, null, $"cannot write {path}: the directory {directory} does not exist. Give a file in a directory that exists and that you may write.");
        var probe = WholeFile.TemporaryFor(path);
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CannotWrite(option, path, e);
        }
    }

    /// <summary>The error of an output that cannot be written, naming its option.</summary>
    public static ConfigException CannotWrite(string option, string path, Exception e) =>
        new(option, null, $"cannot write {path}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message.TrimEnd('.'))}. Give a file in a directory that exists and that you may write.");
}

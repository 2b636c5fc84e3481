using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Faultsim.Host.Configuration;

namespace Faultsim.Host.KernelCheck;

/// <summary>
/// The C helper (kernel-check.c, embedded in the binary): compiled with the system's C compiler into a temporary
/// directory, run there, and its lines parsed. Without a compiler, or on a host that is not Linux, it is bad input (exit 2).
/// </summary>
internal static class NativeHelper
{
    private const string Resource = "kernel-check/kernel-check.c";
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);

    /// <summary>The helper's C source.</summary>
    public static string Source()
    {
        using var stream = typeof(NativeHelper).Assembly.GetManifestResourceStream(Resource)
                           ?? throw new InvalidOperationException($"the embedded {Resource} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The C compiler to use: --cc, else $CC, else cc or gcc on PATH; bad input when there is none.</summary>
    public static string Compiler(string? option, Func<string, string?> environment)
    {
        if (!OperatingSystem.IsLinux())
            throw new ConfigException("kernel-check", null, "measures the Linux kernel; run it on Linux");
        var (given, origin) = option is not null ? (option, "--cc") : (environment("CC"), "CC");
        if (!string.IsNullOrWhiteSpace(given))
            return Find(given) ?? throw new ConfigException(origin, null, $"names '{given}', which is not an executable file or on PATH; give the path of a C compiler");
        return Find("cc") ?? Find("gcc")
            ?? throw new ConfigException("kernel-check", null, "needs a C compiler to build its helper, and none of cc, gcc is on PATH; install one (e.g. gcc) or name it with --cc or CC");
    }

    private static string? Find(string name)
    {
        if (name.Contains('/'))
            return File.Exists(name) ? Path.GetFullPath(name) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
                return path;
        }
        return null;
    }

    /// <summary>Compiles the helper with <paramref name="compiler"/> in a temporary directory, runs <paramref name="patterns"/> (all when empty) and parses its lines.</summary>
    public static NativeRun Run(string compiler, IReadOnlyList<string> patterns)
    {
        var dir = Directory.CreateTempSubdirectory("faultsim-kernel-check-").FullName;
        try
        {
            var source = Path.Combine(dir, "kernel-check.c");
            File.WriteAllText(source, Source());
            var binary = Path.Combine(dir, "kernel-check");
            var (built, _, buildErrors) = Execute(compiler, ["-O1", "-o", binary, source, "-pthread"], dir);
            if (built != 0)
                throw new ConfigException("kernel-check", null,
                    $"{compiler} could not build the helper (exit {built}): {FirstLine(buildErrors)}; give a C compiler for this Linux host (with its C library's headers)");
            var files = Directory.CreateDirectory(Path.Combine(dir, "files")).FullName;
            var (exit, output, errors) = Execute(binary, [files, .. patterns], dir);
            if (exit != 0)
                throw new KernelCheckException($"the native helper failed (exit {exit}): {FirstLine(errors)}");
            return Parse(output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase))
        ?? text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no message";

    private static (int Exit, string Output, string Errors) Execute(string file, IReadOnlyList<string> arguments, string dir)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir, UseShellExecute = false };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new KernelCheckException($"{file} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Bound))
        {
            process.Kill(entireProcessTree: true);
            throw new KernelCheckException($"{Path.GetFileName(file)} did not finish within {Bound.TotalMinutes} minutes");
        }
        return (process.ExitCode, output.Result, errors.Result);
    }

    /// <summary>The helper's lines: host, result, skip and note (see kernel-check.c).</summary>
    public static NativeRun Parse(string output)
    {
        var host = ImmutableDictionary.CreateBuilder<string, string>();
        var counts = ImmutableDictionary.CreateBuilder<(string, string), NativeCount>();
        var skipped = ImmutableDictionary.CreateBuilder<string, string>();
        var notes = ImmutableDictionary.CreateBuilder<string, string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var words = line.Split(' ', 3);
            switch (words[0])
            {
                case "host" when words.Length == 3:
                    host[words[1]] = words[2];
                    break;
                case "skip" when words.Length == 3:
                    skipped[words[1]] = words[2];
                    break;
                case "note" when words.Length == 3:
                    notes[words[1]] = words[2];
                    break;
                case "result":
                    var r = line.Split(' ');
                    if (r.Length != 7 || !long.TryParse(r[3], CultureInfo.InvariantCulture, out var minor) || !long.TryParse(r[4], CultureInfo.InvariantCulture, out var major)
                        || !long.TryParse(r[5], CultureInfo.InvariantCulture, out var copies))
                        throw new KernelCheckException($"the native helper printed '{line}', not 'result PATTERN PART MINFLT MAJFLT COPIES OUTCOME'");
                    counts[(r[1], r[2])] = new NativeCount(minor, major, copies < 0 ? null : copies, r[6] == "ok" ? null : r[6]);
                    break;
                default:
                    throw new KernelCheckException($"the native helper printed '{line}', which is none of its lines (host, result, skip, note)");
            }
        }
        return new NativeRun(host.ToImmutable(), counts.ToImmutable(), skipped.ToImmutable(), notes.ToImmutable());
    }
}

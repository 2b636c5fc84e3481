using System.Collections.Frozen;
using System.Text.Json;
using Faultsim.Host.Output;
using Faultsim.Model.Faults;

namespace Faultsim.Host.Experiments;

/// <summary>The figures an experiment may report: the numbers of a finished run's JSON (<see cref="RunJson"/>), by path.</summary>
public static class Figures
{
    public static readonly FrozenSet<string> Known = Paths().ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="figure"/> is a figure: a known path, or a ratio A/B of two (faults.total/accesses, a fault rate).</summary>
    public static bool IsFigure(string figure) => figure.Split('/') switch
    {
        [var path] => Known.Contains(path),
        [var a, var b] => Known.Contains(a) && Known.Contains(b),
        _ => false,
    };

    /// <summary>The file name of a figure's plot, without extension: a ratio's slash written as _per_.</summary>
    public static string FileName(string figure) => figure.Replace("/", "_per_", StringComparison.Ordinal);

    public static string Describe => "cpus, steps, accesses, ipis, syscall_errors, faults.{minor,major,total,cow,segv,bus,efault,oops,spurious}, " +
        "faults.by_resolution.KIND, pages.{zeroed,copied,evicted}, disk.{reads,writes}, tlb.{hits,misses,shootdowns}, " +
        "latency.KIND.{count,p50_ns,p99_ns,max_ns} (KIND: " + string.Join(", ", Enum.GetValues<ResolutionKind>().Select(Names.Of)) + "), events.count, or a ratio A/B of two such as faults.total/accesses";

    private static IEnumerable<string> Paths()
    {
        string[] plain = ["cpus", "steps", "accesses", "ipis", "syscall_errors", "events.count", "memory.pages", "memory.file_pages"];
        foreach (var path in plain)
            yield return path;
        foreach (var fault in new[] { "minor", "major", "total", "cow", "segv", "bus", "efault", "oops", "spurious" })
            yield return $"faults.{fault}";
        foreach (var pages in new[] { "zeroed", "copied", "evicted" })
            yield return $"pages.{pages}";
        foreach (var disk in new[] { "reads", "writes" })
            yield return $"disk.{disk}";
        foreach (var tlb in new[] { "hits", "misses", "shootdowns" })
            yield return $"tlb.{tlb}";
        foreach (var kind in Enum.GetValues<ResolutionKind>().Select(Names.Of))
        {
            yield return $"faults.by_resolution.{kind}";
            foreach (var stat in new[] { "count", "p50_ns", "p99_ns", "max_ns" })
                yield return $"latency.{kind}.{stat}";
        }
    }

    /// <summary>
    /// The figure <paramref name="figure"/> of a run's JSON, as the JSON writes it; null where the run has none (a latency
    /// of a resolution it never made: the JSON lists those it made).
    /// </summary>
    public static string? Of(JsonElement run, string figure)
    {
        if (figure.Split('/') is [var a, var b])
        {
            return Of(run, a) is { } x && Of(run, b) is { } y && double.Parse(y, System.Globalization.CultureInfo.InvariantCulture) is var d and not 0
                ? (double.Parse(x, System.Globalization.CultureInfo.InvariantCulture) / d).ToString("R", System.Globalization.CultureInfo.InvariantCulture)
                : null;
        }
        return Path(run, figure);
    }

    private static string? Path(JsonElement run, string path)
    {
        var element = run;
        foreach (var name in path.Split('.'))
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
                return null;
        }
        return element.ValueKind == JsonValueKind.Number ? element.GetRawText() : null;
    }
}

namespace Faultsim.Host.Configuration;

/// <summary>
/// The keys faultsim understands. Fixed keys are those of the embedded default config; the
/// workload section has named entries whose keys are listed here. Anything else is a typo to
/// report, never to ignore.
/// </summary>
public static class ConfigSchema
{
    public const string Root = "faultsim";
    public const string WorkloadPath = "faultsim.workload";
    public const string ExperimentSection = "experiment";

    private static readonly string[] WorkloadPatterns =
    [
        "faultsim.workload.files.*.size",
        "faultsim.workload.files.*.fs",
        "faultsim.workload.processes.*.stack-pointer",
        "faultsim.workload.processes.*.regions.*.start",
        "faultsim.workload.processes.*.regions.*.end",
        "faultsim.workload.processes.*.regions.*.size",
        "faultsim.workload.processes.*.regions.*.prot",
        "faultsim.workload.processes.*.regions.*.file",
        "faultsim.workload.processes.*.regions.*.offset",
        "faultsim.workload.processes.*.regions.*.shared",
        "faultsim.workload.processes.*.regions.*.grows-down",
        "faultsim.workload.cpus.*",
        "faultsim.workload.generator.kind",
        "faultsim.workload.generator.accesses",
        "faultsim.workload.generator.pages",
        "faultsim.workload.generator.stride",
        "faultsim.workload.generator.theta",
        "faultsim.workload.generator.write-fraction",
        "faultsim.workload.generator.rounds",
        "faultsim.workload.generator.processes",
        "faultsim.workload.generator.map-pages",
        "faultsim.workload.generator.backing",
        "faultsim.workload.generator.cache",
        "faultsim.workload.generator.mix.*",
    ];

    /// <summary>Whether <paramref name="path"/> is a key, or an object on the way to one, that faultsim reads.</summary>
    public static bool IsKnown(string path, IReadOnlySet<string> defaultKeys)
    {
        if (path == "akka" || path.StartsWith("akka.", StringComparison.Ordinal))
            return true; // passed through to Akka.NET
        if (path == ExperimentSection || path.StartsWith(ExperimentSection + ".", StringComparison.Ordinal))
            return true; // an experiment file's sweep, read by `faultsim experiment`; a run of the file alone leaves it aside
        if (path.StartsWith(WorkloadPath, StringComparison.Ordinal))
            return path == WorkloadPath || MatchesAny(path.Split('.'), exactLength: false);
        return defaultKeys.Contains(path);
    }

    /// <summary>
    /// The kind of value faultsim expects at a known <paramref name="path"/> outside akka: the kind the embedded default gives
    /// it (<paramref name="defaults"/>: path → kind), and for the workload's named entries, an object on the way to a key and
    /// a single value at one. Null when the default does not say (a key it does not set).
    /// </summary>
    public static ValueKind? Expected(string path, IReadOnlyDictionary<string, ValueKind> defaults)
    {
        if (path.StartsWith(WorkloadPath, StringComparison.Ordinal))
        {
            if (path == WorkloadPath)
                return ValueKind.Object;
            var segments = path.Split('.');
            return MatchesAny(segments, exactLength: true) ? ValueKind.Value : MatchesAny(segments, exactLength: false) ? ValueKind.Object : null;
        }
        return defaults.TryGetValue(path, out var kind) ? kind : null;
    }

    /// <summary>How a kind of value is written, for messages.</summary>
    public static string Describe(ValueKind kind) => kind switch
    {
        ValueKind.Object => "a section { … }",
        ValueKind.List => "a list [ … ]",
        ValueKind.Null => "null",
        _ => "a single value",
    };

    /// <summary>The known key closest to a misspelt one, to suggest.</summary>
    public static string? Suggest(string path, IReadOnlySet<string> defaultKeys)
    {
        var candidates = defaultKeys.Where(k => !k.StartsWith(WorkloadPath + ".", StringComparison.Ordinal))
            .Concat(WorkloadPatterns);
        var best = candidates.Select(k => (Key: k, Distance: Distance(path, k))).MinBy(c => c.Distance);
        return best.Key is not null && best.Distance <= Math.Max(3, path.Length / 4) ? best.Key : null;
    }

    /// <summary>The segments of each of <see cref="WorkloadPatterns"/>, split once (every key of every load is matched against them).</summary>
    private static readonly string[][] PatternSegments = [.. WorkloadPatterns.Select(p => p.Split('.'))];

    /// <summary>Whether <paramref name="segments"/> match the start of a workload pattern (all of one, if <paramref name="exactLength"/>).</summary>
    private static bool MatchesAny(string[] segments, bool exactLength)
    {
        foreach (var pattern in PatternSegments)
            if ((!exactLength || pattern.Length == segments.Length) && MatchesPrefix(segments, pattern))
                return true;
        return false;
    }

    /// <summary>Whether <paramref name="segments"/> match the start of <paramref name="expected"/> ('*' matches any one segment).</summary>
    private static bool MatchesPrefix(string[] segments, string[] expected)
    {
        if (segments.Length > expected.Length)
            return false;
        for (var i = 0; i < segments.Length; i++)
        {
            if (expected[i] != "*" && expected[i] != segments[i])
                return false;
        }
        return true;
    }

    internal static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }
        return row[b.Length];
    }
}

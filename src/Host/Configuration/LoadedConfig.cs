using Akka.Configuration;

namespace Faultsim.Host.Configuration;

/// <summary>
/// The merged configuration of a run, and where each key came from: the --set overrides, then the
/// --config file, then the embedded default. Errors about a key point at the line that set it.
/// </summary>
public sealed class LoadedConfig(Config merged, Config workload, IReadOnlyList<HoconSourceMap> sources, HoconSourceMap workloadSource)
{
    /// <summary>Every key, overrides first, with the embedded default as the last fallback.</summary>
    public Config Merged { get; } = merged;

    /// <summary>The faultsim.workload section, taken whole from the highest layer that has one.</summary>
    public Config Workload { get; } = workload;

    /// <summary>The layer whose workload section is used: script line numbers refer to it.</summary>
    public HoconSourceMap WorkloadSource { get; } = workloadSource;

    /// <summary>Where <paramref name="path"/> was set, as an error origin: the highest layer that sets it.</summary>
    public ConfigException Error(string path, string message)
    {
        foreach (var source in sources)
        {
            if (source.Sets(path))
                return new ConfigException(source.Origin, source.LineOf(path), message);
        }
        return new ConfigException(sources[^1].Origin, null, $"{path}: {message}");
    }

    /// <summary>Every key set under <paramref name="prefix"/> by the given texts (not the embedded default), as each text writes it.</summary>
    public IEnumerable<string> KeysSetUnder(string prefix) =>
        sources.Where(s => s.Origin != ConfigLoader.EmbeddedOrigin).SelectMany(s => s.Keys)
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal);

    /// <summary>The line where the value of <paramref name="path"/> starts, in the workload's layer.</summary>
    public int WorkloadValueLine(string path) => WorkloadSource.ValueLineOf(path) ?? WorkloadSource.LineOf(path) ?? 0;
}

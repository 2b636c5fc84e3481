using Faultsim.Host.Configuration;

namespace Faultsim.Host.Experiments;

/// <summary>
/// The experiments of config/experiments, embedded in the binary; an experiment may also be given as a path. Relative
/// paths in an experiment (its traces) start from the directory of its file — for an embedded one, config/experiments
/// under the working directory, as in a clone of the repository.
/// </summary>
public static class ExperimentCatalog
{
    private const string Prefix = "experiments/";
    public const string Directory = "config/experiments";

    public static IReadOnlyList<string> Names { get; } = EmbeddedConfigs.Names(Prefix);

    /// <summary>The experiment an argument names: a shipped one by name, or a file by path.</summary>
    public static ExperimentSpec Load(string experiment, bool quick)
    {
        if (Names.Contains(experiment))
            return ExperimentReader.Read(experiment, $"{Directory}/{experiment}.conf (embedded)", EmbeddedConfigs.Text(Prefix, experiment), quick, Directory);
        if (!experiment.EndsWith(".conf", StringComparison.Ordinal))
            throw new ConfigException("experiment", null, $"no experiment '{experiment}'; `faultsim experiments` lists them ({string.Join(", ", Names)}), or give a FILE.conf");
        var text = ConfigLoader.ReadFile("experiment", experiment) ?? throw new ConfigException(experiment, null, "no such experiment file; check the path");
        return ExperimentReader.Read(Path.GetFileNameWithoutExtension(experiment), experiment, text, quick, Path.GetDirectoryName(Path.GetFullPath(experiment))!);
    }
}

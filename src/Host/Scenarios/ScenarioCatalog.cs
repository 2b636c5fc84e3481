using Faultsim.Host.Configuration;

namespace Faultsim.Host.Scenarios;

/// <summary>
/// The race scenarios of config/scenarios, embedded in the binary: each a config file over the default
/// with a workload of small per-CPU scripts and the checks it needs. A scenario may also be given as a path.
/// </summary>
public static class ScenarioCatalog
{
    private const string Prefix = "scenarios/";

    public static IReadOnlyList<string> Names { get; } = EmbeddedConfigs.Names(Prefix);

    /// <summary>The scenario's config file: an embedded one by name, or a file by path.</summary>
    public static (string Origin, string? Text) File(string scenario)
    {
        if (Names.Contains(scenario))
            return ($"config/scenarios/{scenario}.conf (embedded)", EmbeddedConfigs.Text(Prefix, scenario));
        if (scenario.EndsWith(".conf", StringComparison.Ordinal))
            return (scenario, ConfigLoader.ReadFile("--scenario", scenario)
                              ?? throw new ConfigException(scenario, null, "no such config file; check the path given to --scenario"));
        throw new ConfigException("--scenario", null, $"no scenario '{scenario}'; `faultsim scenarios` lists them: {string.Join(", ", Names)}");
    }

    /// <summary>The settings of a scenario, with a --config file (<paramref name="config"/>, or none) and the --set overrides over it.</summary>
    /// <param name="environment">Reads an environment variable (OTEL_*); the process's own by default.</param>
    public static SimSettings Load(string scenario, IReadOnlyList<string> overrides, string? config = null, Func<string, string?>? environment = null)
    {
        var scenarioFile = File(scenario);
        IReadOnlyList<(string, string?)> files = config is null ? [scenarioFile] : [(config, ConfigLoader.ReadFile("--config", config)), scenarioFile];
        if (config is not null && files[0].Item2 is null)
            throw new ConfigException(config, null, "no such config file; check the path given to --config");
        return SimSettings.From(ConfigLoader.LoadText(files, overrides), environment);
    }
}

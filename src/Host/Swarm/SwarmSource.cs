using Faultsim.Host.Configuration;

namespace Faultsim.Host.Swarm;

/// <summary>
/// Swarm draws under a command's --set overrides: the options (faultsim.swarm.*) and the pinned knobs are read once, and
/// each seed's draw is loaded through the normal loader — its text as the scenario file, the overrides over it — so a
/// draw runs exactly as the scenario file <c>--write-scenario</c> writes of it.
/// </summary>
public sealed class SwarmSource
{
    private readonly IReadOnlyList<string> _overrides;
    private readonly IReadOnlyList<(string Origin, string? Text)> _config;
    private readonly Func<string, string?>? _environment;

    /// <param name="config">The --config file under every draw, or null.</param>
    /// <param name="environment">Reads an environment variable (OTEL_*); the process's own by default.</param>
    public SwarmSource(IReadOnlyList<string> overrides, string? config = null, Func<string, string?>? environment = null)
    {
        _overrides = overrides;
        _environment = environment;
        _config = config is null
            ? []
            : [(config, ConfigLoader.ReadFile("--config", config) ?? throw new ConfigException(config, null, "no such config file; check the path given to --config"))];
        var loaded = ConfigLoader.LoadText(_config, overrides);
        Options = SwarmOptions.From(loaded);
        Pins = SwarmPins.From(loaded, overrides);
    }

    public SwarmOptions Options { get; }

    public SwarmPins Pins { get; }

    public SwarmDraw Draw(ulong seed) => SwarmGenerator.Text(seed, Options, Pins);

    /// <summary>The settings of <paramref name="seed"/>'s draw, with the overrides over it (the run's seed is the draw's).</summary>
    public SimSettings Load(ulong seed) => Load(Draw(seed));

    public SimSettings Load(SwarmDraw draw) => SimSettings.From(ConfigLoader.LoadText([.. _config, (draw.Origin, draw.Text)], _overrides), _environment);
}

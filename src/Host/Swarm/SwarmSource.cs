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

    public SwarmSource(IReadOnlyList<string> overrides)
    {
        _overrides = overrides;
        var loaded = ConfigLoader.LoadText(null, overrides);
        Options = SwarmOptions.From(loaded);
        Pins = SwarmPins.From(loaded, overrides);
    }

    public SwarmOptions Options { get; }

    public SwarmPins Pins { get; }

    public SwarmDraw Draw(ulong seed) => SwarmGenerator.Text(seed, Options, Pins);

    /// <summary>The settings of <paramref name="seed"/>'s draw, with the overrides over it (the run's seed is the draw's).</summary>
    public SimSettings Load(ulong seed) => Load(Draw(seed));

    public SimSettings Load(SwarmDraw draw) => SimSettings.From(ConfigLoader.LoadText((draw.Origin, draw.Text), _overrides));
}

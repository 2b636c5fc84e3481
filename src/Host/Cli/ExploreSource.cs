using System.Collections.Concurrent;
using Faultsim.Host.Configuration;
using Faultsim.Host.Scenarios;
using Faultsim.Host.Swarm;

namespace Faultsim.Host.Cli;

/// <summary>What explore and replay run for each seed: one scenario's settings, or the seed's own swarm draw.</summary>
internal abstract class ExploreSource
{
    /// <param name="config">The --config file under the scenario or every draw, or null.</param>
    /// <param name="environment">Reads an environment variable (OTEL_*).</param>
    public static ExploreSource Of(string? scenario, bool swarm, IReadOnlyList<string> overrides, string? config, Func<string, string?> environment) =>
        swarm
            ? new Drawn(new SwarmSource(overrides, config, environment))
            : new Named(scenario!, ScenarioCatalog.Load(scenario!, overrides, config, environment));

    /// <summary>What ran, in "no violation in N seeds of …".</summary>
    public abstract string Name { get; }

    /// <summary>The replay command's argument that names the source.</summary>
    public abstract string Argument { get; }

    public abstract SimSettings Settings(ulong seed);

    /// <summary>What a report of <paramref name="seed"/>'s run is headed with.</summary>
    public abstract string Title(ulong seed);

    /// <summary>After the seeds ran: what is worth telling about them, as " (…)", or "".</summary>
    public virtual string Tally() => "";

    /// <summary>Writes the scenario file of <paramref name="seed"/>'s run to <paramref name="path"/>, and says how to run it.</summary>
    public void Write(string path, ulong seed, TextWriter output)
    {
        Faultsim.Host.Output.WholeFile.WriteAllText("--write-scenario", path, Text(seed));
        output.WriteLine($"wrote {Title(seed)} to {path}: faultsim replay --scenario {path} --seed {seed}");
    }

    /// <summary>The scenario-file text <paramref name="seed"/> runs (before the command's --set overrides).</summary>
    public abstract string Text(ulong seed);

    private sealed class Named(string name, SimSettings settings) : ExploreSource
    {
        public override string Name => name;
        public override string Argument => $"--scenario {Faultsim.Host.Output.ExploreReport.Quoted(name)}";
        public override SimSettings Settings(ulong seed) => settings;
        public override string Title(ulong seed) => $"scenario {name}";
        public override string Text(ulong seed) => ScenarioCatalog.File(name).Text!;
    }

    private sealed class Drawn(SwarmSource source) : ExploreSource
    {
        private readonly ConcurrentDictionary<ulong, bool> _raceFree = new();

        public override string Name => "swarm draws";
        public override string Argument => "--swarm";

        public override SimSettings Settings(ulong seed)
        {
            var settings = source.Load(seed);
            _raceFree[seed] = settings.Checks.CountsMatchReference;
            return settings;
        }

        public override string Title(ulong seed) => $"swarm draw ({source.Draw(seed).Summary})";

        public override string Tally() => $" ({_raceFree.Count(kv => kv.Value):N0} race-free, held to the reference machine)";

        public override string Text(ulong seed) => source.Draw(seed).Text;
    }
}

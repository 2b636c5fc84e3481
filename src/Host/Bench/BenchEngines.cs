using Akka.Actor;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Scheduling;
using Faultsim.Model.Machine;

namespace Faultsim.Host.Bench;

/// <summary>The engines a bench times, made once for all its runs: the reference machine, and the actors in the chosen modes.</summary>
public sealed class BenchEngines : IDisposable
{
    public static readonly string[] Modes = ["live", "deterministic"];

    private readonly ActorSystem? _live;
    private readonly DeterministicEngine? _deterministic;
    private readonly List<AkkaCeiling> _ceilings = [];

    /// <param name="deterministicSettings">The settings of a deterministic run, as `faultsim run` makes one.</param>
    /// <param name="liveSettings">The settings of a live run; the defaults if null.</param>
    public BenchEngines(bool reference, IReadOnlyCollection<string> actorModes, EngineSettings deterministicSettings, EngineSettings? liveSettings = null)
    {
        var live = liveSettings ?? EngineSettings.Default;
        if (reference)
            Runners.Add(new BenchRunner(ReferenceMachine.EngineName, null, EngineSettings.Default));
        if (actorModes.Contains("live"))
        {
            _live = ActorSystem.Create("faultsim-bench", ActorEngine.SystemConfig(live));
            Runners.Add(new BenchRunner(MachineActor.EngineName, "live", live, Live: _live) { Ceiling = Ceiling(AkkaCeiling.Live(_live)) });
        }
        if (actorModes.Contains("deterministic"))
        {
            _deterministic = new DeterministicEngine();
            Runners.Add(new BenchRunner(MachineActor.EngineName, "deterministic", deterministicSettings, Deterministic: _deterministic)
            {
                Ceiling = Ceiling(AkkaCeiling.Deterministic()),
            });
        }
    }

    public List<BenchRunner> Runners { get; } = [];

    private AkkaCeiling Ceiling(AkkaCeiling ceiling)
    {
        _ceilings.Add(ceiling);
        return ceiling;
    }

    public void Dispose()
    {
        foreach (var ceiling in _ceilings)
            ceiling.Dispose();
        _live?.Terminate().Wait(TimeSpan.FromSeconds(10));
        _live?.Dispose();
        _deterministic?.Dispose();
    }
}

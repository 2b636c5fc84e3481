using Akka.Actor;
using Faultsim.Actors.Scheduling;
using Akka.Configuration;
using Faultsim.Actors.Serialization;
using Faultsim.Model.Machine;
using Faultsim.Model.Replacement;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.Machine;

/// <summary>Runs a workload on the actor engine: an actor system, the machine actor, the result. The one Ask is here, at the edge.</summary>
public static class ActorEngine
{
    /// <summary>
    /// The actor system's settings for live runs: quiet logs, and a dispatcher of its own threads. On few cores,
    /// fewer threads than CPUs simulated run faster: a fault is a chain of messages, and every hop between
    /// threads costs more than the hop itself (measured: one thread beats two on two cores, and steadily).
    /// </summary>
    public static string LiveConfig(int threads) => $$"""
        akka {
          loglevel = WARNING
          stdout-loglevel = WARNING
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          actor.default-dispatcher {
            executor = fork-join-executor
            fork-join-executor { parallelism-min = {{threads}}, parallelism-max = {{threads}}, parallelism-factor = 1.0 }
            throughput = 64
          }
        }
        """;

    /// <summary>The settings of an actor system that runs the engine: the live settings with <paramref name="extraConfig"/> over them, and the serializer binding.</summary>
    public static Config SystemConfig(EngineSettings settings, string? extraConfig = null) =>
        ConfigurationFactory.ParseString(extraConfig ?? "")
            .WithFallback(ConfigurationFactory.ParseString(LiveConfig(settings.EffectiveThreads)))
            .WithFallback(ConfigurationFactory.ParseString(MessageSerializer.Config));

    /// <summary>Runs <paramref name="workload"/> in an actor system of its own, stopped afterwards.</summary>
    /// <param name="extraConfig">HOCON over the live settings (tests add serialize-messages = on).</param>
    /// <param name="interrupt">Cancelled when the user interrupts: the run is stopped and an <see cref="OperationCanceledException"/> thrown.</param>
    public static RunResult Run(Workload workload, EngineSettings settings, ulong seed, TimeSpan timeout, string? extraConfig = null,
        CancellationToken interrupt = default)
    {
        using var system = ActorSystem.Create("faultsim", SystemConfig(settings, extraConfig));
        try
        {
            return Run(system, workload, settings, seed, timeout, interrupt: interrupt);
        }
        finally
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>
    /// Runs <paramref name="workload"/> in an existing actor system (benchmarks reuse one). The machine actor and its
    /// children stay alive until <paramref name="keepAlive"/> is disposed, so their memory can be measured.
    /// </summary>
    public static RunResult Run(ActorSystem system, Workload workload, EngineSettings settings, ulong seed, TimeSpan timeout,
        bool captureMemory = true, Action<IActorRef>? keepAlive = null, CancellationToken interrupt = default)
    {
        settings = Prepare(workload, settings, seed, captureMemory);
        var machine = system.ActorOf(MachineActor.Props(workload, settings, seed), $"machine-{Interlocked.Increment(ref _runs)}");
        try
        {
            var reply = machine.Ask<object>(StartRun.Instance, timeout, interrupt).GetAwaiter().GetResult();
            if (keepAlive is not null)
            {
                machine.Ask<ActorIdentity>(new Identify(null), timeout).Wait(); // the machine has left the handler that answered
                keepAlive(machine);
            }
            return reply switch
            {
                RunFinished finished => finished.Result,
                RunFailed failed => throw new WorkloadException(failed.Line, failed.Message),
                RunCrashed crashed => throw new SimulationException(crashed.Message),
                RunLost lost => throw new NodeLostException(lost.Message),
                _ => throw new InvalidOperationException($"the machine answered {reply}"),
            };
        }
        finally
        {
            machine.GracefulStop(TimeSpan.FromSeconds(30)).Wait(); // the run's actors are gone when Run returns
        }
    }

    private static long _runs;

    /// <summary>
    /// The settings a live run's actors get: the future OPT needs, whether memory is captured, the run's tracing and wait
    /// bound. Every node of a cluster run prepares its parts' settings so, from the same run.
    /// </summary>
    public static EngineSettings Prepare(Workload workload, EngineSettings settings, ulong seed, bool captureMemory = true)
    {
        WorkloadValidator.Validate(workload);
        settings = WithFuture(workload, settings, seed) with { CaptureMemory = captureMemory };
        return settings with { Run = settings.Run with { Tracing = settings.Run.Tracing.ForRun(seed, SimTime.WallNanos), WaitBound = settings.WaitBound } };
    }

    /// <summary>OPT replacement needs the future: a recording run of the reference machine supplies the page references.</summary>
    internal static EngineSettings WithFuture(Workload workload, EngineSettings settings, ulong seed) =>
        ReplacementPolicies.NeedsFuture(workload.Machine) && settings.OptReferences.IsEmpty
            ? settings with { OptReferences = [.. ReferenceMachine.RecordReferences(workload, seed)] }
            : settings;
}

/// <summary>The simulation itself failed (an actor threw): the run is void. The message says what happened.</summary>
public sealed class SimulationException(string message) : Exception(message);

/// <summary>A cluster run lost a node it could not go on without: the message names the node, its parts and the loads then in flight.</summary>
public sealed class NodeLostException(string message) : Exception(message);

using Akka.Actor;
using Akka.Configuration;
using Faultsim.Actors.Serialization;
using Faultsim.Model.Machine;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.Machine;

/// <summary>Runs a workload on the actor engine: an actor system, the machine actor, the result. The one Ask is here, at the edge.</summary>
public static class ActorEngine
{
    /// <summary>The actor system's settings for live runs: quiet logs, and the dispatcher's throughput.</summary>
    public const string LiveConfig = """
        akka {
          loglevel = WARNING
          stdout-loglevel = WARNING
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          actor.default-dispatcher.throughput = 64
        }
        """;

    /// <param name="extraConfig">HOCON over <see cref="LiveConfig"/> (tests add serialize-messages = on).</param>
    public static RunResult Run(Workload workload, EngineSettings settings, ulong seed, TimeSpan timeout, string? extraConfig = null)
    {
        WorkloadValidator.Validate(workload);
        RefuseWhatIsNotBuiltYet(workload);
        var config = ConfigurationFactory.ParseString(extraConfig ?? "")
            .WithFallback(ConfigurationFactory.ParseString(LiveConfig))
            .WithFallback(ConfigurationFactory.ParseString(MessageSerializer.Config));
        using var system = ActorSystem.Create("faultsim", config);
        try
        {
            var machine = system.ActorOf(MachineActor.Props(workload, settings, seed), "machine");
            var reply = machine.Ask<object>(StartRun.Instance, timeout).GetAwaiter().GetResult();
            return reply switch
            {
                RunFinished finished => finished.Result,
                RunFailed failed => throw new WorkloadException(failed.Line, failed.Message),
                _ => throw new InvalidOperationException($"the machine answered {reply}"),
            };
        }
        finally
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>A frame limit (eviction) and MADV_PAGEOUT need the eviction protocol, which the actor engine does not have yet.</summary>
    private static void RefuseWhatIsNotBuiltYet(Workload workload)
    {
        if (workload.Machine.Frames > 0)
            throw new WorkloadException(null, "the actor engine does not evict pages yet: run with machine.frames = 0, or with --engine reference");
        if (workload.Scripts.SelectMany(s => s.Ops).OfType<Op.Advise>().FirstOrDefault(a => a.Advice == Advice.PageOut) is { } pageout)
            throw new WorkloadException(pageout.Line, "the actor engine does not evict pages yet: madvise pageout runs only with --engine reference");
    }
}

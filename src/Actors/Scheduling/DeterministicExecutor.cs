using Akka.Configuration;
using Akka.Dispatch;

namespace Faultsim.Actors.Scheduling;

/// <summary>
/// The executor a deterministic dispatcher names in its HOCON (executor = "…Configurator, Faultsim.Actors"):
/// it runs nothing itself, it hands every mailbox run to the <see cref="SimulationDriver"/> of its actor system.
/// </summary>
public sealed class DeterministicExecutorConfigurator(Config config, IDispatcherPrerequisites prerequisites)
    : ExecutorServiceConfigurator(config, prerequisites)
{
    public override ExecutorService Produce(string id) =>
        new DeterministicExecutor(id, SimulationDriver.Of(Prerequisites.Settings.System));
}

/// <summary>Queues each mailbox run with the driver, which decides when it runs.</summary>
public sealed class DeterministicExecutor(string id, SimulationDriver driver) : ExecutorService(id)
{
    public override void Execute(IRunnable run) => driver.Submit(run);

    /// <summary>Akka may shut an executor down and produce another: the driver lives with the actor system, so nothing to do.</summary>
    public override void Shutdown()
    {
    }
}

using Akka.Actor;
using Akka.Event;

namespace Faultsim.Host.Cluster;

/// <summary>
/// Akka's log of a cluster member, on standard error: standard output is the command's own (a node's state, a run's
/// summary, or its JSON with --json -), which Akka's default logger would interleave warnings into.
/// </summary>
public sealed class StandardErrorLogger : ReceiveActor
{
    /// <summary>The logger's type, as akka.loggers names it.</summary>
    public static readonly string TypeName = $"{typeof(StandardErrorLogger).FullName}, {typeof(StandardErrorLogger).Assembly.GetName().Name}";

    public StandardErrorLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine(e.ToString()));
    }
}

using Faultsim.Host.Running;

namespace Faultsim.Host.Cli;

/// <summary>faultsim's exit codes; scripts rely on them.</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Ok = 0;
    /// <summary>A run found an invariant violation.</summary>
    public const int Violation = 1;
    /// <summary>Bad input: command line, config or workload. One line on stderr says where and how to fix it.</summary>
    public const int BadInput = 2;
    /// <summary>
    /// Stopped at a limit before the run finished (a step limit: faultsim.max-steps, faultsim.explore.max-steps). Not an
    /// invariant violation: the run held every invariant as far as it went. The message names the limit and the key that raises it.
    /// </summary>
    public const int StoppedAtLimit = 3;
    /// <summary>
    /// A fault of faultsim itself: a simulation actor threw, got a message no state of it takes (a protocol error), or
    /// waited past faultsim.actors.wait-bound in a live run. One line on stderr says which actor, state and message.
    /// </summary>
    public const int InternalError = 70;
    /// <summary>
    /// A cluster could not be reached or lost this node: no seed node let it in within faultsim.cluster.join-timeout, no
    /// node of the role a run needs is up, the cluster downed the node, or a cluster run lost a node it could not go on
    /// without (README "Node loss"). One line on stderr says which (sysexits' EX_UNAVAILABLE).
    /// </summary>
    public const int Unavailable = 69;
    /// <summary>
    /// The user interrupted the command (Ctrl-C, SIGINT): it stopped at once, printed what it had done (marked partial),
    /// wrote its outputs whole with "partial": true, and exits 128 + SIGINT, as a shell reports a process Ctrl-C ended.
    /// </summary>
    public const int Interrupted = 130;

    /// <summary>
    /// A run's exit code: 70 for a crash, 1 for a violation (or a run that stopped making progress), 130 for an
    /// interruption, 3 for a limit reached first, else 0.
    /// </summary>
    public static int Of(RunReport report) =>
        report.Crash is not null ? InternalError : report.Failed ? Violation : report.Interrupted ? Interrupted
        : report.StoppedAt is not null ? StoppedAtLimit : Ok;

    /// <summary>A run's exit code, after the one line on stderr a crash gets (as a live run's crash does).</summary>
    public static int Of(RunReport report, TextWriter error)
    {
        if (report.Crash is { } crash)
            error.WriteLine($"faultsim: {crash}");
        return Of(report);
    }
}

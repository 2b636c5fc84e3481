using System.Globalization;

namespace Faultsim.Actors;

/// <summary>
/// A protocol broken at run time: a message that no handler of the receiving actor's state takes, or a waiting state
/// that waited past the run's bound. Either fails the run (the machine reports it as a crash of the simulation); a
/// page loader's router does not restart a loader that threw one.
/// </summary>
public sealed class ProtocolException(string message) : Exception(message)
{
    public static ProtocolException Unexpected(string actor, string state, object message) =>
        new($"protocol error: {actor} in state {state} got an unexpected {message.GetType().Name}: {message}");

    private const string StuckPrefix = "protocol stuck: ";

    public static ProtocolException Stuck(string actor, string state, string awaiting, object? pending, TimeSpan bound) =>
        new($"{StuckPrefix}{actor} waited more than {Describe(bound)} in state {state} for {awaiting}"
            + (pending is null ? "" : $", pending {pending}") + " (faultsim.actors.wait-bound)");

    /// <summary>Whether <paramref name="message"/> (a failure's, as it crossed nodes) is a wait that ran past its bound (<see cref="Stuck"/>).</summary>
    public static bool IsStuck(string message) => message.StartsWith(StuckPrefix, StringComparison.Ordinal);

    private static string Describe(TimeSpan bound) => bound.TotalSeconds >= 1
        ? bound.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s"
        : bound.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + " ms";
}

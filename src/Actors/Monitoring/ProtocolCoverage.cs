using System.Runtime.CompilerServices;

namespace Faultsim.Actors.Monitoring;

/// <summary>
/// The protocol space one run touched: every (actor, state, message) its actors handled — the kind of actor, the state it
/// was in and the type of the message. Explore unions them over its seeds to show how much of the protocols its search
/// reached. Written only by the actors of one deterministic run, on the driver's thread.
/// </summary>
/// <remarks>
/// Noted on every message, so the set compares by identity: the types, and the state's name as the actor gave it (a
/// constant, one string wherever it is used). <see cref="Handled"/> gives each pair once by its value, so a name that was
/// built twice still counts once.
/// </remarks>
public sealed class ProtocolCoverage
{
    private readonly HashSet<(Type Actor, string State, Type Message)> _handled = new(IdentityComparer);

    /// <summary>Compares pairs by identity, as this set does: a pair of equal names built twice is two pairs to it.</summary>
    public static IEqualityComparer<(Type Actor, string State, Type Message)> IdentityComparer => ByIdentity.Instance;

    /// <summary>Every (actor, state, message) handled since the last <see cref="Clear"/>, each once.</summary>
    public IReadOnlyCollection<(Type Actor, string State, Type Message)> Handled => _handled.ToHashSet();

    /// <summary>The same by identity (<see cref="IdentityComparer"/>): what a caller that folds many runs takes in, without hashing names.</summary>
    public IReadOnlyCollection<(Type Actor, string State, Type Message)> HandledByIdentity => _handled;

    public void Handle(Type actor, string state, Type message) => _handled.Add((actor, state, message));

    /// <summary>Forgets what was handled: the next run starts from nothing (explore keeps one per thread).</summary>
    public void Clear() => _handled.Clear();

    private sealed class ByIdentity : IEqualityComparer<(Type Actor, string State, Type Message)>
    {
        public static readonly ByIdentity Instance = new();

        public bool Equals((Type Actor, string State, Type Message) x, (Type Actor, string State, Type Message) y) =>
            ReferenceEquals(x.Actor, y.Actor) && ReferenceEquals(x.State, y.State) && ReferenceEquals(x.Message, y.Message);

        public int GetHashCode((Type Actor, string State, Type Message) pair) =>
            HashCode.Combine(RuntimeHelpers.GetHashCode(pair.Actor), RuntimeHelpers.GetHashCode(pair.State), RuntimeHelpers.GetHashCode(pair.Message));
    }
}

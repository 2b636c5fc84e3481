namespace Faultsim.Actors.Monitoring;

/// <summary>
/// The protocol space one run touched: every (actor, state, message) its actors handled — the kind of actor, the state it
/// was in and the type of the message. Explore unions them over its seeds to show how much of the protocols its search
/// reached. Written only by the actors of one deterministic run, on the driver's thread.
/// </summary>
public sealed class ProtocolCoverage
{
    private readonly HashSet<(Type Actor, string State, Type Message)> _handled = [];

    public IReadOnlyCollection<(Type Actor, string State, Type Message)> Handled => _handled;

    public void Handle(Type actor, string state, Type message) => _handled.Add((actor, state, message));
}

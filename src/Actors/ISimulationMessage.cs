namespace Faultsim.Actors;

/// <summary>
/// Every protocol's marker interface extends this one, which binds the engine's serializer
/// (<see cref="Serialization.MessageSerializer"/>): whatever the actors say to each other can cross a network.
/// </summary>
public interface ISimulationMessage;

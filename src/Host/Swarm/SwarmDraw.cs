namespace Faultsim.Host.Swarm;

/// <summary>
/// One seed's draw: the scenario-file text of the whole run (knobs, files, processes, scripts), whether the draw is
/// race-free (and so held to the reference machine), and a one-line summary of what it drew.
/// </summary>
public sealed record SwarmDraw(ulong Seed, string Text, bool RaceFree, string Summary)
{
    /// <summary>Where the draw's text comes from, as config errors name it.</summary>
    public string Origin => OriginOf(Seed);

    public static string OriginOf(ulong seed) => $"swarm draw of seed {seed}";
}

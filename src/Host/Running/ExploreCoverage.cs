using Faultsim.Actors.Monitoring;
using Faultsim.Model.Checking;
using Faultsim.Model.Faults;

namespace Faultsim.Host.Running;

/// <summary>
/// How much of the protocol space explore's seeds touched: the distinct (actor, state, message) the actors handled and the
/// distinct (fault source, resolution) the faults met, each with the lowest seed that reached it — so that what the last
/// tenth of the seeds added says whether more seeds are worth running.
/// </summary>
public sealed class ExploreCoverage
{
    // By identity while seeds run (a seed adds its pairs without hashing a name); by value when counted.
    private readonly Dictionary<(Type Actor, string State, Type Message), long> _handledByIdentity = new(ProtocolCoverage.IdentityComparer);
    private readonly Dictionary<(FaultSource Source, ResolutionKind Kind), long> _resolutions = [];

    /// <summary>Takes in what the run of <paramref name="seed"/> touched.</summary>
    public void Add(long seed, ProtocolCoverage handled, IEnumerable<(FaultSource Source, ResolutionKind Kind)> resolutions)
    {
        foreach (var pair in handled.HandledByIdentity)
            Lowest(_handledByIdentity, pair, seed);
        foreach (var pair in resolutions)
            Lowest(_resolutions, pair, seed);
    }

    /// <summary>Takes in another thread's coverage.</summary>
    public void Add(ExploreCoverage other)
    {
        foreach (var (pair, seed) in other._handledByIdentity)
            Lowest(_handledByIdentity, pair, seed);
        foreach (var (pair, seed) in other._resolutions)
            Lowest(_resolutions, pair, seed);
    }

    private static void Lowest<T>(Dictionary<T, long> map, T key, long seed) where T : notnull
    {
        if (!map.TryGetValue(key, out var first) || seed < first)
            map[key] = seed;
    }

    public int Handled => HandledByValue().Count;

    public int Resolutions => _resolutions.Count;

    /// <summary>The (actor, state, message) first reached by a seed above <paramref name="seed"/>.</summary>
    public int HandledAbove(long seed) => HandledByValue().Values.Count(s => s > seed);

    /// <summary>Each (actor, state, message) once by its value, with the lowest seed that reached it.</summary>
    private Dictionary<(Type Actor, string State, Type Message), long> HandledByValue()
    {
        var byValue = new Dictionary<(Type Actor, string State, Type Message), long>();
        foreach (var (pair, seed) in _handledByIdentity)
            Lowest(byValue, pair, seed);
        return byValue;
    }

    /// <summary>The (fault source, resolution) first reached by a seed above <paramref name="seed"/>.</summary>
    public int ResolutionsAbove(long seed) => _resolutions.Values.Count(s => s > seed);

    /// <summary>The line explore prints: the totals and what the last tenth of the <paramref name="seeds"/> added.</summary>
    public string Summary(long seeds)
    {
        var from = seeds - seeds / 10;
        return $"coverage: {Handled:N0} (actor, state, message) handled, {Resolutions:N0} (fault source, resolution) met; " +
            $"the last 10 % of the seeds ({from + 1:N0}–{seeds:N0}) added {HandledAbove(from):N0} and {ResolutionsAbove(from):N0}";
    }

    /// <summary>Every (fault source, resolution) met, as "user write: demand-zero", in order.</summary>
    public IEnumerable<string> ResolutionNames =>
        _resolutions.Keys.Select(k => $"{k.Source}: {Faultsim.Host.Output.Names.Of(k.Kind)}").Order(StringComparer.Ordinal);
}

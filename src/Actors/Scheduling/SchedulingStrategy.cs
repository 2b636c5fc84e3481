using Faultsim.Model.Common;

namespace Faultsim.Actors.Scheduling;

/// <summary>How the driver chooses which ready mailbox runs next.</summary>
public enum StrategyKind
{
    /// <summary>A ready mailbox drawn at random from the seed, each step.</summary>
    Random,
    /// <summary>PCT: random priorities per mailbox, the highest ready one runs, and at a few random steps the running one drops to the lowest.</summary>
    Pct,
}

/// <summary>Chooses the next mailbox to run among the ready ones (identified by a number in order of first appearance).</summary>
public abstract class SchedulingStrategy
{
    /// <summary>The index into <paramref name="ready"/> of the mailbox to run at step <paramref name="step"/>.</summary>
    public abstract int Pick(IReadOnlyList<int> ready, long step);

    /// <summary>The same strategy as it was made, before its first pick: it picks again what this one picked.</summary>
    public abstract SchedulingStrategy Restart();

    public static SchedulingStrategy Create(StrategyKind kind, ulong seed, int pctDepth, long pctSteps) => kind switch
    {
        StrategyKind.Pct => new PctStrategy(new SimRandom(seed), pctDepth, pctSteps),
        _ => new RandomWalkStrategy(new SimRandom(seed)),
    };
}

/// <summary>A random walk: every ready mailbox is as likely to run next.</summary>
public sealed class RandomWalkStrategy(SimRandom random) : SchedulingStrategy
{
    private readonly SimRandom _start = random.Copy();

    public override int Pick(IReadOnlyList<int> ready, long step) => random.Next(ready.Count);

    public override SchedulingStrategy Restart() => new RandomWalkStrategy(_start.Copy());
}

/// <summary>
/// Probabilistic concurrency testing (Burckhardt et al.): each mailbox gets a random priority when it
/// first appears and the highest-priority ready one runs; at <c>depth − 1</c> change points drawn from
/// the first <c>steps</c> steps, the mailbox that runs is demoted below all others. A bug of depth d is
/// found with probability at least 1 / (n · k^(d−1)).
/// </summary>
public sealed class PctStrategy : SchedulingStrategy
{
    private readonly SimRandom _random, _start;
    private readonly int _depth;
    private readonly long _steps;
    private readonly Dictionary<int, double> _priority = [];
    private readonly HashSet<long> _changePoints = [];
    private double _lowest;

    public PctStrategy(SimRandom random, int depth, long steps)
    {
        (_random, _start, _depth, _steps) = (random, random.Copy(), depth, steps);
        for (var i = 1; i < depth; i++)
            _changePoints.Add(1 + (long)(random.NextDouble() * Math.Max(1, steps)));
    }

    public override int Pick(IReadOnlyList<int> ready, long step)
    {
        var (best, highest) = (0, Priority(ready[0]));
        for (var i = 1; i < ready.Count; i++)
        {
            if (Priority(ready[i]) is var priority && priority > highest)
                (best, highest) = (i, priority);
        }
        if (_changePoints.Contains(step))
            _priority[ready[best]] = --_lowest; // demoted below every priority handed out
        return best;
    }

    public override SchedulingStrategy Restart() => new PctStrategy(_start.Copy(), _depth, _steps);

    private double Priority(int mailbox)
    {
        if (!_priority.TryGetValue(mailbox, out var priority))
            _priority[mailbox] = priority = 1 + _random.NextDouble();
        return priority;
    }
}

using Faultsim.Actors.Scheduling;
using Faultsim.Model.Common;
using Faultsim.Model.Shootdowns;
using Faultsim.Tests.Model;

namespace Faultsim.Tests.Actors;

/// <summary>The actor engine counts shootdowns and IPIs in each mode exactly as the reference machine does (the model's rule).</summary>
public sealed class ShootdownAgreementTests : IDisposable
{
    private readonly DeterministicEngine _engine = new();

    public void Dispose() => _engine.Dispose();

    public static TheoryData<string, string, int, int, int> ModeCases => ShootdownTests.ModeCases;

    [Theory]
    [MemberData(nameof(ModeCases))]
    public void Each_shootdown_mode_counts_on_the_actors_what_it_counts_on_the_reference(string cpu0, string cpu1, int eager, int batched, int lazy)
    {
        foreach (var (mode, expected) in new[] { (ShootdownMode.Eager, eager), (ShootdownMode.Batched, batched), (ShootdownMode.Lazy, lazy) })
        {
            for (ulong seed = 1; seed <= 3; seed++)
            {
                var run = _engine.Run(ShootdownTests.Workload(mode, 2, cpu0, cpu1), ActorEngineTests.Settings, seed, new RandomWalkStrategy(new SimRandom(seed)));
                Assert.True(run.Violation is null, $"{mode} seed {seed}: {run.Violation}");
                var p = run.Result!.Of("p").Counters;
                Assert.True((expected, expected) == (p.Shootdowns, p.Ipis), $"{mode} seed {seed}: {p.Shootdowns} shootdowns, {p.Ipis} IPIs; expected {expected} of each");
            }
        }
    }
}

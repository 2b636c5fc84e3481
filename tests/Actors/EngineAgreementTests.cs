using Faultsim.Actors.Scheduling;
using Faultsim.Model.Common;
using Faultsim.Model.Machine;
using Faultsim.Model.Replacement;
using Faultsim.Model.Shootdowns;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;
using Faultsim.Model.Workloads.Generators;
using Faultsim.Tests.Model;
using Faultsim.Tests.Scenarios;

namespace Faultsim.Tests.Actors;

/// <summary>
/// The two engines held against each other on generated race-free workloads, figure by figure (the model's one run
/// comparison): in every shootdown mode, and under frame limits down to one frame.
/// </summary>
public sealed class EngineAgreementTests : IDisposable
{
    private readonly DeterministicEngine _engine = new();

    public void Dispose() => _engine.Dispose();

    private RunResult Actors(Workload workload, ulong seed)
    {
        var run = _engine.Run(workload, ActorEngineTests.Settings, seed, new RandomWalkStrategy(new SimRandom(seed)));
        Assert.True(run.Violation is null, $"seed {seed}: {run.Violation}");
        return run.Result ?? throw new Xunit.Sdk.XunitException($"seed {seed}: the run did not finish ({run.Outcome}, {run.Reply})");
    }

    private static Workload With(Workload workload, Func<MachineSpec, MachineSpec> change) => workload with { Machine = change(workload.Machine) };

    [Theory]
    [InlineData(ShootdownMode.Eager)]
    [InlineData(ShootdownMode.Batched)]
    [InlineData(ShootdownMode.Lazy)]
    public void In_every_shootdown_mode_both_engines_give_every_figure_alike(ShootdownMode mode)
    {
        for (var cpus = 1; cpus <= 4; cpus++)
        {
            for (ulong seed = 1; seed <= 6; seed++)
            {
                var workload = With(RaceFreeWorkloads.Generate(seed * 7 + (ulong)cpus, cpus), m => m with { Shootdown = mode });
                ActorEngineTests.AssertSameCounts(workload.Run(seed), Actors(workload, seed), $"{mode}, {cpus} CPUs, seed {seed}");
            }
        }
    }

    public static TheoryData<GeneratorKind, int> EveryGenerator()
    {
        var data = new TheoryData<GeneratorKind, int>();
        foreach (var kind in Enum.GetValues<GeneratorKind>())
        {
            data.Add(kind, 0);
            data.Add(kind, 6);
        }
        return data;
    }

    private static readonly GeneratorSpec Small = GeneratedStreamTests.MixOfAll with { Accesses = 40, Pages = 10, Rounds = 4, Processes = 3, MapPages = 2, Stride = 3 };

    private void AssertAlike(GeneratorSpec spec, int cpus, int frames)
    {
        for (ulong seed = 1; seed <= 2; seed++)
        {
            var workload = WorkloadGenerator.Generate(spec, new MachineSpec { Cpus = cpus, Frames = frames }, seed, 1);
            ActorEngineTests.AssertSameCounts(workload.Run(seed), Actors(workload, seed), $"{spec.Kind.Name()}, {cpus} CPUs, {frames} frames, seed {seed}");
        }
    }

    /// <summary>
    /// Every generator at a small size (a mix: of every kind) on one CPU, with and without a frame limit: race-free, so
    /// every figure is the reference machine's. On several CPUs the kinds that share pages race by design (a herd's
    /// followers, two threads' first touches of a page, the order of evictions) and only the invariants hold.
    /// </summary>
    [Theory]
    [MemberData(nameof(EveryGenerator))]
    public void Both_engines_give_every_figure_of_every_generator_on_one_cpu_alike(GeneratorKind kind, int frames) =>
        AssertAlike(Small with { Kind = kind }, cpus: 1, frames);

    /// <summary>
    /// The generators whose CPUs share no page — the churn, the stack, the COW storm, and a mix of the two whose processes
    /// are each CPU's own — give every figure alike on three CPUs too. (A mix with the churn does not: which CPUs a munmap
    /// interrupts depends on which have switched to the churn's process so far.)
    /// </summary>
    [Theory]
    [InlineData(GeneratorKind.Churn)]
    [InlineData(GeneratorKind.Stack)]
    [InlineData(GeneratorKind.CowStorm)]
    [InlineData(GeneratorKind.Mix)]
    public void Both_engines_give_every_figure_of_a_generator_whose_cpus_share_no_page_alike_on_three_cpus(GeneratorKind kind) =>
        AssertAlike(Small with { Kind = kind, Mix = [(GeneratorKind.Stack, 2), (GeneratorKind.CowStorm, 1)] }, cpus: 3, frames: 0);

    [Theory]
    [InlineData(VmaFlags.Read, "load etc\nforce-write etc = 0x42\nforce-write etc+8\nmadvise etc dontneed\nforce-write etc\nload etc\nstore etc")]
    [InlineData(VmaFlags.Read, "force-write etc = 0x42\nload etc+8\nfork child\nforce-write etc+16")]
    [InlineData(VmaFlags.Read | VmaFlags.Shared, "load etc\nforce-write etc = 0x42\nload etc")]
    [InlineData(VmaFlags.Read, "load etc\nmprotect etc none\nforce-write etc = 0x42\nforce-write etc+8\nmprotect etc r\nload etc")]
    [InlineData(VmaFlags.Read | VmaFlags.Write, "sys-read etc\nmprotect etc none\nforce-write etc = 0x42\nmprotect etc rw\nstore etc+8")]
    [InlineData(VmaFlags.Read | VmaFlags.Write, "load etc\nforce-write etc = 0x42\nstore etc+8\nforce-write 0x30000000")]
    public void Both_engines_give_every_figure_of_a_forced_write_alike(VmaFlags flags, string script)
    {
        foreach (var frames in new[] { 0, 1 })
        {
            var workload = With(ForcedWriteTests.Mapping(flags, script), m => m with { Frames = frames });
            ActorEngineTests.AssertSameCounts(workload.Run(1), Actors(workload, 1), $"{flags}, {frames} frames");
        }
    }

    [Theory]
    [InlineData(ReplacementPolicyKind.Fifo)]
    [InlineData(ReplacementPolicyKind.Lru)]
    [InlineData(ReplacementPolicyKind.Clock)]
    [InlineData(ReplacementPolicyKind.Opt)]
    public void On_one_cpu_under_any_frame_limit_both_engines_give_every_figure_alike(ReplacementPolicyKind policy)
    {
        foreach (var frames in new[] { 1, 2, 3, 5 })
        {
            foreach (var mode in Enum.GetValues<ShootdownMode>())
            {
                for (ulong seed = 1; seed <= 3; seed++)
                {
                    var workload = With(RaceFreeWorkloads.Generate(seed * 13 + (ulong)frames, 1), m => m with { Frames = frames, Policy = policy, Shootdown = mode });
                    ActorEngineTests.AssertSameCounts(workload.Run(seed), Actors(workload, seed), $"{frames} frames, {mode}, seed {seed}");
                }
            }
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void On_several_cpus_under_a_frame_limit_the_run_ends_as_on_the_reference_machine(int cpus)
    {
        // Which pages are evicted, and so how many faults there are, depends on the interleaving; how the processes end and
        // what memory holds does not, as long as the limit leaves every fault the frames it needs.
        foreach (var frames in new[] { 2 * cpus, 3 * cpus })
        {
            foreach (var mode in Enum.GetValues<ShootdownMode>())
            {
                for (ulong seed = 1; seed <= 3; seed++)
                {
                    var workload = With(RaceFreeWorkloads.Generate(seed * 17 + (ulong)frames, cpus), m => m with { Frames = frames, Shootdown = mode });
                    var (reference, actors) = (workload.Run(seed), Actors(workload, seed));
                    var context = $"{frames} frames, {mode}, seed {seed}";
                    Assert.Equal(reference.Processes.Select(p => (p.Name, p.Fate)), actors.Processes.Select(p => (p.Name, p.Fate)));
                    Assert.True(reference.Memory!.FirstDifference(actors.Memory!) is null, $"{context}: {reference.Memory.FirstDifference(actors.Memory!)}");
                }
            }
        }
    }
}

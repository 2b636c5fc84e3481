using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Common;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Workloads.Generators;

/// <summary>
/// A mix of any kinds (<see cref="GeneratorKind.Mix"/> with a weight on a kind that is not an access pattern; a mix of
/// access patterns alone is one stream of accesses, <see cref="AccessPattern"/>). Each CPU makes
/// <see cref="GeneratorSpec.Accesses"/> draws, each one unit of a kind chosen by weight, in that kind's own process (the
/// CPU switches when the kind changes):
/// <list type="bullet">
/// <item>an access pattern: one access to region data of process gen, each pattern keeping its own place;</item>
/// <item>the stack: one access of the CPU's own process stackN, whose stack grows as the stack kind's does;</item>
/// <item>the file reads: one load of the CPU's scan of file data through process reader (warm: warmer reads it first);</item>
/// <item>the churn: one round of process churn (mmap, write, munmap at the CPU's own address);</item>
/// <item>the herd: one round of process herd (a barrier, then every CPU touches the round's page of file herd);</item>
/// <item>the COW storm: one fork round — the CPU's own parent cowN (which wrote every page of its data first) forks a
/// child cowN-K, which writes every page on this CPU and exits — at most <see cref="GeneratorSpec.Processes"/> per CPU,
/// after which the CPU draws from the other kinds.</item>
/// </list>
/// Whether a draw is a herd round is drawn from a source every CPU shares (the run's seed), so every CPU meets every
/// round at its barrier; every other choice and every page from the CPU's own source. Each CPU's operations are a stream
/// (<see cref="GeneratedOps"/>): the memory of its cursors and random sources, whatever the count.
/// </summary>
internal static class MixedWorkload
{
    /// <summary>The file a herd of a mix reads (the file reads have file data).</summary>
    public const string HerdFile = "herd";

    /// <summary>The seed of the source every CPU shares, under the run's <paramref name="seed"/>.</summary>
    public static ulong SharedSeedOf(ulong seed) => seed ^ 0xD1B54A32D192ED03UL;

    public static (ImmutableArray<FileSpec>, ImmutableArray<ProcessSpec>, IEnumerable<CpuScript>) Generate(WorkloadGenerator.Context c)
    {
        var spec = c.Spec;
        var weights = spec.Mix.Where(m => m.Weight > 0).ToImmutableDictionary(m => m.Kind, m => m.Weight);
        bool Has(GeneratorKind kind) => weights.ContainsKey(kind);
        var bytes = WorkloadGenerator.Bytes(spec.Pages);
        var data = new RegionSpec(WorkloadGenerator.Region, WorkloadGenerator.RegionStart, bytes, WorkloadGenerator.ReadWrite, null, 0);
        var fileData = new RegionSpec(WorkloadGenerator.Region, WorkloadGenerator.RegionStart, bytes, VmaFlags.Read, WorkloadGenerator.File, 0);
        var herdData = spec.FileBacked
            ? new RegionSpec(WorkloadGenerator.Region, WorkloadGenerator.RegionStart, WorkloadGenerator.Bytes(spec.Rounds), VmaFlags.Read, HerdFile, 0)
            : data with { Length = WorkloadGenerator.Bytes(spec.Rounds) };
        var stack = new RegionSpec("stack", WorkloadGenerator.StackTop - VirtualAddress.PageSize, VirtualAddress.PageSize,
            WorkloadGenerator.ReadWrite | VmaFlags.GrowsDown, null, 0);
        var cpus = Enumerable.Range(0, c.Cpus);

        var files = ImmutableArray.CreateBuilder<FileSpec>();
        var processes = ImmutableArray.CreateBuilder<ProcessSpec>();
        if (weights.Keys.Any(GeneratorKinds.IsPattern))
            processes.Add(new ProcessSpec("gen", [data], null));
        if (Has(GeneratorKind.Herd))
        {
            processes.Add(new ProcessSpec("herd", [herdData], null));
            if (spec.FileBacked)
                files.Add(new FileSpec(HerdFile, WorkloadGenerator.Bytes(spec.Rounds)));
        }
        if (Has(GeneratorKind.CowStorm))
            processes.AddRange(cpus.Select(cpu => new ProcessSpec(Parent(cpu), [data], null)));
        if (Has(GeneratorKind.Churn))
            processes.Add(new ProcessSpec("churn", [], null));
        if (Has(GeneratorKind.Stack))
            processes.AddRange(cpus.Select(cpu => new ProcessSpec($"stack{cpu}", [stack], null)));
        if (Has(GeneratorKind.FileRead))
        {
            files.Add(new FileSpec(WorkloadGenerator.File, bytes));
            processes.Add(new ProcessSpec("reader", [fileData], null));
            if (spec.WarmCache)
                processes.Add(new ProcessSpec("warmer", [fileData], null));
        }
        return (files.ToImmutable(), processes.ToImmutable(), cpus.Select(cpu =>
            WorkloadGenerator.Streamed(c, cpu, "mix", Size(c, weights), Repertoire(c, weights, cpu), () => new CpuMix(c, weights, cpu).Ops())));
    }

    private static string Parent(int cpu) => $"cow{cpu}";

    private static string Child(int cpu, int k) => $"cow{cpu}-{k}";

    /// <summary>What a CPU's stream may yield: its prologue's, then each kind's process and operations, then every fork round.</summary>
    private static ImmutableArray<Op> Repertoire(WorkloadGenerator.Context c, ImmutableDictionary<GeneratorKind, double> weights, int cpu)
    {
        var mix = new CpuMix(c, weights, cpu);
        var ops = new List<Op>(mix.Prologue());
        if (weights.Keys.Any(GeneratorKinds.IsPattern))
            ops.Add(new Op.Run(c.Line, "gen"));
        if (weights.ContainsKey(GeneratorKind.Herd))
            ops.AddRange([new Op.Run(c.Line, "herd"), mix.HerdBarrier, WorkloadGenerator.Touch(c.Line, mix.HerdKind, 0, (ulong)c.Spec.Rounds - 1)]);
        if (weights.ContainsKey(GeneratorKind.Churn))
            ops.AddRange([new Op.Run(c.Line, "churn"), .. WorkloadGenerator.ChurnRound(c.Line, c.Spec, cpu)]);
        if (weights.ContainsKey(GeneratorKind.Stack))
            ops.Add(new Op.Run(c.Line, $"stack{cpu}"));
        if (weights.ContainsKey(GeneratorKind.FileRead))
            ops.Add(new Op.Run(c.Line, "reader"));
        if (weights.ContainsKey(GeneratorKind.CowStorm))
        {
            for (var k = 1; k <= c.Spec.Processes; k++)
                ops.AddRange(mix.ForkRound(k));
        }
        return [.. ops];
    }

    /// <summary>The most a CPU's stream counts: its prologue, and every draw the largest unit of the kinds weighed.</summary>
    private static long Size(WorkloadGenerator.Context c, ImmutableDictionary<GeneratorKind, double> weights)
    {
        var spec = c.Spec;
        long Unit(GeneratorKind kind) => kind switch
        {
            GeneratorKind.Herd => 3,
            GeneratorKind.Churn => 3 + 2L * spec.MapPages,
            GeneratorKind.CowStorm => 4 + (long)spec.Pages,
            _ => 2,
        };
        return 3L * spec.Pages + 4 + spec.Accesses * weights.Keys.Max(Unit);
    }

    /// <summary>One pass of one CPU's mix: its cursors, random sources and counts.</summary>
    private sealed class CpuMix
    {
        private readonly WorkloadGenerator.Context _c;
        private readonly int _cpu;
        private readonly GeneratorKind[] _kinds;     // the kinds the CPU's own source chooses among (all but the herd)
        private readonly double[] _weights;
        private readonly double _herdWeight, _allWeight;
        private readonly Dictionary<string, Op.Run> _runs = [];

        public CpuMix(WorkloadGenerator.Context c, ImmutableDictionary<GeneratorKind, double> weights, int cpu)
        {
            (_c, _cpu) = (c, cpu);
            var own = c.Spec.Mix.Where(m => m.Weight > 0 && m.Kind != GeneratorKind.Herd).ToArray();
            (_kinds, _weights) = ([.. own.Select(m => m.Kind)], [.. own.Select(m => m.Weight)]);
            _herdWeight = weights.GetValueOrDefault(GeneratorKind.Herd);
            _allWeight = weights.Values.Sum();
            HerdBarrier = new Op.Barrier(c.Line, "herd");
            HerdKind = c.Spec.FileBacked ? AccessKind.Read : AccessKind.Write;
        }

        public Op.Barrier HerdBarrier { get; }

        public AccessKind HerdKind { get; }

        private int Line => _c.Line;

        private GeneratorSpec Spec => _c.Spec;

        private Op.Access WriteAll => WorkloadGenerator.Touch(Line, AccessKind.Write, 0, (ulong)Spec.Pages - 1);

        /// <summary>What comes before the draws: a COW parent fills its pages; a warm cache is read by CPU 0 while the rest wait.</summary>
        public IEnumerable<Op> Prologue()
        {
            if (Spec.Mix.Any(m => m.Kind == GeneratorKind.CowStorm && m.Weight > 0))
            {
                yield return Run(Parent(_cpu));
                yield return WriteAll;
            }
            if (Spec.WarmCache && Spec.Mix.Any(m => m.Kind == GeneratorKind.FileRead && m.Weight > 0))
            {
                if (_cpu == 0)
                {
                    yield return Run("warmer");
                    yield return WorkloadGenerator.Touch(Line, AccessKind.Read, 0, (ulong)Spec.Pages - 1);
                    yield return new Op.Exit(Line);
                }
                yield return new Op.Barrier(Line, "warm");
            }
        }

        /// <summary>Fork round <paramref name="k"/>: the parent forks child k, which writes every page and exits.</summary>
        public IEnumerable<Op> ForkRound(int k)
        {
            yield return Run(Parent(_cpu));
            yield return new Op.Fork(Line, Child(_cpu, k));
            yield return Run(Child(_cpu, k));
            yield return WriteAll;
            yield return new Op.Exit(Line);
        }

        public IEnumerable<Op> Ops()
        {
            var (own, shared) = (new SimRandom(GeneratedAccesses.SeedOf(_c.Seed, _cpu)), new SimRandom(SharedSeedOf(_c.Seed)));
            var start = (int)((long)_cpu * Spec.Pages / _c.Cpus);
            var patterns = _kinds.Select(k => GeneratorKinds.IsPattern(k) ? AccessPattern.Of(k, Spec, start) : null).ToArray();
            var fileScan = AccessPattern.Of(GeneratorKind.Sequential, Spec, start);
            var stack = WorkloadGenerator.StackSteps(Spec, _cpu, _c.Machine.WordsPerPage);
            var churn = WorkloadGenerator.ChurnRound(Line, Spec, _cpu);
            var weights = (double[])_weights.Clone();
            var total = weights.Sum();
            var (stackSteps, herdRounds, forks) = (0L, 0UL, 0);
            string? running = null;
            foreach (var op in Prologue())
            {
                if (op is Op.Run run)
                    running = run.Process;
                else if (op is Op.Exit)
                    running = null;
                yield return op;
            }
            for (var draw = 0L; draw < Spec.Accesses; draw++)
            {
                if (_herdWeight > 0 && shared.NextDouble() * _allWeight < _herdWeight)
                {
                    if (Switch(ref running, "herd") is { } toHerd)
                        yield return toHerd;
                    yield return HerdBarrier;
                    var page = herdRounds++ % (ulong)Spec.Rounds;
                    yield return WorkloadGenerator.Touch(Line, HerdKind, page, page);
                    continue;
                }
                if (total <= 0)
                    continue; // a herd and a COW storm whose forks are spent: only herd rounds are left
                var i = Choose(own.NextDouble() * total, weights);
                switch (_kinds[i])
                {
                    case var kind when GeneratorKinds.IsPattern(kind):
                        if (Switch(ref running, "gen") is { } toGen)
                            yield return toGen;
                        var page = patterns[i]!.NextPage(own);
                        var write = Spec.WriteFraction > 0 && own.NextDouble() < Spec.WriteFraction;
                        yield return At(Data(page), write ? AccessKind.Write : AccessKind.Read);
                        break;
                    case GeneratorKind.Stack:
                        if (Switch(ref running, $"stack{_cpu}") is { } toStack)
                            yield return toStack;
                        var access = stack(own, stackSteps++);
                        yield return At(access.Address, access.Kind);
                        break;
                    case GeneratorKind.FileRead:
                        if (Switch(ref running, "reader") is { } toReader)
                            yield return toReader;
                        yield return At(Data(fileScan.NextPage(own)), AccessKind.Read);
                        break;
                    case GeneratorKind.Churn:
                        if (Switch(ref running, "churn") is { } toChurn)
                            yield return toChurn;
                        foreach (var op in churn)
                            yield return op;
                        break;
                    case GeneratorKind.CowStorm:
                        if (Switch(ref running, Parent(_cpu)) is { } toParent)
                            yield return toParent;
                        foreach (var op in ForkRound(++forks).Skip(1))
                            yield return op;
                        running = null; // the child exited
                        if (forks == Spec.Processes)
                            (weights[i], total) = (0, total - weights[i]);
                        break;
                    default:
                        throw new InvalidOperationException($"a mix cannot draw {_kinds[i]}");
                }
            }
        }

        private static int Choose(double draw, double[] weights)
        {
            for (var i = 0; i < weights.Length; i++)
            {
                if (draw < weights[i])
                    return i;
                draw -= weights[i];
            }
            return Array.FindLastIndex(weights, w => w > 0);
        }

        private VirtualAddress Data(int page) => GeneratedAccesses.At(WorkloadGenerator.RegionStart, page, _cpu, _c.Machine.WordsPerPage);

        private Op.Access At(VirtualAddress address, AccessKind kind) =>
            new(Line, kind, new AccessTarget.At(AddressExpr.Absolute(address.Value)), AccessMode.User, null);

        /// <summary>The run that switches the CPU to <paramref name="process"/>, or null when it runs it already.</summary>
        private Op.Run? Switch(ref string? running, string process)
        {
            if (running == process)
                return null;
            running = process;
            return Run(process);
        }

        private Op.Run Run(string process)
        {
            if (!_runs.TryGetValue(process, out var run))
                _runs[process] = run = new Op.Run(Line, process);
            return run;
        }
    }
}

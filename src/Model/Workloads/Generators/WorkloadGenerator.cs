using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Common;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Workloads.Generators;

/// <summary>
/// The workload a <see cref="GeneratorSpec"/> describes, on a machine, from a seed: its files, processes and per-CPU
/// scripts, each a few operations whatever the workload's size. The accesses of the access patterns, the stack and the
/// file reads are streams of accesses (<see cref="GeneratedAccesses"/>) each CPU replays, made as they are read; the
/// rounds of the herd, the COW storm and the churn — barriers, system calls, page ranges — and a mix of any kinds are
/// streams of operations (<see cref="GeneratedOps"/>), made as the CPU reaches them. Both engines run the result as they
/// run any workload.
/// </summary>
public static class WorkloadGenerator
{
    public const string Region = "data";
    public const string File = "data";

    /// <summary>Where the region of every generated process starts.</summary>
    public static readonly VirtualAddress RegionStart = new(0x1000_0000);

    /// <summary>Where a churn's CPU c maps its regions: <see cref="ChurnStart"/> + c · <see cref="ChurnSlot"/>.</summary>
    public static readonly VirtualAddress ChurnStart = new(0x4000_0000);
    public const ulong ChurnSlot = 0x100_0000;

    /// <summary>The top of a generated stack (its one page lies below).</summary>
    public static readonly VirtualAddress StackTop = new(0x7fff_f000_0000);

    /// <param name="line">The config line the generator is set at: every generated operation carries it, for messages.</param>
    public static Workload Generate(GeneratorSpec spec, MachineSpec machine, ulong seed, int line)
    {
        var context = new Context(spec, machine, seed, line);
        var (files, processes, scripts) = spec.Kind switch
        {
            GeneratorKind.Herd => Herd(context),
            GeneratorKind.CowStorm => CowStorm(context),
            GeneratorKind.Churn => Churn(context),
            GeneratorKind.Stack => Stack(context),
            GeneratorKind.FileRead => FileRead(context),
            GeneratorKind.Mix when spec.Mix.Any(m => m.Weight > 0 && !GeneratorKinds.IsPattern(m.Kind)) => MixedWorkload.Generate(context),
            _ => Pattern(context),
        };
        return new Workload(machine, files, processes, [.. scripts.Where(s => !s.Ops.IsEmpty)]);
    }

    /// <summary>What every kind's generator is given: the spec, the machine, the seed and the config line.</summary>
    internal sealed record Context(GeneratorSpec Spec, MachineSpec Machine, ulong Seed, int Line)
    {
        public int Cpus => Machine.Cpus;
    }

    internal const VmaFlags ReadWrite = VmaFlags.Read | VmaFlags.Write;

    private static CpuScript Script(int cpu, IEnumerable<Op> ops) => new(new CpuId(cpu), [.. ops]);

    /// <summary>CPU <paramref name="cpu"/>'s script of one stream of operations, made on every pass by <paramref name="ops"/>.</summary>
    internal static CpuScript Streamed(Context c, int cpu, string what, long size, ImmutableArray<Op> repertoire, Func<IEnumerable<Op>> ops) =>
        new(new CpuId(cpu), [new Op.Stream(c.Line, new GeneratedOps($"generator {what} on cpu {cpu}", size, repertoire, ops))]);

    private static (ImmutableArray<FileSpec>, ImmutableArray<ProcessSpec>, IEnumerable<CpuScript>) Pattern(Context c) =>
        ([], [new ProcessSpec("gen", [new RegionSpec(Region, RegionStart, Bytes(c.Spec.Pages), ReadWrite, null, 0)], null)],
            Enumerable.Range(0, c.Cpus).Select(cpu => Script(cpu,
                [new Op.Run(c.Line, "gen"), new Op.Replay(c.Line, PatternStream(c.Spec, c.Spec.Kind, c.Seed, cpu, c.Cpus, c.Machine.WordsPerPage))])));

    private static (ImmutableArray<FileSpec>, ImmutableArray<ProcessSpec>, IEnumerable<CpuScript>) Herd(Context c)
    {
        var (spec, line) = (c.Spec, c.Line);
        var region = spec.FileBacked
            ? new RegionSpec(Region, RegionStart, Bytes(spec.Rounds), VmaFlags.Read, File, 0)
            : new RegionSpec(Region, RegionStart, Bytes(spec.Rounds), ReadWrite, null, 0);
        ImmutableArray<FileSpec> files = spec.FileBacked ? [new FileSpec(File, Bytes(spec.Rounds))] : [];
        var kind = spec.FileBacked ? AccessKind.Read : AccessKind.Write;
        var (run, barrier) = (new Op.Run(line, "herd"), new Op.Barrier(line, "herd"));
        IEnumerable<Op> Rounds()
        {
            yield return run;
            for (var r = 0UL; r < (ulong)spec.Rounds; r++)
            {
                yield return barrier;
                yield return Touch(line, kind, r, r);
            }
        }
        ImmutableArray<Op> repertoire = [run, barrier, Touch(line, kind, 0, (ulong)spec.Rounds - 1)];
        return (files, [new ProcessSpec("herd", [region], null)],
            Enumerable.Range(0, c.Cpus).Select(cpu => Streamed(c, cpu, "herd", 1 + 2L * spec.Rounds, repertoire, Rounds)));
    }

    private static (ImmutableArray<FileSpec>, ImmutableArray<ProcessSpec>, IEnumerable<CpuScript>) CowStorm(Context c)
    {
        var (spec, line, cpus) = (c.Spec, c.Line, c.Cpus);
        var (write, exit) = (Touch(line, AccessKind.Write, 0, (ulong)spec.Pages - 1), new Op.Exit(line));
        // CPU 0: the parent fills the region and forks every child; child k runs on CPU k mod cpus, writes every page and exits.
        IEnumerable<Op> Ops(int cpu)
        {
            if (cpu == 0)
            {
                yield return new Op.Run(line, "parent");
                yield return write;
                for (var child = 1; child <= spec.Processes; child++)
                    yield return new Op.Fork(line, $"child{child}");
            }
            for (var child = cpu == 0 ? cpus : cpu; child <= spec.Processes; child += cpus)
            {
                yield return new Op.Run(line, $"child{child}");
                yield return write;
                yield return exit;
            }
        }
        ImmutableArray<Op> Repertoire(int cpu) => [.. Ops(cpu)];  // a few per child: the forks name every pid
        long Size(int cpu) => Repertoire(cpu).Sum(op => op is Op.Access a ? a.Target.Count : 1);
        return ([], [new ProcessSpec("parent", [new RegionSpec(Region, RegionStart, Bytes(spec.Pages), ReadWrite, null, 0)], null)],
            Enumerable.Range(0, Math.Min(cpus, spec.Processes + 1)).Select(cpu => Streamed(c, cpu, "cow-storm", Size(cpu), Repertoire(cpu), () => Ops(cpu))));
    }

    private static (ImmutableArray<FileSpec>, ImmutableArray<ProcessSpec>, IEnumerable<CpuScript>) Churn(Context c)
    {
        var (spec, line) = (c.Spec, c.Line);
        IEnumerable<Op> Rounds(int cpu)
        {
            var round = ChurnRound(line, spec, cpu);  // the same operations every round
            yield return new Op.Run(line, "churn");
            for (var r = 0; r < spec.Rounds; r++)
            {
                foreach (var op in round)
                    yield return op;
            }
        }
        return ([], [new ProcessSpec("churn", [], null)], Enumerable.Range(0, c.Cpus).Select(cpu =>
            Streamed(c, cpu, "churn", 1 + spec.Rounds * (1 + 2L * spec.MapPages), [new Op.Run(line, "churn"), .. ChurnRound(line, spec, cpu)], () => Rounds(cpu))));
    }

    /// <summary>One round of CPU <paramref name="cpu"/>'s churn: mmap <see cref="GeneratorSpec.MapPages"/> anonymous pages at its own address, write them, munmap them.</summary>
    internal static ImmutableArray<Op> ChurnRound(int line, GeneratorSpec spec, int cpu)
    {
        var name = $"m{cpu}";
        var start = AddressExpr.Absolute((ChurnStart + (ulong)cpu * ChurnSlot).Value);
        return
        [
            new Op.Map(line, name, start, Bytes(spec.MapPages), ReadWrite, null, 0),
            new Op.Access(line, AccessKind.Write, new AccessTarget.Pages(name, 0, (ulong)spec.MapPages - 1), AccessMode.User, null),
            new Op.Unmap(line, new RangeExpr(new AddressExpr(name, 0), null)),
        ];
    }

    private static (ImmutableArray<FileSpec>, ImmutableArray<ProcessSpec>, IEnumerable<CpuScript>) Stack(Context c)
    {
        var stack = new RegionSpec("stack", StackTop - VirtualAddress.PageSize, VirtualAddress.PageSize, ReadWrite | VmaFlags.GrowsDown, null, 0);
        return ([], [.. Enumerable.Range(0, c.Cpus).Select(cpu => new ProcessSpec($"stack{cpu}", [stack], null))],
            Enumerable.Range(0, c.Cpus).Select(cpu => Script(cpu,
                [new Op.Run(c.Line, $"stack{cpu}"), new Op.Replay(c.Line, StackStream(c.Spec, c.Seed, cpu, c.Machine.WordsPerPage))])));
    }

    private static (ImmutableArray<FileSpec>, ImmutableArray<ProcessSpec>, IEnumerable<CpuScript>) FileRead(Context c)
    {
        var (spec, line) = (c.Spec, c.Line);
        var region = new RegionSpec(Region, RegionStart, Bytes(spec.Pages), VmaFlags.Read, File, 0);
        ImmutableArray<ProcessSpec> processes = spec.WarmCache
            ? [new ProcessSpec("reader", [region], null), new ProcessSpec("warmer", [region], null)]
            : [new ProcessSpec("reader", [region], null)];
        IEnumerable<Op> Ops(int cpu)
        {
            if (spec.WarmCache && cpu == 0)
            {
                yield return new Op.Run(line, "warmer");   // reads every page once, then the readers start
                yield return Touch(line, AccessKind.Read, 0, (ulong)spec.Pages - 1);
                yield return new Op.Exit(line);
            }
            if (spec.WarmCache)
                yield return new Op.Barrier(line, "warm");
            yield return new Op.Run(line, "reader");
            yield return new Op.Replay(line, PatternStream(spec with { WriteFraction = 0 }, GeneratorKind.Sequential, c.Seed, cpu, c.Cpus, c.Machine.WordsPerPage));
        }
        return ([new FileSpec(File, Bytes(spec.Pages))], processes, Enumerable.Range(0, c.Cpus).Select(cpu => Script(cpu, Ops(cpu))));
    }

    internal static ulong Bytes(int pages) => (ulong)pages * VirtualAddress.PageSize;

    internal static Op.Access Touch(int line, AccessKind kind, ulong first, ulong last) =>
        new(line, kind, new AccessTarget.Pages(Region, first, last), AccessMode.User, null);

    /// <summary>CPU <paramref name="cpu"/>'s accesses of pattern <paramref name="kind"/>: a scan starts at its share of the region, cpu · pages / cpus.</summary>
    public static GeneratedAccesses PatternStream(GeneratorSpec spec, GeneratorKind kind, ulong seed, int cpu, int cpus, int wordsPerPage)
    {
        var start = (int)((long)cpu * spec.Pages / cpus);
        return new GeneratedAccesses($"generator {kind.Name()} on cpu {cpu}", spec.Accesses, GeneratedAccesses.SeedOf(seed, cpu), () =>
        {
            var pattern = AccessPattern.Of(kind, spec, start);
            return (random, _) =>
            {
                var page = pattern.NextPage(random);
                var write = spec.WriteFraction > 0 && random.NextDouble() < spec.WriteFraction;
                return new TracedAccess(GeneratedAccesses.At(RegionStart, page, cpu, wordsPerPage), write ? AccessKind.Write : AccessKind.Read);
            };
        });
    }

    /// <summary>
    /// CPU <paramref name="cpu"/>'s stack: every (accesses / pages)-th access a store one page deeper, until the stack is
    /// <see cref="GeneratorSpec.Pages"/> deep; the others go to a page drawn from those grown so far.
    /// </summary>
    public static GeneratedAccesses StackStream(GeneratorSpec spec, ulong seed, int cpu, int wordsPerPage)
    {
        return new GeneratedAccesses($"generator stack on cpu {cpu}", spec.Accesses, GeneratedAccesses.SeedOf(seed, cpu), () => StackSteps(spec, cpu, wordsPerPage));
    }

    /// <summary>A pass over a stack's accesses: the access number i (from 0), given the pass's random source.</summary>
    internal static Func<SimRandom, long, TracedAccess> StackSteps(GeneratorSpec spec, int cpu, int wordsPerPage)
    {
        var every = Math.Max(1, spec.Accesses / spec.Pages);
        var depth = 0;  // pages grown so far
        return (random, i) =>
        {
            if (i % every == 0 && depth < spec.Pages)
                return new TracedAccess(GeneratedAccesses.At(StackTop - Bytes(++depth), 0, cpu, wordsPerPage), AccessKind.Write);
            var page = random.Next(depth);
            var write = spec.WriteFraction > 0 && random.NextDouble() < spec.WriteFraction;
            return new TracedAccess(GeneratedAccesses.At(StackTop - Bytes(page + 1), 0, cpu, wordsPerPage), write ? AccessKind.Write : AccessKind.Read);
        };
    }
}

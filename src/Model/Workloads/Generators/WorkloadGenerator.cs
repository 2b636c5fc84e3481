using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Workloads.Generators;

/// <summary>
/// The workload a <see cref="GeneratorSpec"/> describes, on a machine, from a seed: its files, processes and per-CPU
/// scripts. The accesses of the access patterns, the stack and the file reads are streams (<see cref="GeneratedAccesses"/>)
/// each CPU replays, made as they are read; the system calls and the page ranges of the herd, the COW storm and the
/// churn are script operations, a few per round. Both engines run the result as they run any workload.
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
            _ => Pattern(context),
        };
        return new Workload(machine, files, processes, [.. scripts.Where(s => !s.Ops.IsEmpty)]);
    }

    /// <summary>What every kind's generator is given: the spec, the machine, the seed and the config line.</summary>
    private sealed record Context(GeneratorSpec Spec, MachineSpec Machine, ulong Seed, int Line)
    {
        public int Cpus => Machine.Cpus;
    }

    private const VmaFlags ReadWrite = VmaFlags.Read | VmaFlags.Write;

    private static CpuScript Script(int cpu, IEnumerable<Op> ops) => new(new CpuId(cpu), [.. ops]);

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
        IEnumerable<Op> Rounds() => Enumerable.Range(0, spec.Rounds).SelectMany(r => new Op[] { new Op.Barrier(line, "herd"), Touch(line, kind, (ulong)r, (ulong)r) });
        return (files, [new ProcessSpec("herd", [region], null)], Enumerable.Range(0, c.Cpus).Select(cpu => Script(cpu, [new Op.Run(line, "herd"), .. Rounds()])));
    }

    private static (ImmutableArray<FileSpec>, ImmutableArray<ProcessSpec>, IEnumerable<CpuScript>) CowStorm(Context c)
    {
        var (spec, line) = (c.Spec, c.Line);
        var perCpu = Enumerable.Range(0, c.Cpus).Select(_ => new List<Op>()).ToArray();
        perCpu[0].Add(new Op.Run(line, "parent"));
        perCpu[0].Add(Touch(line, AccessKind.Write, 0, (ulong)spec.Pages - 1));
        for (var child = 1; child <= spec.Processes; child++)
            perCpu[0].Add(new Op.Fork(line, $"child{child}"));
        for (var child = 1; child <= spec.Processes; child++)
            perCpu[child % c.Cpus].AddRange([new Op.Run(line, $"child{child}"), Touch(line, AccessKind.Write, 0, (ulong)spec.Pages - 1), new Op.Exit(line)]);
        return ([], [new ProcessSpec("parent", [new RegionSpec(Region, RegionStart, Bytes(spec.Pages), ReadWrite, null, 0)], null)],
            perCpu.Select((ops, cpu) => Script(cpu, ops)));
    }

    private static (ImmutableArray<FileSpec>, ImmutableArray<ProcessSpec>, IEnumerable<CpuScript>) Churn(Context c)
    {
        var (spec, line) = (c.Spec, c.Line);
        IEnumerable<Op> Rounds(int cpu)
        {
            var name = $"m{cpu}";
            var start = AddressExpr.Absolute((ChurnStart + (ulong)cpu * ChurnSlot).Value);
            for (var round = 0; round < spec.Rounds; round++)
            {
                yield return new Op.Map(line, name, start, Bytes(spec.MapPages), ReadWrite, null, 0);
                yield return new Op.Access(line, AccessKind.Write, new AccessTarget.Pages(name, 0, (ulong)spec.MapPages - 1), AccessMode.User, null);
                yield return new Op.Unmap(line, new RangeExpr(new AddressExpr(name, 0), null));
            }
        }
        return ([], [new ProcessSpec("churn", [], null)], Enumerable.Range(0, c.Cpus).Select(cpu => Script(cpu, [new Op.Run(line, "churn"), .. Rounds(cpu)])));
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

    private static ulong Bytes(int pages) => (ulong)pages * VirtualAddress.PageSize;

    private static Op.Access Touch(int line, AccessKind kind, ulong first, ulong last) =>
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
        var every = Math.Max(1, spec.Accesses / spec.Pages);
        return new GeneratedAccesses($"generator stack on cpu {cpu}", spec.Accesses, GeneratedAccesses.SeedOf(seed, cpu), () =>
        {
            var depth = 0;  // pages grown so far
            return (random, i) =>
            {
                if (i % every == 0 && depth < spec.Pages)
                    return new TracedAccess(GeneratedAccesses.At(StackTop - Bytes(++depth), 0, cpu, wordsPerPage), AccessKind.Write);
                var page = random.Next(depth);
                var write = spec.WriteFraction > 0 && random.NextDouble() < spec.WriteFraction;
                return new TracedAccess(GeneratedAccesses.At(StackTop - Bytes(page + 1), 0, cpu, wordsPerPage), write ? AccessKind.Write : AccessKind.Read);
            };
        });
    }
}

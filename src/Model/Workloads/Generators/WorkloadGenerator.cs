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
        var cpus = machine.Cpus;
        var scripts = new List<CpuScript>();
        var processes = new List<ProcessSpec>();
        var files = ImmutableArray<FileSpec>.Empty;
        var rw = VmaFlags.Read | VmaFlags.Write;
        switch (spec.Kind)
        {
            case GeneratorKind.Herd:
            {
                var region = spec.FileBacked
                    ? new RegionSpec(Region, RegionStart, Bytes(spec.Rounds), VmaFlags.Read, File, 0)
                    : new RegionSpec(Region, RegionStart, Bytes(spec.Rounds), rw, null, 0);
                if (spec.FileBacked)
                    files = [new FileSpec(File, Bytes(spec.Rounds))];
                processes.Add(new ProcessSpec("herd", [region], null));
                var kind = spec.FileBacked ? AccessKind.Read : AccessKind.Write;
                for (var cpu = 0; cpu < cpus; cpu++)
                {
                    var ops = ImmutableArray.CreateBuilder<Op>();
                    ops.Add(new Op.Run(line, "herd"));
                    for (var round = 0UL; round < (ulong)spec.Rounds; round++)
                    {
                        ops.Add(new Op.Barrier(line, "herd"));
                        ops.Add(Touch(line, kind, round, round));
                    }
                    scripts.Add(new CpuScript(new CpuId(cpu), ops.ToImmutable()));
                }
                break;
            }
            case GeneratorKind.CowStorm:
            {
                processes.Add(new ProcessSpec("parent", [new RegionSpec(Region, RegionStart, Bytes(spec.Pages), rw, null, 0)], null));
                var perCpu = Enumerable.Range(0, cpus).Select(_ => ImmutableArray.CreateBuilder<Op>()).ToArray();
                perCpu[0].Add(new Op.Run(line, "parent"));
                perCpu[0].Add(Touch(line, AccessKind.Write, 0, (ulong)spec.Pages - 1));
                for (var child = 1; child <= spec.Processes; child++)
                    perCpu[0].Add(new Op.Fork(line, $"child{child}"));
                for (var child = 1; child <= spec.Processes; child++)
                {
                    var ops = perCpu[child % cpus];
                    ops.Add(new Op.Run(line, $"child{child}"));
                    ops.Add(Touch(line, AccessKind.Write, 0, (ulong)spec.Pages - 1));
                    ops.Add(new Op.Exit(line));
                }
                scripts.AddRange(perCpu.Select((ops, cpu) => new CpuScript(new CpuId(cpu), ops.ToImmutable())).Where(s => !s.Ops.IsEmpty));
                break;
            }
            case GeneratorKind.Churn:
            {
                processes.Add(new ProcessSpec("churn", [], null));
                for (var cpu = 0; cpu < cpus; cpu++)
                {
                    var name = $"m{cpu}";
                    var ops = ImmutableArray.CreateBuilder<Op>();
                    ops.Add(new Op.Run(line, "churn"));
                    for (var round = 0; round < spec.Rounds; round++)
                    {
                        ops.Add(new Op.Map(line, name, AddressExpr.Absolute((ChurnStart + (ulong)cpu * ChurnSlot).Value), Bytes(spec.MapPages), rw, null, 0));
                        ops.Add(new Op.Access(line, AccessKind.Write, new AccessTarget.Pages(name, 0, (ulong)spec.MapPages - 1), AccessMode.User, null));
                        ops.Add(new Op.Unmap(line, new RangeExpr(new AddressExpr(name, 0), null)));
                    }
                    scripts.Add(new CpuScript(new CpuId(cpu), ops.ToImmutable()));
                }
                break;
            }
            case GeneratorKind.Stack:
                for (var cpu = 0; cpu < cpus; cpu++)
                {
                    var process = $"stack{cpu}";
                    processes.Add(new ProcessSpec(process, [new RegionSpec("stack", StackTop - VirtualAddress.PageSize, VirtualAddress.PageSize, rw | VmaFlags.GrowsDown, null, 0)], null));
                    scripts.Add(new CpuScript(new CpuId(cpu), [new Op.Run(line, process), new Op.Replay(line, StackStream(spec, seed, cpu, machine.WordsPerPage))]));
                }
                break;
            case GeneratorKind.FileRead:
            {
                files = [new FileSpec(File, Bytes(spec.Pages))];
                var region = new RegionSpec(Region, RegionStart, Bytes(spec.Pages), VmaFlags.Read, File, 0);
                processes.Add(new ProcessSpec("reader", [region], null));
                if (spec.WarmCache)
                    processes.Add(new ProcessSpec("warmer", [region], null));
                for (var cpu = 0; cpu < cpus; cpu++)
                {
                    var ops = ImmutableArray.CreateBuilder<Op>();
                    if (spec.WarmCache && cpu == 0)
                        ops.AddRange(new Op.Run(line, "warmer"), Touch(line, AccessKind.Read, 0, (ulong)spec.Pages - 1), new Op.Exit(line));
                    if (spec.WarmCache)
                        ops.Add(new Op.Barrier(line, "warm"));
                    ops.Add(new Op.Run(line, "reader"));
                    ops.Add(new Op.Replay(line, PatternStream(spec with { WriteFraction = 0 }, GeneratorKind.Sequential, seed, cpu, cpus, machine.WordsPerPage)));
                    scripts.Add(new CpuScript(new CpuId(cpu), ops.ToImmutable()));
                }
                break;
            }
            default:
                processes.Add(new ProcessSpec("gen", [new RegionSpec(Region, RegionStart, Bytes(spec.Pages), rw, null, 0)], null));
                for (var cpu = 0; cpu < cpus; cpu++)
                    scripts.Add(new CpuScript(new CpuId(cpu), [new Op.Run(line, "gen"), new Op.Replay(line, PatternStream(spec, spec.Kind, seed, cpu, cpus, machine.WordsPerPage))]));
                break;
        }
        return new Workload(machine, files, [.. processes], [.. scripts]);
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

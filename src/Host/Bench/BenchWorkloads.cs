using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Memory;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Bench;

/// <summary>One benchmark workload and what to divide its time by.</summary>
/// <param name="Faults">Faults the workload takes, by construction.</param>
/// <param name="Accesses">Accesses it makes.</param>
public sealed record BenchCase(string Name, string Description, Workload Workload, long Faults, long Accesses);

/// <summary>The workloads `faultsim bench` times: each isolates one kind of fault, or TLB hits.</summary>
public static class BenchWorkloads
{
    private static readonly VirtualAddress Base = new(0x1000_0000);
    private const VmaFlags Rw = VmaFlags.Read | VmaFlags.Write;

    public static readonly string[] Names = ["demand-zero", "cow", "major", "tlb-hit"];

    /// <param name="machine">The machine to run on (its TLB, zero page, policy, shootdowns); the CPUs are the workload's own.</param>
    public static BenchCase Create(string name, int faults, int cpus, MachineSpec? machine = null)
    {
        var bench = name switch
        {
            "demand-zero" => DemandZero(faults, cpus),
            "cow" => Cow(faults),
            "major" => Major(faults),
            "tlb-hit" => TlbHit(faults, cpus),
            _ => throw new ArgumentException($"no benchmark '{name}'", nameof(name)),
        };
        if (machine is null)
            return bench;
        var own = bench.Workload.Machine;
        return bench with { Workload = bench.Workload with { Machine = machine with { Cpus = own.Cpus, ZeroPage = own.ZeroPage && machine.ZeroPage, Readahead = own.Readahead == ReadaheadRules.Off ? own.Readahead : machine.Readahead } } };
    }

    /// <summary>Threads on <paramref name="cpus"/> CPUs each write their own share of a fresh anonymous region once: every access a demand-zero fault.</summary>
    private static BenchCase DemandZero(int pages, int cpus)
    {
        var share = pages / cpus;
        var scripts = Enumerable.Range(0, cpus).Select(c => new CpuScript(new CpuId(c),
            ScriptParser.Parse($"run p\nstore buf:{c * share}..{(c + 1) * share - 1}", 1)));
        var workload = new Workload(new MachineSpec { Cpus = cpus }, [], [new ProcessSpec("p", [Region("buf", share * cpus, null)], null)], [.. scripts]);
        return new("demand-zero", $"{cpus} CPUs store to {share * cpus:N0} new anonymous pages, each CPU its own", workload, share * cpus, share * cpus);
    }

    /// <summary>
    /// The workload of <see cref="DemandZero"/> as the text of a config file (what a cluster run's nodes rebuild a run
    /// from): the same region and scripts.
    /// </summary>
    public static string DemandZeroHocon(int pages, int cpus)
    {
        var share = pages / cpus;
        var s = new System.Text.StringBuilder($"faultsim.machine.cpus = {cpus}\nfaultsim.workload {{\n  processes {{\n");
        s.Append($"    p {{ regions {{ buf {{ start = 0x{Base.Value:x}, size = {(ulong)share * (ulong)cpus * VirtualAddress.PageSize}, prot = rw }} }} }}\n  }}\n  cpus {{\n");
        for (var c = 0; c < cpus; c++)
            s.Append($"    {c} = \"\"\"\nrun p\nstore buf:{c * share}..{(c + 1) * share - 1}\n\"\"\"\n");
        return s.Append("  }\n}\n").ToString();
    }

    /// <summary>A parent writes its pages, forks, and the child writes them all: half demand-zero, half COW breaks with a copy.</summary>
    private static BenchCase Cow(int faults)
    {
        var pages = faults / 2;
        return new(
            "cow", $"parent zero-fills {pages:N0} pages, forks; the child COW-breaks all {pages:N0}",
            OneCpu([Region("buf", pages, null)], [], "run p", $"store buf:0..{pages - 1}", "fork child", "run child", $"store buf:0..{pages - 1}"),
            2L * pages, 2L * pages);
    }

    /// <summary>
    /// One CPU reads each page of an uncached file once: every access a major fault with a disk read — without readahead
    /// and fault-around, which would make most of them minor faults or none (the workload times the major fault itself).
    /// </summary>
    private static BenchCase Major(int pages)
    {
        var workload = OneCpu([Region("data", pages, "data")], [new FileSpec("data", (ulong)pages * VirtualAddress.PageSize)], "run p", $"load data:0..{pages - 1}");
        return new("major", $"1 CPU reads {pages:N0} pages of an uncached file (no readahead, no fault-around)",
            workload with { Machine = workload.Machine with { Readahead = ReadaheadRules.Off } }, pages, pages);
    }

    /// <summary>Threads on <paramref name="cpus"/> CPUs each load 16 pages of their own over and over: every access after the first 16 a TLB hit.</summary>
    private static BenchCase TlbHit(int accesses, int cpus)
    {
        const int pages = 16;
        var rounds = Math.Max(1, accesses / pages / cpus);
        var scripts = Enumerable.Range(0, cpus).Select(c =>
        {
            var target = new AccessTarget.Pages("buf", (ulong)(c * pages), (ulong)((c + 1) * pages - 1));
            var access = new Op.Access(2, AccessKind.Read, target, AccessMode.User, null);
            return new CpuScript(new CpuId(c), [new Op.Run(1, "p"), .. Enumerable.Repeat<Op>(access, rounds)]);
        });
        var workload = new Workload(new MachineSpec { Cpus = cpus, ZeroPage = false }, [],
            [new ProcessSpec("p", [Region("buf", pages * cpus, null)], null)], [.. scripts]);
        return new("tlb-hit", $"{cpus} CPUs each load 16 resident pages of their own {rounds:N0} times", workload, pages * cpus, (long)rounds * pages * cpus);
    }

    private static RegionSpec Region(string name, int pages, string? file) =>
        new(name, Base, (ulong)pages * VirtualAddress.PageSize, file is null ? Rw : VmaFlags.Read, file, 0);

    private static Workload OneCpu(ImmutableArray<RegionSpec> regions, ImmutableArray<FileSpec> files, params string[] script) =>
        new(new MachineSpec { Cpus = 1 }, files, [new ProcessSpec("p", regions, null)],
            [new CpuScript(new CpuId(0), ScriptParser.Parse(string.Join('\n', script), 1))]);
}

using System.Collections.Immutable;
using Faultsim.Model.Addressing;
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

    public static BenchCase Create(string name, int faults) => name switch
    {
        "demand-zero" => DemandZero(faults),
        "cow" => Cow(faults),
        "major" => Major(faults),
        "tlb-hit" => TlbHit(faults),
        _ => throw new ArgumentException($"no benchmark '{name}'", nameof(name)),
    };

    /// <summary>One CPU writes each page of a fresh anonymous region once: every access a demand-zero fault.</summary>
    private static BenchCase DemandZero(int pages) => new(
        "demand-zero", $"1 CPU stores to {pages:N0} new anonymous pages",
        OneCpu([Region("buf", pages, null)], [], "run p", $"store buf:0..{pages - 1}"),
        pages, pages);

    /// <summary>A parent writes its pages, forks, and the child writes them all: half demand-zero, half COW breaks with a copy.</summary>
    private static BenchCase Cow(int faults)
    {
        var pages = faults / 2;
        return new(
            "cow", $"parent zero-fills {pages:N0} pages, forks; the child COW-breaks all {pages:N0}",
            OneCpu([Region("buf", pages, null)], [], "run p", $"store buf:0..{pages - 1}", "fork child", "run child", $"store buf:0..{pages - 1}"),
            2L * pages, 2L * pages);
    }

    /// <summary>One CPU reads each page of an uncached file once: every access a major fault with a disk read.</summary>
    private static BenchCase Major(int pages) => new(
        "major", $"1 CPU reads {pages:N0} pages of an uncached file",
        OneCpu([Region("data", pages, "data")], [new FileSpec("data", (ulong)pages * VirtualAddress.PageSize)], "run p", $"load data:0..{pages - 1}"),
        pages, pages);

    /// <summary>One CPU loads 16 resident pages over and over: every access after the first 16 a TLB hit.</summary>
    private static BenchCase TlbHit(int accesses)
    {
        const int pages = 16;
        var rounds = Math.Max(1, accesses / pages);
        var ops = new List<Op> { new Op.Run(1, "p") };
        var target = new AccessTarget.Pages("buf", 0, pages - 1);
        for (var i = 0; i < rounds; i++)
            ops.Add(new Op.Access(2, AccessKind.Read, target, AccessMode.User, null));
        var workload = new Workload(
            new MachineSpec { Cpus = 1, ZeroPage = false },
            [],
            [new ProcessSpec("p", [Region("buf", pages, null)], null)],
            [new CpuScript(new CpuId(0), [.. ops])]);
        return new("tlb-hit", $"1 CPU loads {pages} resident pages {rounds:N0} times", workload, pages, (long)rounds * pages);
    }

    private static RegionSpec Region(string name, int pages, string? file) =>
        new(name, Base, (ulong)pages * VirtualAddress.PageSize, file is null ? Rw : VmaFlags.Read, file, 0);

    private static Workload OneCpu(ImmutableArray<RegionSpec> regions, ImmutableArray<FileSpec> files, params string[] script) =>
        new(new MachineSpec { Cpus = 1 }, files, [new ProcessSpec("p", regions, null)],
            [new CpuScript(new CpuId(0), ScriptParser.Parse(string.Join('\n', script), 1))]);
}

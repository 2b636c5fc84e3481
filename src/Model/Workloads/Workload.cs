using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Memory;
using Faultsim.Model.Replacement;
using Faultsim.Model.Shootdowns;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Workloads;

/// <summary>How the reference machine interleaves the CPUs' scripts, one step (an access or a system call) at a time.</summary>
public enum Interleaving
{
    /// <summary>CPU 0, 1, 2, … in turn.</summary>
    RoundRobin,
    /// <summary>A CPU chosen at random (from the run's seed) each step.</summary>
    Random,
    /// <summary>Each CPU runs until it finishes or waits, lowest first.</summary>
    Sequential,
}

/// <summary>Injected disk failures: every read of a listed page fails, and any read fails with the given probability.</summary>
public sealed record DiskFailures(double ReadErrorRate, ImmutableArray<(string File, ulong Page)> BadPages)
{
    public static readonly DiskFailures None = new(0, []);
}

/// <summary>The simulated machine's hardware and kernel parameters.</summary>
public sealed record MachineSpec
{
    public int Cpus { get; init; } = 4;
    /// <summary>Frames for pages; 0 for no limit.</summary>
    public int Frames { get; init; }
    public ReplacementPolicyKind Policy { get; init; } = ReplacementPolicyKind.Lru;
    public bool ZeroPage { get; init; } = true;
    /// <summary>SMAP (CR4.SMAP): the kernel outside a user copy may not touch a user page; doing so faults, and the kernel oopses.</summary>
    public bool Smap { get; init; } = true;
    public int TlbEntries { get; init; } = 64;
    public int TlbWays { get; init; } = 4;
    public int WordsPerPage { get; init; } = 8;
    public StackRules Stack { get; init; } = StackRules.Linux;
    public Interleaving Interleaving { get; init; } = Interleaving.RoundRobin;
    public DiskFailures Disk { get; init; } = DiskFailures.None;
    public ShootdownMode Shootdown { get; init; } = ShootdownMode.Batched;
    /// <summary>Fault-around and readahead (machine.fault-around, machine.readahead): Linux's 64 KiB and 128 KiB by default.</summary>
    public ReadaheadRules Readahead { get; init; } = ReadaheadRules.Linux;
}

/// <summary>A file of the workload. <paramref name="Tmpfs"/>: it lives on tmpfs (or is a memfd), so it is shmem and its shared mappings take no write-notify faults; else it is on a disk filesystem like ext4.</summary>
public sealed record FileSpec(string Name, ulong Size, bool Tmpfs = false);

/// <summary>A region a process starts with (as if exec had mapped it). <see cref="File"/> null means anonymous.</summary>
public sealed record RegionSpec(string Name, VirtualAddress Start, ulong Length, VmaFlags Flags, string? File, ulong FileOffset);

/// <summary>A process the machine starts with.</summary>
/// <param name="StackPointer">The initial saved stack pointer; null: the top of the first grows-down region.</param>
public sealed record ProcessSpec(string Name, ImmutableArray<RegionSpec> Regions, VirtualAddress? StackPointer)
{
    /// <summary>The initial stack pointer: as given, else just below the top of the first grows-down region.</summary>
    public VirtualAddress InitialStackPointer =>
        StackPointer
        ?? Regions.Where(r => (r.Flags & VmaFlags.GrowsDown) != 0).Select(r => r.Start + r.Length - 64).FirstOrDefault();
}

public sealed record CpuScript(CpuId Cpu, ImmutableArray<Op> Ops)
{
    /// <summary>
    /// The operations as the checks before a run see them: each stream's repertoire (<see cref="IOpSource.Repertoire"/>)
    /// in its place, so a generated workload's processes, forks, barriers and regions are known without making its operations.
    /// </summary>
    public IEnumerable<Op> Declared => Ops.SelectMany(op => op is Op.Stream stream ? stream.Source.Repertoire : [op]);
}

/// <summary>A whole workload: machine, files, the processes it starts with, and one script per CPU.</summary>
public sealed record Workload(MachineSpec Machine, ImmutableArray<FileSpec> Files, ImmutableArray<ProcessSpec> Processes, ImmutableArray<CpuScript> Scripts)
{
    /// <summary>
    /// Every process name with its pid: the starting processes get 1, 2, … in order, then each
    /// forked child the next pid in the order its fork appears (CPU by CPU, line by line; a stream's
    /// forks in its repertoire's order), so
    /// pids do not depend on how a run interleaves.
    /// </summary>
    /// <remarks>Worked out once per workload (a workload is immutable; explore runs one many times).</remarks>
    public ImmutableArray<string> ProcessNames => Names.Value.All;

    public ProcessId PidOf(string process) => new(Names.Value.Pids.TryGetValue(process, out var pid) ? pid : 0);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Workload, Lazy<ProcessNameTable>> NameTables = new();

    // Kept beside the record, not in it: a field would take part in the record's equality and be copied by `with`.
    private Lazy<ProcessNameTable> Names => NameTables.GetValue(this, w => new Lazy<ProcessNameTable>(() => ProcessNameTable.Of(w)));

    private sealed record ProcessNameTable(ImmutableArray<string> All, Dictionary<string, int> Pids)
    {
        public static ProcessNameTable Of(Workload workload)
        {
            ImmutableArray<string> all =
            [.. workload.Processes.Select(p => p.Name)
                .Concat(workload.Scripts.SelectMany(s => s.Declared).OfType<Op.Fork>().Select(f => f.Child))
                .Distinct()];
            var pids = new Dictionary<string, int>(StringComparer.Ordinal);
            for (var i = 0; i < all.Length; i++)
                pids[all[i]] = i + 1;
            return new ProcessNameTable(all, pids);
        }
    }
}

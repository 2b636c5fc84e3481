using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Cpu;
using Faultsim.Actors.Disk;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Actors.Tlb;
using Faultsim.Model.Addressing;
using Faultsim.Model.Machine;
using Faultsim.Model.Storage;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.Machine;

/// <summary>What a part of the machine is: memory, the disk, the loaders' routing point, a TLB, an address space, a CPU.</summary>
public enum PartKind
{
    Memory,
    Disk,
    Loaders,
    Tlb,
    AddressSpace,
    Cpu,
}

/// <summary>One actor of a run's machine, by what it is and its number (a CPU's, an asid's; 0 for the single ones).</summary>
public readonly record struct Part(PartKind Kind, int Index)
{
    /// <summary>Its actor's name, the same wherever it runs: memory, disk, loaders, tlb0, mm1, cpu0, …</summary>
    public string Name => Kind switch
    {
        PartKind.Memory => "memory",
        PartKind.Disk => "disk",
        PartKind.Loaders => Index == 0 ? "loaders" : $"loaders{Index}",
        PartKind.Tlb => $"tlb{Index}",
        PartKind.AddressSpace => $"mm{Index}",
        _ => $"cpu{Index}",
    };
}

/// <summary>
/// The actors a run's machine is made of, each built from the run alone (workload, engine settings, seed): the machine
/// creates them as its children, and on a cluster each node creates those placed on it from the same run, so that a part
/// is the same actor wherever it runs.
/// </summary>
public sealed class MachineParts
{
    private readonly Workload _workload;
    private readonly EngineSettings _settings;
    private readonly ulong _seed;
    private readonly AddressSpaceSettings _mmSettings;
    private readonly CpuSettings _cpuSettings;
    private readonly ImmutableDictionary<Asid, AddressSpaceSetup> _setups;
    private readonly Func<RunContext, ulong, Props>? _loaders;
    private readonly SlotLease? _slots;

    /// <param name="slots">The engine's slots when the machine runs in one: the loaders are slots too; null: plain actors.</param>
    /// <param name="loaders">How the loaders' routing point is made (a cluster's, in front of its shard region); null: a <see cref="PageLoaderRouter"/>.</param>
    public MachineParts(Workload workload, EngineSettings settings, ulong seed, SlotLease? slots = null, Func<RunContext, ulong, Props>? loaders = null)
    {
        (_workload, _settings, _seed, _slots, _loaders) = (workload, settings, seed, slots, loaders);
        var shape = MachineShape.Of(workload);
        (Files, Setups, _setups, All, _mmSettings) = (shape.Files, shape.Setups, shape.SetupsByAsid, shape.All, shape.MmSettings);
        _cpuSettings = new CpuSettings(settings.Quantum, workload.Machine.WordsPerPage, shape.Pids, settings.Run.Coverage) { Traffic = settings.Run.Traffic };
    }

    public FileTable Files { get; }

    /// <summary>The files of <paramref name="workload"/>'s machine: the same table its parts use.</summary>
    public static FileTable FilesOf(Workload workload) => MachineShape.Of(workload).Files;

    /// <summary>The names of the slots a machine for <paramref name="workload"/> needs (<see cref="MachineActor.SlotNames"/>), worked out once per workload.</summary>
    public static ImmutableArray<string> SlotNamesOf(Workload workload) => MachineShape.Of(workload).SlotNames;

    /// <summary>The address spaces of the processes the workload starts with (forked children have none yet).</summary>
    public ImmutableArray<AddressSpaceSetup> Setups { get; }

    /// <summary>Every part, in the order they are created: memory, disk, loaders, the TLBs, the address spaces, the CPUs.</summary>
    public ImmutableArray<Part> All { get; }

    /// <summary>How <paramref name="part"/> is created.</summary>
    public Props Props(Part part)
    {
        var spec = _workload.Machine;
        var run = _settings.Run;
        switch (part.Kind)
        {
            case PartKind.Memory:
                return MemoryActor.Props(new MemorySettings(spec.Frames, spec.WordsPerPage, spec.Policy, _settings.OptReferences) { Readahead = spec.Readahead, Files = Files }, run);
            case PartKind.Disk:
                return DiskActor.Props(new DiskSettings(_settings.DiskQueueDepth, ReadErrors.Of(spec.Disk, Files), _seed, _settings.DiskLatency,
                    _settings.DiskBandwidth, _settings.TimedDisk), spec.WordsPerPage, run);
            case PartKind.Loaders when _loaders is not null:
                return _loaders(run, _seed);
            case PartKind.Loaders:
                return PageLoaderRouter.Props((peers, seed) => PageLoaderActor.Props(peers, run, seed), run, _seed, _slots);
            case PartKind.Tlb:
                return TlbActor.Props(new CpuId(part.Index), spec.TlbEntries, spec.TlbWays, flushBeforeWalk: spec.Frames > 0, run, spec.Smap);
            case PartKind.AddressSpace:
                var asid = new Asid(part.Index);
                return AddressSpaceActor.Props(asid, _setups.GetValueOrDefault(asid), _mmSettings, run);
            default:
                var ops = _workload.Scripts.FirstOrDefault(s => s.Cpu.Value == part.Index)?.Ops ?? [];
                return CpuActor.Props(new CpuId(part.Index), ops, _cpuSettings);
        }
    }

    /// <summary>
    /// The directory of a run whose parts are <paramref name="actors"/>, driven by <paramref name="machine"/>. A cluster
    /// run has a loaders' routing point on every pager node (loaders1, …); the directory names the first.
    /// </summary>
    public ActorDirectory Directory(IActorRef machine, IReadOnlyDictionary<Part, IActorRef> actors) => new()
    {
        Machine = machine,
        Memory = actors[new Part(PartKind.Memory, 0)],
        Disk = actors[new Part(PartKind.Disk, 0)],
        Loaders = actors[new Part(PartKind.Loaders, 0)],
        Tlbs = [.. All.Where(p => p.Kind == PartKind.Tlb).Select(p => actors[p])],
        Cpus = [.. All.Where(p => p.Kind == PartKind.Cpu).Select(p => actors[p])],
        AddressSpaces = All.Where(p => p.Kind == PartKind.AddressSpace).ToImmutableDictionary(p => new Asid(p.Index), p => actors[p]),
    };

    /// <summary>
    /// What of a machine follows from its workload alone — its files, the address spaces it starts with, its parts, the
    /// processes' pids — worked out once per workload (all of it immutable) and shared by every run of it: explore runs one
    /// workload seed after seed.
    /// </summary>
    private sealed class MachineShape
    {
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Workload, MachineShape> Shapes = new();

        private MachineShape(Workload workload)
        {
            var spec = workload.Machine;
            Files = new FileTable(workload.Files);
            MmSettings = new AddressSpaceSettings(spec.Stack, spec.ZeroPage, Files, spec.Shootdown, spec.Smap) { Readahead = spec.Readahead };
            Pids = workload.ProcessNames.ToImmutableDictionary(n => n, workload.PidOf);
            Setups = [.. workload.Processes.Select(p => Setup(workload, p))];
            SetupsByAsid = Setups.ToImmutableDictionary(s => s.Asid);
            All = [
                new Part(PartKind.Memory, 0), new Part(PartKind.Disk, 0), new Part(PartKind.Loaders, 0),
                .. Enumerable.Range(0, spec.Cpus).Select(i => new Part(PartKind.Tlb, i)),
                .. workload.ProcessNames.Select(name => new Part(PartKind.AddressSpace, Asid.Of(workload.PidOf(name)).Value)),
                .. Enumerable.Range(0, spec.Cpus).Select(i => new Part(PartKind.Cpu, i)),
            ];
            SlotNames = [.. MachineActor.SlotNames(workload)];
        }

        public FileTable Files { get; }
        public AddressSpaceSettings MmSettings { get; }
        public ImmutableDictionary<string, ProcessId> Pids { get; }
        public ImmutableArray<AddressSpaceSetup> Setups { get; }
        public ImmutableDictionary<Asid, AddressSpaceSetup> SetupsByAsid { get; }
        public ImmutableArray<Part> All { get; }
        public ImmutableArray<string> SlotNames { get; }

        public static MachineShape Of(Workload workload) => Shapes.GetValue(workload, w => new MachineShape(w));

        private AddressSpaceSetup Setup(Workload workload, ProcessSpec process)
        {
            var pid = workload.PidOf(process.Name);
            var vmas = Files.VmasOf(process, pid, out var shmemObjects);
            return new AddressSpaceSetup(pid, process.Name, Asid.Of(pid), [.. vmas], [],
                process.Regions.ToImmutableDictionary(r => r.Name, r => (r.Start, r.Length)), process.InitialStackPointer, shmemObjects);
        }
    }
}

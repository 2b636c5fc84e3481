using System.Collections.Immutable;
using Akka.Actor;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Model.Addressing;
using Faultsim.Model.Machine;

namespace Faultsim.Actors.Machine;

// Machine protocol. The machine actor is the parent of every simulation actor and the run's driver.
//   host ──StartRun──▶ machine ──RunFinished | RunFailed──▶ host
//   machine ──Connect──▶ every actor ──Connected──▶ machine   the directory, before any CPU starts
//   mm ──ProcessReady──▶ machine                              fork: CPUs may find the child now
//   mm ──ProcessEnded──▶ machine                              exit or a fatal signal
//   loader ──KernelPanic──▶ machine                           an oops: the run stops
//   CPU ──WorkloadFailed──▶ machine                           the script cannot go on as written
public interface IMachineProtocol : ISimulationMessage;

/// <summary>The host's messages to and from the machine. They stay in the host's process, so they are never serialized.</summary>
public interface IRunControl : INoSerializationVerificationNeeded;

/// <summary>Host → machine: run the workload. Answered by <see cref="RunFinished"/> or <see cref="RunFailed"/>.</summary>
public sealed record StartRun : IRunControl
{
    public static readonly StartRun Instance = new();
}

public sealed record RunFinished(RunResult Result) : IRunControl;

/// <summary>The workload could not run as written (a deadlock, a region missing at run time). <see cref="Line"/> is its config line.</summary>
public sealed record RunFailed(int? Line, string Message) : IRunControl;

/// <summary>A simulation actor failed: the run is void. Not bad input — a fault of the simulator (or of a planted bug).</summary>
public sealed record RunCrashed(string Message) : IRunControl;

/// <summary>
/// A cluster run lost a node holding a part it cannot go on without (<see cref="Message"/>: which node, which parts, which
/// loads were in flight): the run is void, through no fault of the simulator.
/// </summary>
public sealed record RunLost(string Message) : IRunControl;

/// <summary>Machine → itself: a child failed with <see cref="Message"/>.</summary>
internal sealed record SimulationFailed(string Message) : IRunControl;

/// <summary>Parent's mm → machine: the forked child may run now, from <see cref="StackPointer"/> with the parent's regions.</summary>
public sealed record ProcessReady(ProcessId Pid, string Name, VirtualAddress StackPointer,
    ImmutableDictionary<string, (VirtualAddress Start, ulong Length)> Regions) : IMachineProtocol;

public sealed record ProcessEnded(ProcessId Pid, ProcessFate Fate) : IMachineProtocol;

/// <summary>Loader → machine: a kernel oops on <see cref="Cpu"/> in the process <see cref="Pid"/>; the run stops.</summary>
public sealed record KernelPanic(CpuId Cpu, ProcessId Pid, string Reason) : IMachineProtocol;

public sealed record WorkloadFailed(int Line, string Message) : IMachineProtocol;

/// <summary>Anyone → machine: an invariant was broken (a stale translation used, …). Recorded in the result.</summary>
public sealed record ViolationFound(string Description) : IMachineProtocol;

/// <summary>The machine's view of a process.</summary>
internal sealed record ProcessEntry(ProcessId Pid, string Name, Asid Asid, VirtualAddress StackPointer, ImmutableDictionary<string, (VirtualAddress Start, ulong Length)> Regions)
{
    public ProcessFate Fate { get; init; } = ProcessFate.Running;
}

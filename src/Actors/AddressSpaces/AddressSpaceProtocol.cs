using System.Collections.Immutable;
using Faultsim.Actors.Telemetry;
using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;
using Faultsim.Model.Tlbs;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Actors.AddressSpaces;

// Address-space protocol. The mm actor owns the VMAs and the page table of one process.
//   TLB ──Walk──▶ mm ──Walked──▶ TLB                         the PTE allows the access: a TLB fill
//   TLB ──Walk──▶ mm ──ResolveFault──▶ page loader            it does not: a fault (FaultProtocol)
//   TLB ──Walk──▶ mm ──WalkRefused──▶ TLB                     the process is gone
//   loader (or memory, for a frame it prepared) ──InstallPte──▶ mm [shootdown, release],
//     then mm ──FaultResolved──▶ every waiter's TLB (FaultProtocol): the PTE first, then the wake-ups
//   CPU ──Syscall──▶ mm [PTE changes, shootdown, release] ──SyscallReturned──▶ CPU
//   CPU ──CpuAttached──▶ mm (joins the CPU mask) [──CpuAttachAcknowledged──▶ CPU, in a cluster run]
//   mm ──StartForked──▶ the forked child's mm                 fork: the child's copy of the address space
// Syscalls take the mmap lock for writing: walks, installs and other syscalls wait until they end.
public interface IAddressSpaceProtocol : ISimulationMessage;

/// <summary>
/// TLB → mm: the MMU's page walk for an access that missed the TLB, or the fault an access raised when its
/// cached translation forbade it (<see cref="ProtectionFault"/>). Answered by <see cref="Walked"/>, <see cref="WalkRefused"/>, or a fault.
/// <see cref="Trace"/> is the would-be fault's trace (if sampled), <see cref="StartedAt"/> when the walk began (after the TLB lookup that missed).
/// </summary>
public sealed record Walk(FaultId Id, CpuId Cpu, VirtualAddress Address, AccessKind Access, AccessMode Mode, VirtualAddress StackPointer, bool ProtectionFault,
    TraceContext Trace = default, long StartedAt = 0) : IAddressSpaceProtocol;

/// <summary>mm → TLB: the translation to cache for the walked page.</summary>
public sealed record Walked(FaultId Id, Translation Translation) : IAddressSpaceProtocol;

/// <summary>mm → TLB: the process has ended; nothing of it may run.</summary>
public sealed record WalkRefused(FaultId Id, ProcessFate Fate) : IAddressSpaceProtocol;

/// <summary>
/// Loader or memory → mm: install <see cref="New"/> for <see cref="Page"/> if the entry is still <see cref="Expected"/>,
/// the page's VMA is still <see cref="Vma"/> and the mm has not forked since its fork count was <see cref="Forks"/>
/// (growing the stack down to <see cref="GrowStackTo"/> first if given), shoot down the old translation if a frame
/// is replaced, then wake <see cref="Waiters"/> with
/// <see cref="Report"/>. If the page changed meanwhile, nothing is installed, the waiters fault again (each counted when
/// only the PTE changed: the fault lost a race to the page, FaultHandler.LostRace), and a frame
/// memory prepared for it (<see cref="FramePrepared"/>) is given back. <see cref="Trace"/> is the leader's fault's, and
/// <see cref="Work"/> what memory did to the frame since <see cref="PreparedAt"/>, for its span.
/// <see cref="Around"/>: fault-around's neighbours, each installed with the page where its PTE is empty (and its VMA maps it
/// alike), else given back to memory (Unprepare); none when the page's install is refused.
/// </summary>
public sealed record InstallPte(FaultId Id, CpuId Cpu, PageNumber Page, Pte Expected, Vma? Vma, long Forks, Pte New, VirtualAddress? GrowStackTo,
    ImmutableArray<Paging.Waiter> Waiters, Paging.FaultReport Report, bool FramePrepared,
    TraceContext Trace = default, long PreparedAt = 0, PageWork Work = PageWork.None,
    ImmutableArray<(PageNumber Page, Pte Pte)> Around = default) : IAddressSpaceProtocol
{
    public ImmutableArray<(PageNumber Page, Pte Pte)> Around { get; init; } = Around.IsDefault ? [] : Around;
}

/// <summary>What memory did to a frame before its PTE was installed.</summary>
public enum PageWork
{
    None,
    Zeroed,
    Copied,
}

/// <summary>
/// Loader → mm, for an eviction: if <see cref="Page"/> still maps <see cref="Frame"/>, install <see cref="Replacement"/>
/// and shoot the old translation down on every CPU (reclaim runs on <see cref="Initiator"/>, which flushes its own TLB);
/// then tell memory PteReplaced.
/// </summary>
public sealed record ReplacePte(long EvictionId, PageNumber Page, FrameNumber Frame, Pte Replacement, CpuId Initiator) : IAddressSpaceProtocol;

/// <summary>
/// CPU → mm of the process it switches to: it runs the process now and may cache its translations (it joins the CPU mask).
/// <see cref="Acknowledge"/>: answer <see cref="CpuAttachAcknowledged"/> once joined (a cluster run, where the CPU's next
/// message to another node could otherwise reach a peer of the mm first: switch_mm sets the mask before the CPU goes on).
/// </summary>
public sealed record CpuAttached(CpuId Cpu, bool Acknowledge = false) : IAddressSpaceProtocol;

/// <summary>mm → CPU: the CPU is in the mask (or the process has ended, and nothing of it runs any more).</summary>
public sealed record CpuAttachAcknowledged(Asid Asid) : IAddressSpaceProtocol;

/// <summary>Loader → mm: a fatal signal (SIGSEGV, SIGBUS, OOM): the process ends.</summary>
public sealed record KillProcess(ProcessFate Fate, CpuId Cpu) : IAddressSpaceProtocol;

/// <summary>
/// CPU → mm: a system call of the process the CPU runs, made with user stack pointer <see cref="StackPointer"/> (a forked
/// child starts from it). Answered by <see cref="SyscallReturned"/>.
/// </summary>
public sealed record Syscall(SyscallId Id, CpuId Cpu, SystemCall Call, VirtualAddress StackPointer) : IAddressSpaceProtocol;

/// <summary>mm → CPU: the call returned; <see cref="Failed"/> for an error return (EINVAL, ENOMEM), <see cref="Fate"/> when the process is gone.</summary>
public sealed record SyscallReturned(SyscallId Id, bool Failed, ProcessFate Fate, RemapResult? Remapped = null) : IAddressSpaceProtocol;

/// <summary>
/// Machine → mm at the end of a run: what it counted, and every PTE when <see cref="WithEntries"/> (only a run that
/// captures its memory reads them). Answered by <see cref="AddressSpaceReport"/>.
/// </summary>
public sealed record ReportAddressSpace(bool WithEntries) : IAddressSpaceProtocol;

/// <summary>mm → Machine: how the process ended (if it did), the final page table (empty unless asked for), and the counts the mm keeps.</summary>
public sealed record AddressSpaceReport(ProcessId Pid, ProcessFate Fate, ImmutableArray<(PageNumber Page, Pte Pte)> Entries,
    long Shootdowns, long Ipis, long SyscallErrors, long MessagesReceived) : IAddressSpaceProtocol;

/// <summary>CPU → mm: where a named region of the process lies (a region another thread mapped). Answered by <see cref="RegionFound"/>.</summary>
public sealed record LookupRegion(string Name) : IAddressSpaceProtocol;

/// <summary>mm → CPU: <see cref="Length"/> is 0 when the process has no such region.</summary>
public sealed record RegionFound(string Name, VirtualAddress Start, ulong Length) : IAddressSpaceProtocol;

/// <summary>
/// mm → the machine and every CPU that has run the process: a region is somewhere else now (mmap of its name, mremap
/// that moved or resized it). A process's region table is one, as its threads' pointers are one memory: a CPU that runs
/// it, or switches to it later, uses the region where it is now. Sent before the call returns, so whatever follows the
/// call (a barrier, a switch) comes after it in each mailbox.
/// </summary>
public sealed record RegionChanged(Asid Asid, string Name, VirtualAddress Start, ulong Length) : Cpu.ICpuProtocol, Machine.IMachineProtocol;

/// <summary>
/// Parent's mm → the mm of the child it forks (made Unborn with the run, found in the directory): the child's address
/// space, copied under the parent's mmap lock. CPUs learn of the child only after it (ProcessReady, once memory has
/// counted the child's references), and whatever reaches the child before it waits.
/// </summary>
public sealed record StartForked(AddressSpaceSetup Setup) : IAddressSpaceProtocol;

/// <summary>
/// Everything an mm actor starts from: a process from the workload, or a forked child; <see cref="ShmemObjects"/> is
/// how many shared-memory objects the process made already (its regions').
/// </summary>
public sealed record AddressSpaceSetup(
    ProcessId Pid, string Name, Asid Asid,
    ImmutableArray<Vma> Vmas, ImmutableArray<(PageNumber Page, Pte Pte)> Entries,
    ImmutableDictionary<string, (VirtualAddress Start, ulong Length)> Regions, VirtualAddress StackPointer, int ShmemObjects = 0);

/// <summary>The kernel parameters an mm needs to describe a fault.</summary>
public sealed record AddressSpaceSettings(Faultsim.Model.Faults.StackRules Stack, bool ZeroPage, Faultsim.Model.Storage.FileTable Files, Faultsim.Model.Shootdowns.ShootdownMode Shootdown,
    bool Smap = true)
{
    /// <summary>Readahead's sizes, for the windows madvise(MADV_WILLNEED) reads (machine.readahead).</summary>
    public Faultsim.Model.Memory.ReadaheadRules Readahead { get; init; } = Faultsim.Model.Memory.ReadaheadRules.Off;
}

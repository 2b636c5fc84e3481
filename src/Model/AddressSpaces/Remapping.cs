using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;

namespace Faultsim.Model.AddressSpaces;

/// <summary>What a successful mremap did, as the script needs it: where the region starts now, and the range it faults in (the part it added to a locked region; empty otherwise).</summary>
public readonly record struct RemapResult(VirtualAddress Start, VirtualAddress PopulateFrom, VirtualAddress PopulateTo);

/// <summary>A PTE mremap moved (move_ptes): the frame or swap slot it holds is the same, its page is another.</summary>
public readonly record struct PageMove(PageNumber From, PageNumber To, Pte Pte);

/// <summary>
/// What mremap changed in an address space: its result, the PTE changes to shoot down (every old PTE that moved or went),
/// those among them whose references go (a shrink's tail), and the PTEs that moved, whose frames memory now finds at
/// their new pages — locked there when the region is (<paramref name="Locked"/>: VM_LOCKED moves with it). The caller
/// settles frames and TLBs from these, as for any call.
/// </summary>
public sealed record Remapping(RemapResult Result, IReadOnlyList<PteChange> Changes, IReadOnlyList<PteChange> Dropped, IReadOnlyList<PageMove> Moves, bool Locked);

using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;

namespace Faultsim.Model.Machine;

/// <summary>One process of the reference machine: its address space, named regions, counts and fate.</summary>
internal sealed class ProcessState(ProcessId pid, string name, AddressSpace mm, VirtualAddress initialStackPointer)
{
    public ProcessId Pid { get; } = pid;
    public string Name { get; } = name;
    public AddressSpace Mm { get; } = mm;
    public VirtualAddress InitialStackPointer { get; } = initialStackPointer;
    public Dictionary<string, (VirtualAddress Start, ulong Length)> Regions { get; init; } = [];
    public Counters Counters { get; } = new();

    /// <summary>Shared-memory objects this process's shared anonymous mappings made so far.</summary>
    public int ShmemObjects { get; set; }
    public ProcessFate Fate { get; set; } = ProcessFate.Running;
    public bool Alive => Fate == ProcessFate.Running;
}

namespace Faultsim.Model.Addressing;

/// <summary>What a memory access does: read data, write data, or fetch an instruction.</summary>
public enum AccessKind
{
    Read,
    Write,
    Fetch,
}

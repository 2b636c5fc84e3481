namespace Faultsim.Model.Addressing;

/// <summary>The four levels of an x86-64 page table, numbered from the leaf up.</summary>
public enum Level
{
    /// <summary>Page table: its entries are the PTEs that map 4 KiB pages.</summary>
    Pt = 0,
    /// <summary>Page directory.</summary>
    Pd = 1,
    /// <summary>Page-directory-pointer table.</summary>
    Pdpt = 2,
    /// <summary>Page-map level 4: the root, pointed to by CR3.</summary>
    Pml4 = 3,
}

using Faultsim.Model.Addressing;
using Faultsim.Model.PageTables;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.Faults;

/// <summary>
/// The x86 page-fault error code the CPU pushes: P (bit 0) the entry was present, so this is a
/// protection fault; W (bit 1) a write; U (bit 2) from user mode; R (bit 3) a reserved bit was
/// set; I (bit 4) an instruction fetch.
/// </summary>
public readonly record struct FaultErrorCode(uint Raw)
{
    private const uint PresentBit = 1 << 0, WriteBit = 1 << 1, UserBit = 1 << 2, ReservedBit = 1 << 3, FetchBit = 1 << 4;

    public bool Present => (Raw & PresentBit) != 0;
    public bool Write => (Raw & WriteBit) != 0;
    public bool User => (Raw & UserBit) != 0;
    public bool Reserved => (Raw & ReservedBit) != 0;
    public bool Fetch => (Raw & FetchBit) != 0;

    /// <summary>The access that faulted.</summary>
    public AccessKind Access => Fetch ? AccessKind.Fetch : Write ? AccessKind.Write : AccessKind.Read;

    public static FaultErrorCode For(AccessKind access, bool present, bool user) => new(
        (present ? PresentBit : 0)
        | (access == AccessKind.Write ? WriteBit : 0)
        | (user ? UserBit : 0)
        | (access == AccessKind.Fetch ? FetchBit : 0));

    /// <summary>
    /// The code of a fault an access of <paramref name="mode"/> raises: P when the TLB's cached entry forbade the access
    /// (<paramref name="cachedEntryForbade"/>: a protection fault raised from it) or the walk found <paramref name="walked"/>
    /// present; U for a user-mode access.
    /// </summary>
    public static FaultErrorCode Raised(AccessKind access, AccessMode mode, bool cachedEntryForbade, Pte walked) =>
        For(access, cachedEntryForbade || walked.IsPresent, user: mode == AccessMode.User);

    /// <summary>The bits by name, e.g. "P|W|U"; "-" when none is set.</summary>
    public override string ToString()
    {
        var parts = new List<string>(5);
        if (Present) parts.Add("P");
        if (Write) parts.Add("W");
        if (User) parts.Add("U");
        if (Reserved) parts.Add("R");
        if (Fetch) parts.Add("I");
        return parts.Count == 0 ? "-" : string.Join('|', parts);
    }
}

using Faultsim.Model.Addressing;

namespace Faultsim.Model.Vmas;

/// <summary>A virtual memory area: the page-aligned range [<see cref="Start"/>, <see cref="End"/>) with one set of flags and one backing.</summary>
public sealed record Vma(VirtualAddress Start, VirtualAddress End, VmaFlags Flags, Backing Backing)
{
    public ulong Length => End - Start;
    public PageNumber FirstPage => Start.Page;
    public PageNumber EndPage => End.Page;
    public bool IsShared => (Flags & VmaFlags.Shared) != 0;
    public bool IsAnonymous => Backing is Backing.Anonymous;
    public bool GrowsDown => (Flags & VmaFlags.GrowsDown) != 0;
    public bool IsLocked => (Flags & VmaFlags.Locked) != 0;

    /// <summary>
    /// vma_wants_writenotify: a shared mapping of a file whose filesystem must hear of the first write to a clean page
    /// (page_mkwrite: ext4 and the like). Its pages are mapped read-only until written, and a write to a clean one is a
    /// fault of its own. Shmem (shared anonymous memory, tmpfs, memfd) is not told: its pages are mapped writable at once.
    /// </summary>
    public bool WantsWriteNotify => IsShared && Backing is Backing.File { Shmem: false };
    public bool CanRead => (Flags & VmaFlags.Read) != 0;
    public bool CanWrite => (Flags & VmaFlags.Write) != 0;
    public bool CanExec => (Flags & VmaFlags.Exec) != 0;

    /// <summary>Whether any access is allowed (not PROT_NONE): a page mapped in an inaccessible VMA is kept, not present.</summary>
    public bool IsAccessible => (Flags & VmaFlags.Protection) != 0;

    /// <summary>
    /// Whether a private mapping has had an anonymous page (Linux's vma->anon_vma, made by the first fault that allocates
    /// or copies one — never by mapping the zero page or a page-cache page — and kept by the VMA's pieces, its merges and
    /// a fork's copy). fork copies the PTEs of such a VMA only (<see cref="AddressSpaces.AddressSpace.Fork"/>); elsewhere
    /// the child's faults fill them from the page cache or the zero page. Not part of how a page is mapped (<see cref="MapsAlike"/>).
    /// </summary>
    public bool HasAnonymousPages { get; init; }

    public bool Contains(VirtualAddress address) => address >= Start && address < End;

    /// <summary>Whether an access of <paramref name="kind"/> is allowed by this VMA (x86 reads are allowed by any of r, w, x).</summary>
    public bool Permits(AccessKind kind) => kind switch
    {
        AccessKind.Write => CanWrite,
        AccessKind.Fetch => CanExec,
        _ => IsAccessible,
    };

    /// <summary>
    /// Whether <paramref name="other"/> maps <paramref name="page"/> as this VMA does — the same protection, flags and
    /// backing there — so that a fault decided under this VMA may still install under <paramref name="other"/> (a change
    /// elsewhere in the VMA, such as an mprotect of another page that split it, does not matter to this page).
    /// </summary>
    public bool MapsAlike(Vma? other, PageNumber page) =>
        other is not null
        && (other == this
            || (Contains(page.BaseAddress) && other.Contains(page.BaseAddress) && other.Flags == Flags
                && other.IsAnonymous == IsAnonymous && other.FilePageOf(page) == FilePageOf(page)));

    /// <summary>The file page behind <paramref name="page"/>, for a file mapping.</summary>
    public FilePage? FilePageOf(PageNumber page) =>
        Backing is Backing.File file ? new FilePage(file.Id, file.PageOffset + (page - FirstPage)) : null;

    /// <summary>This VMA restricted to [<paramref name="start"/>, <paramref name="end"/>), with the file offset moved along.</summary>
    public Vma Slice(VirtualAddress start, VirtualAddress end) => this with
    {
        Start = start,
        End = end,
        Backing = Backing is Backing.File file
            ? file with { PageOffset = file.PageOffset + (start.Page - FirstPage) }
            : Backing,
    };

    /// <summary>Whether <paramref name="next"/> continues this VMA seamlessly, so the two merge into one (vma_merge).</summary>
    public bool CanMergeWith(Vma next) =>
        End == next.Start
        && Flags == next.Flags
        && Backing switch
        {
            Backing.Anonymous => next.Backing is Backing.Anonymous,
            Backing.File file => next.Backing is Backing.File other
                                 && other.Id == file.Id
                                 && other.PageOffset == file.PageOffset + (EndPage - FirstPage),
            _ => false,
        };

    public override string ToString() => $"[{Start}, {End}) {Flags} {Backing}";
}

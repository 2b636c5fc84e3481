using Faultsim.Model.Addressing;

namespace Faultsim.Model.Vmas;

/// <summary>What fills a VMA's pages: zeroes (anonymous) or a file.</summary>
public abstract record Backing
{
    private Backing() { }

    /// <summary>Anonymous memory: pages start as zeroes and are swapped, not written back.</summary>
    public sealed record Anonymous : Backing
    {
        public static readonly Anonymous Instance = new();
        public override string ToString() => "anon";
    }

    /// <summary>
    /// A file mapping starting at page <paramref name="PageOffset"/> of the file. <paramref name="Shmem"/>: the file is
    /// shmem — a shared anonymous mapping's object, or a tmpfs / memfd file — whose mappings take no write-notify fault
    /// (shmem has no page_mkwrite: a shared writable mapping maps its pages writable at once).
    /// </summary>
    public sealed record File(FileId Id, ulong PageOffset, bool Shmem = false) : Backing
    {
        public override string ToString() => $"{Id}@{PageOffset}";
    }
}

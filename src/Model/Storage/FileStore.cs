using Faultsim.Model.Addressing;

namespace Faultsim.Model.Storage;

/// <summary>
/// The files on the simulated disk, with their page contents and the pages written back to them; a shared-memory
/// object's pages are written here when evicted (its swap) and read back from here.
/// </summary>
public sealed class FileStore
{
    private readonly Dictionary<FilePage, ulong[]> _written = [];

    /// <summary>The page's content on disk: what was written back, else a fixed pattern unique to (file, page, word).</summary>
    public void Read(FilePage page, Span<ulong> into)
    {
        if (_written.TryGetValue(page, out var content))
        {
            content.CopyTo(into);
            return;
        }
        for (var w = 0; w < into.Length; w++)
            into[w] = InitialWord(page, w);
    }

    /// <summary>The pages written back so far.</summary>
    public IEnumerable<FilePage> WrittenPages => _written.Keys;

    /// <summary>Writes a dirty page back (writeback of a shared file mapping).</summary>
    public void Write(FilePage page, ReadOnlySpan<ulong> content) => _written[page] = content.ToArray();

    /// <summary>
    /// The initial content of word <paramref name="word"/>: never zero for a file, so a file page is told apart from a
    /// zeroed one; zero for a shared-memory object, which starts as zeroes.
    /// </summary>
    public static ulong InitialWord(FilePage page, int word) =>
        FileTable.IsShmem(page.File) ? 0 : Mix(((ulong)(uint)page.File.Value << 48) ^ (page.Index << 8) ^ (uint)word) | 1;

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53UL;
        return x ^ (x >> 33);
    }
}

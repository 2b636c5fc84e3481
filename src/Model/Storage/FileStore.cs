using Faultsim.Model.Addressing;

namespace Faultsim.Model.Storage;

/// <summary>The files on the simulated disk: their sizes and page contents, plus pages written back to them.</summary>
public sealed class FileStore
{
    private readonly List<(string Name, ulong Size)> _files = [];
    private readonly Dictionary<FilePage, ulong[]> _written = [];

    public int Count => _files.Count;

    public FileId Add(string name, ulong size)
    {
        _files.Add((name, size));
        return new FileId(_files.Count - 1);
    }

    public string Name(FileId file) => _files[file.Value].Name;
    public ulong Size(FileId file) => _files[file.Value].Size;

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

    /// <summary>The initial content of word <paramref name="word"/>: never zero, so a file page is told apart from a zeroed one.</summary>
    public static ulong InitialWord(FilePage page, int word) =>
        Mix(((ulong)(uint)page.File.Value << 48) ^ (page.Index << 8) ^ (uint)word) | 1;

    private static ulong Mix(ulong x)
    {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53UL;
        return x ^ (x >> 33);
    }
}

using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Model.Storage;

/// <summary>
/// The files a machine knows, for every engine alike: the workload's, numbered in order, and the shared-memory
/// objects that shared anonymous mappings create (MAP_SHARED|MAP_ANONYMOUS, which Linux backs with shmem): a file of
/// zeroes with no name on disk, one per mapping, that every process mapping it — a forked child too — shares. A
/// process's nth such object has an id and a name of its own (shmem:pid1#0), so both engines name it alike.
/// </summary>
public sealed class FileTable
{
    /// <summary>Ids from here on are shared-memory objects: the creating pid above bit 8, its object's number below.</summary>
    public const int ShmemBase = 1 << 22;

    private readonly ImmutableArray<FileSpec> _files;
    private readonly Dictionary<string, FileId> _ids;

    public FileTable(IEnumerable<FileSpec> files)
    {
        _files = [.. files];
        _ids = _files.Select((f, i) => (f.Name, Id: new FileId(i))).ToDictionary(f => f.Name, f => f.Id);
    }

    public IReadOnlyList<FileSpec> Files => _files;

    public FileId IdOf(string name) =>
        _ids.TryGetValue(name, out var id) ? id : throw new ArgumentException($"no file '{name}'", nameof(name));

    public static bool IsShmem(FileId file) => file.Value >= ShmemBase;

    /// <summary>Whether <paramref name="file"/> is shmem: a shared-memory object, or a workload file on tmpfs (a memfd) — its pages live in memory (and swap) alone, holes until written.</summary>
    public bool IsShmemFile(FileId file) => IsShmem(file) || _files[file.Value].Tmpfs;

    /// <summary>The <paramref name="index"/>th shared-memory object <paramref name="creator"/> made.</summary>
    public static FileId Shmem(ProcessId creator, int index) =>
        index is >= 0 and < 256 && creator.Value is > 0 and < (1 << 13)
            ? new FileId(ShmemBase | (creator.Value << 8) | index)
            : throw new ArgumentOutOfRangeException(nameof(index), $"pid {creator.Value} cannot have shared-memory object {index}");

    /// <summary>A shared-memory object is as long as the mapping that shows it: no access goes past its end.</summary>
    public ulong Size(FileId file) => IsShmem(file) ? ulong.MaxValue : _files[file.Value].Size;

    public string Name(FileId file) =>
        IsShmem(file) ? $"shmem:pid{(file.Value - ShmemBase) >> 8}#{file.Value & 255}" : _files[file.Value].Name;

    /// <summary>
    /// What a mapping (a region a process starts with, or an mmap) maps: the named file from <paramref name="fileOffset"/>,
    /// a new shared-memory object for a shared anonymous mapping (<paramref name="shmemObjects"/> counts those of
    /// <paramref name="creator"/>), or anonymous memory.
    /// </summary>
    public Backing BackingFor(string? file, ulong fileOffset, VmaFlags flags, ProcessId creator, ref int shmemObjects)
    {
        if (file is not null)
            return new Backing.File(IdOf(file), fileOffset / VirtualAddress.PageSize, _files[IdOf(file).Value].Tmpfs);
        if ((flags & VmaFlags.Shared) != 0)
            return new Backing.File(Shmem(creator, shmemObjects++), 0, Shmem: true);
        return Backing.Anonymous.Instance;
    }

    /// <summary>The VMA <paramref name="map"/> maps: its range with the call's VMA flags, backed as <see cref="BackingFor"/> says.</summary>
    public Vma VmaFor(SystemCall.Mmap map, ProcessId creator, ref int shmemObjects) =>
        new(map.Start, map.Start + map.Length, map.VmaFlags(), BackingFor(map.File, map.FileOffset, map.Flags, creator, ref shmemObjects));

    /// <summary>The VMAs a process starts with (as if exec had mapped its regions), and how many shared-memory objects they made.</summary>
    public IReadOnlyList<Vma> VmasOf(ProcessSpec process, ProcessId pid, out int shmemObjects)
    {
        var vmas = new VmaTree();
        shmemObjects = 0;
        foreach (var region in process.Regions)
            vmas.Map(new Vma(region.Start, region.Start + region.Length, region.Flags,
                BackingFor(region.File, region.FileOffset, region.Flags, pid, ref shmemObjects)));
        return vmas.All;
    }
}

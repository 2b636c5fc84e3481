using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.AddressSpaces;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Host.Configuration;

/// <summary>Reads the workload section: files, the processes the machine starts with, and the CPU scripts.</summary>
/// <param name="seed">The run's seed (faultsim.seed), which a generated workload's streams are drawn from.</param>
internal sealed class WorkloadReader(ConfigReader workload, MachineSpec machine, ulong seed)
{
    public Workload Read()
    {
        if (workload.Has(GeneratorReader.Section))
            return CheckBadPages(GeneratorReader.Read(workload, machine, seed));
        var files = workload.Names("files").Select(name => new FileSpec(name, workload.Size($"files.{name}.size"),
            workload.OptionalString($"files.{name}.fs") is not null && workload.Choice($"files.{name}.fs", "ext4", "tmpfs") == "tmpfs")).ToImmutableArray();
        CheckBadPages(new Workload(machine, files, [], []));
        var processes = workload.Names("processes").Select(name => ReadProcess(name, files)).ToImmutableArray();
        var keyed = workload.Names("cpus").Select(key => (Key: key, Script: ReadScript(key))).OrderBy(s => s.Script.Cpu.Value).ToList();
        var result = new Workload(machine, files, processes, [.. keyed.Select(s => s.Script)]);
        try
        {
            WorkloadValidator.Validate(result);
        }
        catch (WorkloadException e)
        {
            var culprit = keyed.FirstOrDefault(s => s.Script.Ops.Any(op => op.Line == e.Line)).Key;
            throw culprit is null ? new ConfigException(workload.Loaded.WorkloadSource.Origin, e.Line, e.Message) : ScriptError(culprit, e);
        }
        return result;
    }

    private Workload CheckBadPages(Workload result)
    {
        foreach (var (file, _) in machine.Disk.BadPages)
        {
            if (!result.Files.Any(f => f.Name == file))
                throw workload.Loaded.Error("faultsim.machine.disk.bad-pages", $"faultsim.machine.disk.bad-pages names file '{file}', which is not in the workload's files");
        }
        return result;
    }

    private ProcessSpec ReadProcess(string name, ImmutableArray<FileSpec> files)
    {
        CheckName(name, $"processes.{name}", "process");
        var regions = ImmutableArray.CreateBuilder<RegionSpec>();
        foreach (var regionName in workload.Names($"processes.{name}.regions"))
        {
            var region = ReadRegion($"processes.{name}.regions.{regionName}", regionName, files);
            if (regions.FirstOrDefault(r => WorkloadValidator.Overlap(r, region)) is { } other)
                throw workload.Error($"processes.{name}.regions.{regionName}", $"overlaps region '{other.Name}' of the same process; move one of them");
            regions.Add(region);
        }
        var sp = workload.Has($"processes.{name}.stack-pointer")
            ? new VirtualAddress(workload.Size($"processes.{name}.stack-pointer"))
            : (VirtualAddress?)null;
        return new ProcessSpec(name, regions.ToImmutable(), sp);
    }

    private RegionSpec ReadRegion(string path, string name, ImmutableArray<FileSpec> files)
    {
        CheckName(name, path, "region");
        var size = workload.Size($"{path}.size");
        if (size == 0 || size % VirtualAddress.PageSize != 0)
            throw workload.Error($"{path}.size", $"is {size}; use a positive multiple of the 4K page size");
        ulong start;
        if (workload.Has($"{path}.start") == workload.Has($"{path}.end"))
            throw workload.Error(path, "needs exactly one of start and end");
        if (workload.Has($"{path}.start"))
        {
            start = workload.Size($"{path}.start");
        }
        else
        {
            var end = workload.Size($"{path}.end");
            if (end < size)
                throw workload.Error($"{path}.end", $"is below the region's size {size}");
            start = end - size;
        }
        if (start % VirtualAddress.PageSize != 0)
            throw workload.Error(workload.Has($"{path}.start") ? $"{path}.start" : $"{path}.end", $"puts the region at 0x{start:x}, which is not page-aligned");
        if (AddressSpace.MapRefusal(new VirtualAddress(start), size) is { } refusal)
            throw workload.Error(workload.Has($"{path}.start") ? $"{path}.start" : $"{path}.end", $"is refused: the region {refusal}");
        var prot = workload.Has($"{path}.prot") ? Protection(workload, $"{path}.prot") : VmaFlags.Read | VmaFlags.Write;
        var flags = prot
                    | (workload.Bool($"{path}.shared") ? VmaFlags.Shared : 0)
                    | (workload.Bool($"{path}.grows-down") ? VmaFlags.GrowsDown : 0);
        var file = workload.OptionalString($"{path}.file");
        if (file is not null && !files.Any(f => f.Name == file))
            throw workload.Error($"{path}.file", $"names file '{file}', which is not under workload.files");
        var offset = workload.Has($"{path}.offset") ? workload.Size($"{path}.offset") : 0;
        if (offset % VirtualAddress.PageSize != 0)
            throw workload.Error($"{path}.offset", $"is {offset}; use a multiple of the 4K page size");
        return new RegionSpec(name, new VirtualAddress(start), size, flags, file, offset);
    }

    private CpuScript ReadScript(string key)
    {
        if (!int.TryParse(key, out var cpu) || cpu < 0)
            throw workload.Error($"cpus.{key}", "should be named by a CPU number, e.g. 0 = \"\"\" … \"\"\"");
        try
        {
            return new CpuScript(new CpuId(cpu), ScriptParser.Parse(workload.String($"cpus.{key}"), workload.ValueLine($"cpus.{key}")));
        }
        catch (WorkloadException e)
        {
            throw ScriptError(key, e);
        }
    }

    /// <summary>
    /// An error in the script of cpus.<paramref name="key"/>, at its line in the workload's file; or, when a
    /// --set gave that script, at the --set, whose text has no lines (the file's line would point elsewhere).
    /// </summary>
    private ConfigException ScriptError(string key, WorkloadException e)
    {
        var setter = workload.Loaded.Error($"{ConfigSchema.WorkloadPath}.cpus.{key}", e.Message);
        return setter.Line is null ? setter : new ConfigException(workload.Loaded.WorkloadSource.Origin, e.Line, e.Message);
    }

    private static VmaFlags Protection(ConfigReader reader, string path)
    {
        var text = reader.String(path).ToLowerInvariant();
        if (text == "none")
            return VmaFlags.None;
        if (text.Length == 0 || !text.All(c => c is 'r' or 'w' or 'x' or '-'))
            throw reader.Error(path, $"is '{text}'; write none or letters of rwx, e.g. rw or r-x");
        return (text.Contains('r') ? VmaFlags.Read : 0) | (text.Contains('w') ? VmaFlags.Write : 0) | (text.Contains('x') ? VmaFlags.Exec : 0);
    }

    private void CheckName(string name, string path, string what)
    {
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_') || !name.All(c => char.IsLetterOrDigit(c) || c == '_'))
            throw workload.Error(path, $"has a bad {what} name '{name}'; use letters, digits and _");
    }
}

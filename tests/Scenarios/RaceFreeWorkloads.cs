using System.Text;
using Faultsim.Model.Addressing;
using Faultsim.Model.Common;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Scenarios;

/// <summary>
/// Generates race-free workloads from a seed: CPUs run threads of one or two processes, and each
/// CPU touches only pages it owns (of an anonymous heap and a region it maps itself) and files it
/// owns (a shared and a private file mapping of its own: the page cache reads a file's pages ahead
/// and maps them around a fault, so two CPUs on pages of one file would race even on distinct
/// pages), so every engine must give the same counts and the same final memory however it
/// interleaves them. With several CPUs, each passes a barrier after switching to its process:
/// a shootdown's targets are the CPUs in its mm's mask, and without it they would depend on
/// whether another CPU had switched in yet.
/// </summary>
public static class RaceFreeWorkloads
{
    private const int PagesPerCpu = 8;

    public static Workload Generate(ulong seed, int cpus)
    {
        var random = new SimRandom(seed);
        var processes = 1 + random.Next(2);
        var heapPages = (ulong)(cpus * PagesPerCpu);
        var filePages = (ulong)PagesPerCpu * 4096;
        var specs = Enumerable.Range(0, processes).Select(p => new ProcessSpec($"p{p}",
        [
            new RegionSpec("heap", new VirtualAddress(0x1000_0000), heapPages * 4096, VmaFlags.Read | VmaFlags.Write, null, 0),
            .. Enumerable.Range(0, cpus).SelectMany(c => new[]
            {
                new RegionSpec($"lib{c}", new VirtualAddress(0x2000_0000 + (ulong)c * 0x10_0000), filePages, VmaFlags.Read | VmaFlags.Write, $"lib{c}", 0),
                new RegionSpec($"data{c}", new VirtualAddress(0x3000_0000 + (ulong)c * 0x10_0000), filePages, VmaFlags.Read | VmaFlags.Write | VmaFlags.Shared, $"data{c}", 0),
            }),
        ], null)).ToList();
        var scripts = Enumerable.Range(0, cpus).Select(cpu => new CpuScript(new CpuId(cpu),
            ScriptParser.Parse(Script(random, cpu, cpus, $"p{cpu % processes}"), 1))).ToList();
        var files = Enumerable.Range(0, cpus).SelectMany(c => new[] { new FileSpec($"lib{c}", filePages), new FileSpec($"data{c}", filePages) }).ToArray();
        return new Workload(new MachineSpec { Cpus = cpus }, [.. files], [.. specs], [.. scripts]);
    }

    /// <summary>
    /// The workload <see cref="Generate"/> makes from the same seed, as the text of a config file (what a cluster run's
    /// nodes are given): the same files, regions and scripts.
    /// </summary>
    public static string Hocon(ulong seed, int cpus)
    {
        var random = new SimRandom(seed);
        var processes = 1 + random.Next(2);
        var heapBytes = cpus * PagesPerCpu * 4096;
        var fileBytes = PagesPerCpu * 4096;
        var s = new StringBuilder($"faultsim.machine.cpus = {cpus}\nfaultsim.workload {{\n  files {{\n");
        for (var c = 0; c < cpus; c++)
            s.AppendLine($"    lib{c} {{ size = {fileBytes} }}\n    data{c} {{ size = {fileBytes} }}");
        s.AppendLine("  }\n  processes {");
        for (var p = 0; p < processes; p++)
        {
            s.AppendLine($"    p{p} {{ regions {{\n      heap {{ start = 0x10000000, size = {heapBytes}, prot = rw }}");
            for (var c = 0; c < cpus; c++)
            {
                s.AppendLine($"      lib{c} {{ start = 0x{0x2000_0000 + c * 0x10_0000:x}, size = {fileBytes}, prot = rw, file = lib{c} }}");
                s.AppendLine($"      data{c} {{ start = 0x{0x3000_0000 + c * 0x10_0000:x}, size = {fileBytes}, prot = rw, file = data{c}, shared = on }}");
            }
            s.AppendLine("    } }");
        }
        s.AppendLine("  }\n  cpus {");
        for (var cpu = 0; cpu < cpus; cpu++)
            s.AppendLine($"    {cpu} = \"\"\"\n{Script(random, cpu, cpus, $"p{cpu % processes}")}\"\"\"");
        s.AppendLine("  }\n}");
        return s.ToString();
    }

    /// <summary>A script over the pages <paramref name="cpu"/> owns: page p of a shared region is its own when p mod cpus = cpu.</summary>
    private static string Script(SimRandom random, int cpu, int cpus, string process)
    {
        var s = new StringBuilder($"run {process}\n{(cpus > 1 ? "barrier started\n" : "")}");
        var own = $"own{cpu}";
        var ownStart = 0x4000_0000UL + (ulong)cpu * 0x10_0000;
        var mapped = false;
        int OwnPage() => cpu + cpus * random.Next(PagesPerCpu);
        for (var i = 0; i < 12 + random.Next(24); i++)
        {
            switch (random.Next(11))
            {
                case 10:
                    string[] advice = ["normal", "sequential", "random", "willneed"];
                    s.AppendLine($"madvise {(random.Next(2) == 0 ? "lib" : "data")}{cpu} {advice[random.Next(advice.Length)]}");
                    break;
                case 0 or 1: s.AppendLine($"store heap:{OwnPage()}"); break;
                case 2: s.AppendLine($"load heap:{OwnPage()}"); break;
                case 3: s.AppendLine($"load lib{cpu}:{random.Next(PagesPerCpu)}"); break;
                case 4: s.AppendLine($"store lib{cpu}:{random.Next(PagesPerCpu)}"); break;
                case 5: s.AppendLine($"store data{cpu}:{random.Next(PagesPerCpu)}"); break;
                case 6: s.AppendLine($"madvise heap+{OwnPage() * 4096} 4096 dontneed"); break;
                case 7:
                    var page = (ulong)OwnPage() * 4096;
                    s.AppendLine($"mprotect heap+{page} 4096 r\nload heap+{page + (ulong)cpu * 8}\nmprotect heap+{page} 4096 rw");
                    break;
                case 8 when !mapped:
                    s.AppendLine($"mmap {own} 0x{ownStart:x} 32K rw anon");
                    mapped = true;
                    break;
                case 8:
                    s.AppendLine($"store {own}:{random.Next(8)}");
                    break;
                default:
                    if (mapped) s.AppendLine($"munmap {own}");
                    mapped = false;
                    break;
            }
        }
        return s.ToString();
    }
}

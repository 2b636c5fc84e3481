using Faultsim.Host.Configuration;
using Faultsim.Model.Addressing;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Host;

/// <summary>Reading the workload section: regions, files and scripts, with errors at their line in the config file.</summary>
public sealed class WorkloadReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Write(string text) => _dir.Write("workload.conf", text);

    private Workload Read(string text) => SimSettings.From(ConfigLoader.Load(Write(text), [])).Workload;

    private ConfigException Invalid(string text, out string path)
    {
        path = Write(text);
        var file = path;
        return Assert.Throws<ConfigException>(() => SimSettings.From(ConfigLoader.Load(file, [])));
    }

    /// <summary>A workload of process p with <paramref name="regions"/> (starting on line 4) and a one-line script.</summary>
    private static string Regions(string regions, string files = "") => $$"""
        faultsim.workload {
          files { {{files}} }
          processes { p { regions {
            {{regions}}
          } } }
          cpus { 0 = "run p" }
        }
        """;

    [Fact]
    public void Regions_files_and_scripts_are_read_with_their_flags()
    {
        var workload = Read(""""
            faultsim.workload {
              files { data { size = 8K } }
              processes {
                p {
                  stack-pointer = 0x7fff0000
                  regions {
                    code { start = 0x400000, size = 8K, prot = r-x, file = data, offset = 4K }
                    stack { end = 0x7fff1000, size = 64K, grows-down = on }
                    shm { start = 0x20000000, size = 4K, prot = rw, shared = on }
                  }
                }
              }
              cpus {
                1 = "run p"
                0 = """
                  run p
                  load code:0
                """
              }
            }
            """");
        Assert.Equal([new FileSpec("data", 8192)], workload.Files.ToArray());
        var p = Assert.Single(workload.Processes);
        Assert.Equal(new VirtualAddress(0x7fff_0000), p.StackPointer);
        Assert.Equal(new RegionSpec("code", new VirtualAddress(0x40_0000), 8192, VmaFlags.Read | VmaFlags.Exec, "data", 4096), p.Regions[0]);
        Assert.Equal(new RegionSpec("stack", new VirtualAddress(0x7fff_1000 - 0x1_0000), 0x1_0000, VmaFlags.Read | VmaFlags.Write | VmaFlags.GrowsDown, null, 0), p.Regions[1]);
        Assert.Equal(VmaFlags.Read | VmaFlags.Write | VmaFlags.Shared, p.Regions[2].Flags);
        Assert.Equal([0, 1], workload.Scripts.Select(s => s.Cpu.Value));
        Assert.Equal(2, workload.Scripts[0].Ops.Length);
    }

    [Fact]
    public void Overlapping_regions_of_one_process_are_refused_at_the_second_ones_line()
    {
        var e = Invalid(Regions("a { start = 0x10000, size = 8K }\n    b { start = 0x11000, size = 4K }"), out var path);
        Assert.Equal(path, e.Origin);
        Assert.Equal(5, e.Line);
        Assert.Contains("overlaps region 'a' of the same process", e.Message);
    }

    [Theory]
    [InlineData("a { start = 0x10001, size = 4K }", "puts the region at 0x10001, which is not page-aligned")]
    [InlineData("a { end = 0x10001, size = 4K }", "puts the region at 0xf001, which is not page-aligned")]
    [InlineData("a { start = 0x10000, size = 100 }", "is 100; use a positive multiple of the 4K page size")]
    [InlineData("a { start = 0x10000, end = 0x20000, size = 4K }", "needs exactly one of start and end")]
    [InlineData("a { size = 4K }", "needs exactly one of start and end")]
    [InlineData("a { end = 0x1000, size = 8K }", "is below the region's size")]
    [InlineData("a { start = 0x7ffffffff000, size = 8K }", "ends at 0x800000001000, past the user address space (0x800000000000, 2^47)")]
    [InlineData("a { start = 0xfffffffffffff000, size = 8K }", "ends past 2^64 (0xfffffffffffff000 + 0x2000 wraps around)")]
    [InlineData("a { start = 0x800000000000, size = 4K }", "past the user address space")]
    [InlineData("a { start = 0, size = 4K }", "starts at 0x0, below mmap_min_addr (0x10000)")]
    [InlineData("a { end = 0x10000, size = 8K }", "starts at 0xe000, below mmap_min_addr (0x10000)")]
    [InlineData("a { start = 0x10000, size = 4K, prot = rwq }", "is 'rwq'; write none or letters of rwx")]
    [InlineData("a { start = 0x10000, size = 4K, file = ghost }", "names file 'ghost', which is not under workload.files")]
    [InlineData("a { start = 0x10000, size = 4K, file = data, offset = 100 }", "is 100; use a multiple of the 4K page size")]
    [InlineData("9a { start = 0x10000, size = 4K }", "has a bad region name '9a'")]
    public void A_bad_region_is_refused_at_its_line_with_the_reason(string region, string message)
    {
        var e = Invalid(Regions(region, files: "data { size = 4K }"), out var path);
        Assert.Equal(path, e.Origin);
        Assert.Equal(4, e.Line);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_script_error_is_reported_at_its_line_in_the_config_file()
    {
        var e = Invalid(""""
            faultsim.workload {
              processes { p { regions { buf { start = 0x10000, size = 4K } } } }
              cpus {
                0 = """
                  run p

                  jump buf
                """
              }
            }
            """", out var path);
        Assert.Equal(path, e.Origin);
        Assert.Equal(7, e.Line);
        Assert.StartsWith($"{path}:7: unknown operation 'jump'", e.Message);
    }

    [Fact]
    public void A_script_with_blank_lines_before_its_first_operation_is_reported_at_the_right_line()
    {
        var e = Invalid(""""
            faultsim.workload {
              processes { p { regions { buf { start = 0x10000, size = 4K } } } }
              cpus {
                0 = """

                  # the script
                  run p
                  jump buf
                """
              }
            }
            """", out _);
        Assert.Equal(8, e.Line);
    }

    [Fact]
    public void A_script_starting_on_the_line_of_its_quotes_is_reported_at_the_right_line()
    {
        var e = Invalid(""""
            faultsim.workload {
              processes { p { regions { buf { start = 0x10000, size = 4K } } } }
              cpus {
                0 = """run p
                  jump buf
                """
              }
            }
            """", out _);
        Assert.Equal(5, e.Line);
    }

    [Fact]
    public void A_one_line_script_error_is_reported_at_its_line()
    {
        var e = Invalid("faultsim.workload {\n  processes { p { regions { buf { start = 0x10000, size = 4K } } } }\n  cpus {\n    0 = \"jump\"\n  }\n}\n", out _);
        Assert.Equal(4, e.Line);
    }

    [Fact]
    public void A_validation_error_is_reported_at_the_scripts_line_in_the_config_file()
    {
        var e = Invalid(""""
            faultsim.workload {
              processes { p { regions { buf { start = 0x10000, size = 4K } } } }
              cpus {
                0 = """
                  run p
                  store buf:0
                  run ghost
                """
              }
            }
            """", out var path);
        Assert.StartsWith($"{path}:7: no process 'ghost'", e.Message);
    }

    [Fact]
    public void A_cpu_script_not_named_by_a_number_is_refused()
    {
        var e = Invalid("faultsim.workload {\n  processes { p { regions { buf { start = 0x10000, size = 4K } } } }\n  cpus {\n    first = \"run p\"\n  }\n}\n", out _);
        Assert.Equal(4, e.Line);
        Assert.Contains("should be named by a CPU number", e.Message);
    }
}

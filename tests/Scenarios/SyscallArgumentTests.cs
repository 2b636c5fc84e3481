using System.Text.Json;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Scenarios;

/// <summary>Memory system calls whose arguments Linux refuses with EINVAL fail alike on both engines, counted in syscall_errors.</summary>
public sealed class SyscallArgumentTests : IDisposable
{
    private readonly Faultsim.Tests.Host.TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string Config = """
        faultsim.checks.counts-match-reference = on
        faultsim.workload {
          processes { p { regions { buf { start = 0x10000, size = 16K } } } }
          cpus {
            0 = \"\"\"
              run p
              store buf:0..3
              munmap buf 0
              munmap buf 0xffffffffffffffff
              mprotect buf+8 4K r
              madvise buf+1 4K dontneed
              mprotect 0x7ffffffff000 8K r
              mprotect buf 0 r
              madvise buf 0 dontneed
              store buf:0..3
              munmap buf+4K 4K
              load buf:0
            \"\"\"
          }
        }
        """;

    [Theory]
    [InlineData("actors")]
    [InlineData("reference")]
    public void A_munmap_of_0_or_2_to_the_64_minus_1_bytes_and_an_unaligned_mprotect_or_madvise_fail_and_the_process_goes_on(string engine)
    {
        var path = _dir.Write("calls.conf", Config.Replace("\\\"", "\"", StringComparison.Ordinal));
        var (exit, output, error) = Cli("run", "--config", path, "--engine", engine, "--json", "-");
        Assert.True(exit == 0, error);
        var json = JsonDocument.Parse(output).RootElement;
        // Five refused: munmap 0, munmap 2^64-1, mprotect buf+8, madvise buf+1, mprotect past 2^47; the empty mprotect and
        // madvise succeed, doing nothing; the stores after them find the pages still mapped and writable.
        Assert.Equal(5, json.GetProperty("syscall_errors").GetInt64());
        Assert.Equal(4, json.GetProperty("faults").GetProperty("total").GetInt64());
        Assert.Equal("running", json.GetProperty("processes")[0].GetProperty("fate").GetString());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("violation").ValueKind);
    }
}

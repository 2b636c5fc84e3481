using System.Collections.Immutable;
using System.Text.Json;
using Faultsim.Host.KernelCheck;
using static Faultsim.Tests.Host.CliHarness;

namespace Faultsim.Tests.Host;

/// <summary>A test that needs what kernel-check needs — Linux and a C compiler on PATH — and is skipped, saying so, without them.</summary>
public sealed class NeedsCCompilerFactAttribute : FactAttribute
{
    public NeedsCCompilerFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
            Skip = "kernel-check measures the Linux kernel, and this is not Linux";
        else if (!(Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, "cc")) || File.Exists(Path.Combine(d, "gcc"))))
            Skip = "no C compiler (cc or gcc) on PATH: kernel-check cannot build its native helper here";
    }
}

public sealed class KernelCheckTests
{
    private static readonly Func<string, string?> NoCc = name => name == "CC" ? null : Environment.GetEnvironmentVariable(name);

    [NeedsCCompilerFact]
    public void Kernel_check_agrees_with_this_machines_kernel_on_every_pattern_that_does_not_depend_on_the_host()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Faultsim.Host.Cli.FaultsimCli.Run(["kernel-check", "--json", "-"], output, error, NoCc);
        using var json = JsonDocument.Parse(output.ToString());
        var rows = json.RootElement.GetProperty("patterns").EnumerateArray().ToList();
        var disagreeing = rows.Where(r => r.GetProperty("agree").ValueKind == JsonValueKind.False)
            .Select(r => $"{r.GetProperty("pattern").GetString()}/{r.GetProperty("part").GetString()}: Linux {r.GetProperty("linux")}, reference {r.GetProperty("reference")}, actors {r.GetProperty("actors")}");
        Assert.Empty(disagreeing);
        Assert.True(exit == 0, error.ToString());
        Assert.Equal(KernelPatterns.All.Select(p => p.Name), rows.Select(r => r.GetProperty("pattern").GetString()!).Distinct());
        Assert.True(KernelPatterns.All.Length >= 25);
        foreach (var row in rows.Where(r => r.GetProperty("agree").ValueKind == JsonValueKind.Null))
            Assert.False(string.IsNullOrEmpty(row.GetProperty("reason").GetString()), $"{row.GetProperty("pattern")} depends on the host without saying why");
        // Every pattern that can run on any Linux host ran here and agreed: only those that need a swap device, race two
        // threads or would oops the kernel may depend on the host.
        var dependent = rows.Where(r => r.GetProperty("agree").ValueKind == JsonValueKind.Null).Select(r => r.GetProperty("pattern").GetString()).ToHashSet();
        Assert.Subset(new HashSet<string?> { "two-cpus-one-page", "swap-out-and-in", "swap-cow-after-fork", "smap-kernel-access" }, dependent);
        Assert.Equal(rows.Count - dependent.Count, json.RootElement.GetProperty("agreed").GetInt32());
    }

    [NeedsCCompilerFact]
    public void The_table_names_each_pattern_with_linux_and_both_engines_and_says_why_a_row_depends_on_the_host()
    {
        var (exit, output, _) = Cli("kernel-check", "write-touch", "smap-kernel-access");
        Assert.Equal(0, exit);
        Assert.Contains("Linux", output);
        Assert.Contains("reference", output);
        Assert.Contains("actors", output);
        Assert.Matches(@"│ write-touch\s+│ p\s+│\s+32/0 │\s+32/0 │\s+32/0 │ yes", output);
        Assert.Matches(@"│ smap-kernel-access\s+│ p\s+│\s+not run │\s+0/0 OOPS │\s+0/0 OOPS │ — \(1\)", output);
        Assert.Contains("(1) not run natively: a kernel access to a user page outside a user copy oopses the kernel of this host", output);
        Assert.Contains("1 of 1 host-independent parts agree; 1 depend on this host", output);
    }

    [Fact]
    public void Without_a_c_compiler_kernel_check_is_bad_input_on_one_line()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Faultsim.Host.Cli.FaultsimCli.Run(["kernel-check", "--cc", "/no/such/cc"], output, error, NoCc);
        Assert.Equal(2, exit);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(OperatingSystem.IsLinux()
            ? "faultsim: --cc: names '/no/such/cc', which is not an executable file or on PATH; give the path of a C compiler"
            : "faultsim: kernel-check: measures the Linux kernel; run it on Linux", line);
    }

    [Fact]
    public void A_cc_variable_naming_no_compiler_is_bad_input_naming_it()
    {
        if (!OperatingSystem.IsLinux())
            return;
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = Faultsim.Host.Cli.FaultsimCli.Run(["kernel-check"], output, error, name => name == "CC" ? "no-such-compiler-here" : null);
        Assert.Equal(2, exit);
        Assert.Equal("faultsim: CC: names 'no-such-compiler-here', which is not an executable file or on PATH; give the path of a C compiler", error.ToString().Trim());
    }

    [Fact]
    public void An_unknown_pattern_is_bad_input_listing_the_patterns()
    {
        var (exit, _, err) = Cli("kernel-check", "no-such-pattern");
        Assert.Equal(2, exit);
        Assert.StartsWith("faultsim: no-such-pattern: is not a kernel-check pattern; use one of: write-touch, read-touch,", err.Trim());
    }

    [Fact]
    public void A_pattern_whose_counts_differ_from_linuxs_is_reported_as_disagreeing()
    {
        var pattern = KernelPatterns.All.Single(p => p.Name == "mprotect-upgrade");
        var native = NativeHelper.Parse("host zero-page on\nhost readahead-kb 128\nhost smap on\nresult mprotect-upgrade p 8 0 -1 ok\n");
        var row = Assert.Single(KernelChecker.Check(HostSettings.From(native.Host), native, [pattern], CancellationToken.None));
        Assert.Equal(new PartCount(8, 0, null, null), row.Linux);
        Assert.Equal((0L, 0L), (row.Reference.Minor, row.Reference.Major)); // the write upgrade: the second write takes no fault
        Assert.Equal((0L, 0L), (row.Actors.Minor, row.Actors.Major));
        Assert.False(row.Agree);
        Assert.Null(row.Reason);
    }

    [Fact]
    public void A_part_is_measured_between_its_marks_and_the_host_is_modelled_as_detected()
    {
        var pattern = KernelPatterns.All.Single(p => p.Name == "fork-three-generations");
        Assert.Equal(["child", "parent", "grandparent"], pattern.Parts.Select(p => p.Name));
        var native = NativeHelper.Parse("host zero-page off\nhost readahead-kb 8192\nhost smap off\nhost swap off\n");
        var host = HostSettings.From(native.Host);
        Assert.Equal((false, false, 8192UL * 1024, 65536UL), (host.ZeroPage, host.Smap, host.ReadaheadBytes, host.FaultAroundBytes));
        Assert.Contains("fault-around 64K (Linux's default; debugfs's fault_around_bytes is not readable)", host.Assumed);
        var rows = KernelChecker.Check(host, native, [pattern], CancellationToken.None);
        Assert.Equal([(8L, 8L), (8L, 8L), (8L, 0L)], rows.Select(r => (r.Reference.Minor, r.Reference.Copies!.Value)));
        Assert.All(rows, r => Assert.Equal("the native helper printed no result for this part", r.Reason));
        // Without the zero page a read allocates a frame, so the parent's VMA has anonymous pages and fork copies its PTEs.
        var zero = KernelChecker.Check(host, native, [KernelPatterns.All.Single(p => p.Name == "fork-child-reads-zero-page")], CancellationToken.None);
        Assert.Equal(0L, Assert.Single(zero).Actors.Minor);
    }

    [Fact]
    public void A_line_the_helper_never_prints_is_an_error_of_the_helper()
    {
        var e = Assert.Throws<KernelCheckException>(() => NativeHelper.Parse("result write-touch p 32\n"));
        Assert.Equal("the native helper printed 'result write-touch p 32', not 'result PATTERN PART MINFLT MAJFLT COPIES OUTCOME'", e.Message);
    }

    [Fact]
    public void Every_pattern_of_the_catalog_has_its_native_function_in_the_helper()
    {
        var source = NativeHelper.Source();
        foreach (var pattern in KernelPatterns.All)
            Assert.Contains($"{{ \"{pattern.Name}\", ", source);
        Assert.Equal(KernelPatterns.All.Length, System.Text.RegularExpressions.Regex.Matches(source, @"^    \{ ""[a-z0-9-]+"", [a-z_]+ \},$", System.Text.RegularExpressions.RegexOptions.Multiline).Count);
        Assert.Equal(KernelPatterns.All.Length, KernelPatterns.All.Select(p => p.Name).ToImmutableHashSet().Count);
    }
}

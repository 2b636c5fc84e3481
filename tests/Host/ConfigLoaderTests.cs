using Faultsim.Host.Configuration;

namespace Faultsim.Tests.Host;

/// <summary>Layering the embedded default, a --config file and --set overrides, with every key checked.</summary>
public sealed class ConfigLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private const string SoloWorkload = """
        faultsim.workload {
          processes { solo { regions { buf { start = 0x10000, size = 4K } } } }
          cpus { 0 = "run solo" }
        }
        """;

    private static SimSettings Settings(string? path, params string[] overrides) => SimSettings.From(ConfigLoader.Load(path, overrides));

    [Fact]
    public void An_unknown_key_in_a_config_file_names_the_file_and_line_and_suggests_the_nearest_key()
    {
        var path = _dir.Write("typo.conf", "faultsim {\n  seed = 3\n  machine {\n    cpuz = 2\n  }\n}\n");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, []));
        Assert.Equal(path, e.Origin);
        Assert.Equal(4, e.Line);
        Assert.StartsWith($"{path}:4: unknown key 'faultsim.machine.cpuz'", e.Message);
        Assert.Contains("did you mean 'faultsim.machine.cpus'?", e.Message);
    }

    [Fact]
    public void An_unknown_key_inside_the_workload_is_caught_too()
    {
        var path = _dir.Write("typo.conf", "faultsim.workload {\n  processes { p { regions { r {\n    start = 0x10000\n    sise = 4K\n  } } } }\n}\n");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, []));
        Assert.Equal(4, e.Line);
        Assert.Contains("unknown key 'faultsim.workload.processes.p.regions.r.sise'", e.Message);
        Assert.Contains("regions.*.size", e.Message);
    }

    [Fact]
    public void A_key_far_from_every_known_key_gets_no_suggestion_but_a_pointer_to_the_default_config()
    {
        var path = _dir.Write("typo.conf", "something.else.entirely = 1\n");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, []));
        Assert.Equal(1, e.Line);
        Assert.Contains("see config/faultsim.conf for every key", e.Message);
    }

    [Fact]
    public void An_unknown_key_given_with_set_names_the_set_argument_and_suggests_the_nearest_key()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["machine.cpuz=2"]));
        Assert.Equal("--set machine.cpuz=2", e.Origin);
        Assert.Null(e.Line);
        Assert.StartsWith("--set machine.cpuz=2: unknown key 'faultsim.machine.cpuz'; did you mean 'faultsim.machine.cpus'?", e.Message);
    }

    [Fact]
    public void A_set_argument_without_an_equals_sign_is_refused()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(null, ["machine.cpus"]));
        Assert.Contains("'machine.cpus' is not key=value", e.Message);
    }

    [Fact]
    public void A_bad_value_given_with_set_names_the_set_argument()
    {
        var e = Assert.Throws<ConfigException>(() => Settings(null, "machine.cpus=zero"));
        Assert.Equal("--set machine.cpus=zero", e.Origin);
        Assert.StartsWith("--set machine.cpus=zero: faultsim.machine.cpus is 'zero'; use a whole number from 1 to 1024", e.Message);
    }

    [Theory]
    [InlineData("workload.cpus.0=run nobody", "no process 'nobody'")]
    [InlineData("workload.cpus.0=jump", "unknown operation 'jump'")]
    public void A_bad_script_given_with_set_names_the_set_argument_not_a_line_of_a_file(string assignment, string message)
    {
        var path = _dir.Write("solo.conf", SoloWorkload);
        foreach (var file in new[] { null, path })
        {
            var e = Assert.Throws<ConfigException>(() => Settings(file, assignment));
            Assert.Equal($"--set {assignment}", e.Origin);
            Assert.Null(e.Line);
            Assert.Contains(message, e.Message);
        }
    }

    [Fact]
    public void A_missing_config_file_is_named_in_the_error()
    {
        var path = Path.Combine(_dir.Root, "absent.conf");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, []));
        Assert.Equal($"{path}: no such config file; check the path given to --config", e.Message);
    }

    [Fact]
    public void A_config_files_workload_replaces_the_default_workload_whole()
    {
        var path = _dir.Write("solo.conf", SoloWorkload);
        var settings = Settings(path);
        Assert.Equal(["solo"], settings.Workload.Processes.Select(p => p.Name));
        Assert.Empty(settings.Workload.Files);
        Assert.Equal(0, Assert.Single(settings.Workload.Scripts).Cpu.Value);
        Assert.Equal(path, settings.WorkloadOrigin);
        Assert.Equal(4, settings.Workload.Machine.Cpus);   // the machine still comes from the default
    }

    [Fact]
    public void A_config_file_without_a_workload_keeps_the_default_one()
    {
        var path = _dir.Write("machine.conf", "faultsim.machine.cpus = 8\n");
        var settings = Settings(path);
        Assert.Equal(8, settings.Workload.Machine.Cpus);
        Assert.Equal(["shell", "db"], settings.Workload.Processes.Select(p => p.Name));
        Assert.Equal(ConfigLoader.EmbeddedOrigin, settings.WorkloadOrigin);
    }

    [Fact]
    public void Set_overrides_win_over_the_config_file_and_the_last_set_of_a_key_wins()
    {
        var path = _dir.Write("machine.conf", "faultsim {\n  seed = 5\n  machine.cpus = 6\n}\n");
        Assert.Equal(6, Settings(path).Workload.Machine.Cpus);
        Assert.Equal(7, Settings(path, "machine.cpus=7").Workload.Machine.Cpus);
        Assert.Equal(8, Settings(path, "machine.cpus=7", "faultsim.machine.cpus=8").Workload.Machine.Cpus);
        Assert.Equal(5UL, Settings(path).Seed);
        Assert.Equal(9UL, Settings(path, "seed=9").Seed);
    }

    [Fact]
    public void A_set_override_of_a_workload_key_applies_to_the_config_files_workload()
    {
        var path = _dir.Write("solo.conf", SoloWorkload);
        var settings = Settings(path, "workload.processes.solo.regions.buf.size=8K");
        Assert.Equal(8192UL, Assert.Single(Assert.Single(settings.Workload.Processes).Regions).Length);
    }

    [Fact]
    public void The_embedded_default_loads_alone()
    {
        var settings = Settings(null);
        Assert.Equal("actors", settings.Engine);
        Assert.Equal(1UL, settings.Seed);
        Assert.Equal(4, settings.Workload.Scripts.Length);
        Assert.Contains("faultsim {", ConfigLoader.DefaultConfigText);
    }

    [Fact]
    public void A_malformed_config_file_is_refused_with_its_line()
    {
        var path = _dir.Write("broken.conf", "faultsim {\n  machine {\n    cpus = 2\n");
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(path, []));
        Assert.Equal(path, e.Origin);
        Assert.Equal(2, e.Line);
    }
}

using Faultsim.Actors.Scheduling;
using Faultsim.Host.Configuration;
using Faultsim.Host.Running;
using Faultsim.Model.Faults;

namespace Faultsim.Tests.Host;

/// <summary>faultsim.workload.generator read from a config: its keys and defaults, its bad input, and both engines running what it makes.</summary>
public sealed class GeneratorConfigTests
{
    private static SimSettings Load(string text, params string[] overrides) => SimSettings.From(ConfigLoader.LoadText(("gen.conf", text), overrides));

    private static string Error(string text, params string[] overrides) => Assert.Throws<ConfigException>(() => Load(text, overrides)).Message;

    [Fact]
    public void A_generator_section_makes_the_workload_with_the_default_of_every_key_it_leaves_out()
    {
        var settings = Load("faultsim { machine.cpus = 2, workload.generator { kind = zipf } }");
        Assert.Equal(["gen"], settings.Workload.Processes.Select(p => p.Name));
        Assert.Equal(256UL * 4096, settings.Workload.Processes[0].Regions[0].Length);
        Assert.Equal(2, settings.Workload.Scripts.Length);
        var result = ReferenceRun(settings);
        Assert.Equal(2 * 10_000, result.Totals.Accesses);
    }

    [Fact]
    public void A_generator_given_with_set_replaces_the_scripted_workload_of_the_default_config()
    {
        var settings = SimSettings.From(ConfigLoader.Load(null, ["workload.generator.kind=churn", "workload.generator.rounds=3", "machine.cpus=2"]));
        Assert.Equal(["churn"], settings.Workload.Processes.Select(p => p.Name));
        Assert.Equal(2 * 3 * 4, ReferenceRun(settings).Totals[ResolutionKind.DemandZero]);
    }

    [Theory]
    [InlineData("kind = zigzag", 3, "faultsim.workload.generator.kind is 'zigzag'; use one of sequential, strided, uniform, zipf, herd, cow-storm, churn, stack, file-read, mix")]
    [InlineData("kind = zipf\n    theta = -1", 4, "faultsim.workload.generator.theta is '-1'; use a number from 0 to 10")]
    [InlineData("kind = stack\n    pages = 4096", 4, "faultsim.workload.generator.pages is 4096: a stack that deep passes machine.stack.limit (8192K); use at most 2048 pages")]
    [InlineData("kind = strided\n    pages = 8\n    stride = 9", 5, "faultsim.workload.generator.stride is 9, more than the region's 8 pages; use a stride from 1 to pages")]
    [InlineData("kind = mix\n    mix { random = 1 }", 4, "faultsim.workload.generator.mix.random is not a kind a mix takes; weigh sequential, strided, uniform, zipf, herd, cow-storm, churn, stack, file-read")]
    [InlineData("kind = mix\n    mix { zipf = 0 }", 4, "faultsim.workload.generator.mix weighs nothing; give at least one of sequential, strided, uniform, zipf, herd, cow-storm, churn, stack, file-read a weight above 0")]
    [InlineData("kind = mix\n    pages = 4096\n    mix { stack = 1 }", 4, "faultsim.workload.generator.pages is 4096: a stack that deep passes machine.stack.limit (8192K); use at most 2048 pages")]
    [InlineData("kind = herd\n    backing = tape", 4, "faultsim.workload.generator.backing is 'tape'; use one of file, anon")]
    [InlineData("kind = file-read\n    cache = hot", 4, "faultsim.workload.generator.cache is 'hot'; use one of cold, warm")]
    [InlineData("kind = uniform\n    accesses = lots", 4, "faultsim.workload.generator.accesses is 'lots'; use a whole number from 1 to 4,611,686,018,427,387,903")]
    [InlineData("pages = 4", 2, "faultsim.workload.generator has no kind; say which workload to generate: sequential, strided, uniform, zipf, herd, cow-storm, churn, stack, file-read, mix")]
    public void A_bad_generator_key_is_one_error_at_its_file_and_line(string body, int line, string message)
    {
        Assert.Equal($"gen.conf:{line}: {message}", Error($"faultsim.workload {{\n  generator {{\n    {body}\n  }}\n}}"));
    }

    [Fact]
    public void A_misspelt_generator_key_and_scripts_beside_a_generator_are_errors_at_their_lines()
    {
        Assert.StartsWith("gen.conf:2: unknown key 'faultsim.workload.generator.acesses'", Error("faultsim.workload.generator {\n  acesses = 5\n}"));
        Assert.Equal("gen.conf:3: faultsim.workload.cpus is set beside faultsim.workload.generator, which makes the whole workload; drop one of them",
            Error("faultsim.workload {\n  generator.kind = uniform\n  cpus { 0 = \"run x\" }\n}"));
    }

    [Theory]
    [InlineData("cow-storm")]
    [InlineData("stack")]
    [InlineData("uniform")]
    public void The_actor_engine_runs_a_generated_workload_to_the_reference_machines_counts(string kind)
    {
        var settings = Load($"faultsim {{ machine.cpus = 1, machine.frames = 24, workload.generator {{ kind = {kind}, pages = 48, accesses = 600, processes = 3 }} }}");
        using var engine = new DeterministicEngine();
        var actors = Runner.Run(settings, settings.Workload, settings.Seed, engine);
        var reference = ReferenceRun(settings);
        Assert.False(actors.Failed, actors.Violation?.ToString());
        Assert.Equal(reference.Totals.Total, actors.Result!.Totals.Total);
        Assert.Equal(reference.Totals.Major, actors.Result.Totals.Major);
        Assert.Equal(reference.Totals.Accesses, actors.Result.Totals.Accesses);
    }

    [Fact]
    public void A_mix_weighs_any_kind_and_the_actor_engine_runs_it_to_the_reference_machines_counts()
    {
        var settings = Load("faultsim {\n  machine.cpus = 1\n  machine.frames = 24\n  workload.generator {\n    kind = mix\n    accesses = 300\n" +
            "    mix { stack = 1, cow-storm = 1, churn = 1, herd = 1, zipf = 2 }\n  }\n}");
        Assert.Equal(["gen", "herd", "cow0", "churn", "stack0"], settings.Workload.Processes.Select(p => p.Name));
        using var engine = new DeterministicEngine();
        var actors = Runner.Run(settings, settings.Workload, settings.Seed, engine);
        var reference = ReferenceRun(settings);
        Assert.False(actors.Failed, actors.Violation?.ToString());
        Assert.Equal(reference.Totals.Total, actors.Result!.Totals.Total);
        Assert.Equal(reference.Totals[ResolutionKind.CowBreak], actors.Result.Totals[ResolutionKind.CowBreak]);
        Assert.True(reference.Totals[ResolutionKind.CowBreak] > 0 && reference.Totals.Ipis == 0 && reference.Totals.DiskReads > 0, "each kind drawn");
    }

    private static Faultsim.Model.Machine.RunResult ReferenceRun(SimSettings settings) =>
        Faultsim.Model.Machine.ReferenceMachine.Run(settings.Workload, settings.Seed);
}

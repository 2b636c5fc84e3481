using System.Collections.Immutable;
using Faultsim.Model.Workloads;
using static Faultsim.Tests.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>What is checked before a run: every name a script uses exists, on a CPU that exists.</summary>
public sealed class WorkloadValidatorTests
{
    private static readonly ImmutableArray<ProcessSpec> App = [Process("app", Anon("heap", Heap, 0x10_000))];

    private static WorkloadException Invalid(Workload workload) =>
        Assert.Throws<WorkloadException>(() => WorkloadValidator.Validate(workload));

    private static Workload Cpus(int cpus, params string[] scripts) => Make(new MachineSpec { Cpus = cpus }, App, scripts);

    [Fact]
    public void A_valid_workload_passes()
    {
        var workload = Cpus(2, "run app\nstore heap:0\nmmap extra 0x5000_0000 4K rw\nload extra\nfork kid\nbarrier b", "barrier b\nrun kid\nload heap")
            .WithFiles(new FileSpec("data", 4096));
        WorkloadValidator.Validate(workload);
    }

    [Fact]
    public void A_script_for_a_cpu_the_machine_lacks_is_rejected_naming_the_cpu_count()
    {
        var e = Invalid(Cpus(1, "run app", "\n\nrun app"));
        Assert.Equal(3, e.Line);
        Assert.Contains("script for cpu 1 but the machine has 1 CPUs", e.Message);
        Assert.Contains("raise machine.cpus", e.Message);
    }

    [Fact]
    public void An_operation_before_any_run_is_rejected()
    {
        var e = Invalid(Cpus(1, "barrier start\nstore heap:0\nrun app"));
        Assert.Equal(2, e.Line);
        Assert.Contains("start its script with 'run PROCESS'", e.Message);
    }

    [Fact]
    public void An_unknown_region_is_rejected_at_its_line()
    {
        var e = Invalid(Cpus(1, "run app\nstore heap:0\nload stack-8"));
        Assert.Equal(3, e.Line);
        Assert.Contains("no region 'stack'", e.Message);
    }

    [Theory]
    [InlineData("run app\nmunmap nowhere")]
    [InlineData("run app\nmprotect nowhere r")]
    [InlineData("run app\nmadvise nowhere dontneed")]
    [InlineData("run app\nsp nowhere")]
    [InlineData("run app\nmmap x nowhere 4K rw")]
    [InlineData("run app\nsys-read nowhere:0")]
    public void Every_operation_that_names_a_region_is_checked(string script)
    {
        var e = Invalid(Cpus(1, script));
        Assert.Equal(2, e.Line);
        Assert.Contains("no region 'nowhere'", e.Message);
    }

    [Fact]
    public void An_unknown_process_is_rejected_at_its_line()
    {
        var e = Invalid(Cpus(1, "run app\nrun ghost"));
        Assert.Equal(2, e.Line);
        Assert.Contains("no process 'ghost'", e.Message);
    }

    [Fact]
    public void A_fork_child_name_used_twice_is_rejected()
    {
        var e = Invalid(Cpus(2, "run app\nfork kid", "run app\n\nfork kid"));
        Assert.Contains("process 'kid' already exists", e.Message);
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void A_fork_child_named_like_a_declared_process_is_rejected()
    {
        var e = Invalid(Cpus(1, "run app\nfork app"));
        Assert.Equal(2, e.Line);
        Assert.Contains("process 'app' already exists", e.Message);
    }

    [Fact]
    public void An_mmap_of_an_undeclared_file_is_rejected()
    {
        var e = Invalid(Cpus(1, "run app\nmmap m 0x5000_0000 4K r file:ghost").WithFiles(new FileSpec("data", 4096)));
        Assert.Equal(2, e.Line);
        Assert.Contains("mmap names file 'ghost', which is not in the files section", e.Message);
    }

    [Fact]
    public void A_region_created_by_mmap_may_be_used_by_name()
    {
        WorkloadValidator.Validate(Cpus(1, "run app\nmmap m 0x5000_0000 4K rw\nstore m:0\nmunmap m"));
    }
}

using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.Memory;
using Faultsim.Model.Workloads;
using Faultsim.Model.Workloads.Generators;

namespace Faultsim.Tests.Model;

/// <summary>
/// Generated workloads whose operations are streams (the herd, the COW storm, the churn, a mix of any kinds): each
/// CPU's script is a few operations whatever the workload's size, its stream yields the operations the workload means
/// and the same on every pass, and a mix mixes every kind by weight.
/// </summary>
public sealed class GeneratedStreamTests
{
    private static readonly GeneratorSpec Spec = GeneratorSpec.Defaults;

    private static MachineSpec Machine(int cpus) => new() { Cpus = cpus, ZeroPage = false };

    /// <summary>Every kind, weighed 1 each.</summary>
    internal static readonly GeneratorSpec MixOfAll = Spec with
    {
        Kind = GeneratorKind.Mix, Mix = [.. GeneratorKinds.Mixable.Select(k => (k, 1.0))],
    };

    /// <summary>The operations CPU <paramref name="cpu"/>'s script comes to, its streams read to their ends.</summary>
    internal static List<Op> Flatten(Workload workload, int cpu)
    {
        var cursor = new OpCursor(workload.Scripts.Single(s => s.Cpu.Value == cpu).Ops);
        var ops = new List<Op>();
        for (; cursor.Current is { } op; cursor.Advance())
            ops.Add(op);
        return ops;
    }

    private static string Text(IEnumerable<Op> ops) => string.Join("\n", ops);

    public static TheoryData<GeneratorKind> EveryKind => [.. Enum.GetValues<GeneratorKind>()];

    [Theory]
    [MemberData(nameof(EveryKind))]
    public void Every_generators_script_is_a_few_operations_whatever_its_size(GeneratorKind kind)
    {
        var small = Spec with { Kind = kind, Accesses = 10, Rounds = 2, Pages = 8 };
        var large = small with { Accesses = 100_000_000, Rounds = 1 << 20, Pages = 1 << 11 };
        foreach (var mix in new[] { Spec.Mix, MixOfAll.Mix })
        {
            var (a, b) = (WorkloadGenerator.Generate(small with { Mix = mix }, Machine(4), 1, 1), WorkloadGenerator.Generate(large with { Mix = mix }, Machine(4), 1, 1));
            Assert.Equal(a.Scripts.Select(s => s.Ops.Length), b.Scripts.Select(s => s.Ops.Length));
            Assert.All(b.Scripts, s => Assert.InRange(s.Ops.Length, 1, 6));
            Assert.Equal(a.Scripts.Select(s => s.Declared.Count()), b.Scripts.Select(s => s.Declared.Count())); // what the checks read, too
        }
    }

    [Fact]
    public void A_herd_streams_a_barrier_and_a_touch_of_the_rounds_page_every_round_on_every_cpu()
    {
        var workload = WorkloadGenerator.Generate(Spec with { Kind = GeneratorKind.Herd, Rounds = 3 }, Machine(2), 1, 7);
        var expected = "Run { Line = 7, Process = herd }\n" + string.Join("\n", Enumerable.Range(0, 3).Select(r =>
            $"Barrier {{ Line = 7, Name = herd }}\nAccess {{ Line = 7, Kind = Read, Target = data:{r}, Mode = User, Value =  }}"));
        Assert.Equal(expected, Text(Flatten(workload, 0)));
        Assert.Equal(expected, Text(Flatten(workload, 1)));
        Assert.Equal(expected, Text(Flatten(workload, 1)));   // a second pass
    }

    [Fact]
    public void A_churn_streams_mmap_write_and_munmap_at_the_cpus_own_address_every_round()
    {
        var workload = WorkloadGenerator.Generate(Spec with { Kind = GeneratorKind.Churn, Rounds = 2, MapPages = 3 }, Machine(2), 1, 4);
        var round = "Map { Line = 4, Name = m1, Start = 0x41000000, Length = 12288, Flags = Read, Write, File = , FileOffset = 0 }\n" +
            "Access { Line = 4, Kind = Write, Target = m1:0..2, Mode = User, Value =  }\n" +
            "Unmap { Line = 4, Range = m1 }";
        Assert.Equal($"Run {{ Line = 4, Process = churn }}\n{round}\n{round}", Text(Flatten(workload, 1)));
    }

    [Fact]
    public void A_cow_storm_streams_the_parents_fill_and_forks_on_cpu_0_and_each_child_on_cpu_k_mod_cpus()
    {
        var workload = WorkloadGenerator.Generate(Spec with { Kind = GeneratorKind.CowStorm, Processes = 4, Pages = 2 }, Machine(3), 1, 2);
        string Child(int k) => $"Run {{ Line = 2, Process = child{k} }}\nAccess {{ Line = 2, Kind = Write, Target = data:0..1, Mode = User, Value =  }}\nExit {{ Line = 2 }}";
        Assert.Equal(3, workload.Scripts.Length);
        Assert.Equal(
            "Run { Line = 2, Process = parent }\nAccess { Line = 2, Kind = Write, Target = data:0..1, Mode = User, Value =  }\n" +
            string.Join("\n", Enumerable.Range(1, 4).Select(k => $"Fork {{ Line = 2, Child = child{k} }}")) + "\n" + Child(3),
            Text(Flatten(workload, 0)));
        Assert.Equal(Child(1) + "\n" + Child(4), Text(Flatten(workload, 1)));
        Assert.Equal(Child(2), Text(Flatten(workload, 2)));
        Assert.Equal(["parent", "child1", "child2", "child3", "child4"], workload.ProcessNames.ToArray()); // the pids, from the streams' forks
    }

    [Fact]
    public void A_mix_of_access_patterns_alone_stays_one_stream_of_accesses()
    {
        var workload = WorkloadGenerator.Generate(Spec with { Kind = GeneratorKind.Mix }, Machine(2), 1, 1);
        Assert.All(workload.Scripts, s => Assert.IsType<Op.Replay>(s.Ops[1]));
    }

    [Fact]
    public void A_mix_of_every_kind_draws_each_and_every_cpu_meets_every_herd_round()
    {
        var spec = MixOfAll with { Accesses = 400, Pages = 8, Rounds = 4, Processes = 2, MapPages = 2 };
        var workload = WorkloadGenerator.Generate(spec, Machine(3), 9, 1);
        var perCpu = Enumerable.Range(0, 3).Select(cpu => Flatten(workload, cpu)).ToList();
        Assert.Equal(perCpu[0].Count(op => op is Op.Barrier { Name: "herd" }), perCpu[1].Count(op => op is Op.Barrier { Name: "herd" }));
        Assert.Equal(perCpu[0].Count(op => op is Op.Barrier { Name: "herd" }), perCpu[2].Count(op => op is Op.Barrier { Name: "herd" }));
        foreach (var (ops, cpu) in perCpu.Select((ops, cpu) => (ops, cpu)))
        {
            var runs = ops.OfType<Op.Run>().Select(r => r.Process).ToHashSet();
            Assert.Superset(new HashSet<string> { "gen", "herd", "churn", $"stack{cpu}", "reader", $"cow{cpu}", $"cow{cpu}-1", $"cow{cpu}-2" }, runs);
            Assert.Equal(2, ops.OfType<Op.Fork>().Count());                 // the COW storm's forks, spent
            Assert.Contains(ops, op => op is Op.Map);
        }
        Assert.Equal(Text(perCpu[1]), Text(Flatten(workload, 1)));           // every pass alike
        Assert.NotEqual(Text(perCpu[1]), Text(Flatten(WorkloadGenerator.Generate(spec, Machine(3), 10, 1), 1))); // another seed
    }

    [Fact]
    public void A_mix_of_a_herd_alone_is_the_herd_and_a_mix_of_churn_and_zipf_zero_fills_each_churn_round()
    {
        var herd = ReferenceMachine.Run(WorkloadGenerator.Generate(Spec with { Kind = GeneratorKind.Mix, Mix = [(GeneratorKind.Herd, 1)], Accesses = 9, Rounds = 9 },
            Machine(4) with { Readahead = ReadaheadRules.Off }, 1, 1), 1).Totals;
        Assert.Equal(9, herd.DiskReads);
        Assert.Equal(9 * 4, herd.Accesses);

        var spec = Spec with { Kind = GeneratorKind.Mix, Mix = [(GeneratorKind.Churn, 1), (GeneratorKind.Zipf, 3)], Accesses = 200, Pages = 16, MapPages = 3 };
        var workload = WorkloadGenerator.Generate(spec, Machine(2), 3, 1);
        var rounds = Enumerable.Range(0, 2).Sum(cpu => Flatten(workload, cpu).Count(op => op is Op.Map));
        var zipfPages = Enumerable.Range(0, 2).SelectMany(cpu => Flatten(workload, cpu).OfType<Op.Access>().Where(a => a.Target is AccessTarget.At)
            .Select(a => (a.Target as AccessTarget.At)!.Address.Offset / 4096)).Distinct().Count();
        var totals = ReferenceMachine.Run(workload, 3).Totals;
        Assert.InRange(rounds, 2 * 200 / 4 / 2, 2 * 200 / 4 * 2);            // about a quarter of the draws
        Assert.Equal(3 * rounds + zipfPages, totals[ResolutionKind.DemandZero]);
        Assert.Equal(3L * rounds + (2 * 200 - rounds), totals.Accesses);
    }
}

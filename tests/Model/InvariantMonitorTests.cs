using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;
using Faultsim.Model.Faults;
using Faultsim.Model.Machine;
using Faultsim.Model.PageTables;

namespace Faultsim.Tests.Model;

public class InvariantMonitorTests
{
    private static readonly PageKey Page = new(new Asid(1), new PageNumber(0x10));
    private static readonly FrameNumber Frame = new(3);
    private static readonly long Fault1 = FaultName.Id(0, 1), Fault2 = FaultName.Id(1, 1);
    private static readonly FaultErrorCode Read = FaultErrorCode.For(AccessKind.Read, present: false, user: true);

    private readonly InvariantMonitor _monitor = new();
    private long _seq;

    private void See(params SimEvent[] events)
    {
        foreach (var e in events)
            _monitor.Observe(++_seq, e);
    }

    private static SimEvent Raised(long fault) => new SimEvent.FaultRaised(fault, new CpuId((int)(fault >> FaultName.CpuShift)), Page, Page.Page.BaseAddress, Read);
    private static SimEvent Installed() => new SimEvent.PteInstalled(Page, Pte.None, Pte.Mapped(Frame, PteFlags.Present | PteFlags.User, 0));
    private static SimEvent Woken(long fault, bool counted = true) => new SimEvent.FaultWoken(fault, Page, ResolutionKind.Major, counted, "retry");

    [Fact]
    public void Fault_names_say_which_cpu_and_which_of_its_faults()
    {
        Assert.Equal("fault#2.7", FaultName.Of(FaultName.Id(2, 7)));
    }

    [Fact]
    public void A_second_read_of_a_block_while_the_first_is_in_flight_breaks_invariant_1()
    {
        See(new SimEvent.DiskReadStarted(Fault1, "file 0 page 0"), new SimEvent.DiskReadStarted(Fault2, "file 0 page 0"));
        var v = Assert.IsType<Violation>(_monitor.Violation);
        Assert.Equal(1, v.Invariant);
        Assert.Equal("invariant 1 (one disk read per page per load) violated: a second read of file 0 page 0 (for fault#1.1) while one is in flight", v.ToString());
        Assert.Equal(2, v.AtEvent);
    }

    [Fact]
    public void A_read_after_the_first_one_finished_is_a_new_load_and_allowed()
    {
        See(new SimEvent.DiskReadStarted(Fault1, "b"), new SimEvent.DiskReadFinished("b", Failed: false), new SimEvent.DiskReadStarted(Fault2, "b"));
        Assert.Null(_monitor.Violation);
    }

    [Fact]
    public void A_follower_woken_as_resolved_before_the_pte_is_installed_breaks_invariant_2()
    {
        See(Raised(Fault1), Raised(Fault2), Woken(Fault2));
        var v = Assert.IsType<Violation>(_monitor.Violation);
        Assert.Equal(2, v.Invariant);
        Assert.Contains("fault#1.1 was woken as resolved (Major) before any PTE for asid 1/page 0x10 was installed", v.Description);
    }

    [Fact]
    public void Waking_after_the_install_or_waking_to_fault_again_is_allowed()
    {
        See(Raised(Fault1), Raised(Fault2), Woken(Fault2, counted: false), Installed(), Woken(Fault1));
        _monitor.AtEnd(_seq);
        Assert.Null(_monitor.Violation);
    }

    [Fact]
    public void A_fault_never_woken_by_the_end_breaks_invariant_2()
    {
        See(Raised(Fault1), Raised(Fault2), Installed(), Woken(Fault1));
        _monitor.AtEnd(_seq);
        Assert.Equal("fault#1.1 on asid 1/page 0x10 was never woken (1 waiter(s) left asleep)", _monitor.Violation?.Description);
    }

    [Fact]
    public void Progress_is_a_counted_wake_an_applied_access_or_a_system_call_and_not_a_fault_raised_or_retried()
    {
        See(Raised(Fault1), Woken(Fault1, counted: false), Raised(Fault1));
        Assert.Equal(0, _monitor.LastProgress);
        See(Installed(), Woken(Fault1));
        Assert.Equal(5, _monitor.LastProgress);
        See(new SimEvent.LoadApplied(new CpuId(0), Page, 0, 0), Raised(Fault2));
        Assert.Equal(6, _monitor.LastProgress);
        See(new SimEvent.SyscallMade(new CpuId(1), "Exit"));
        Assert.Equal(8, _monitor.LastProgress);
    }

    [Fact]
    public void A_run_that_spins_past_its_bound_without_progress_breaks_invariant_8()
    {
        See(Raised(Fault1), Installed(), Woken(Fault1), Raised(Fault2));
        _monitor.NoProgress(_seq, 12_000, "the bound's basis");
        var v = Assert.IsType<Violation>(_monitor.Violation);
        Assert.Equal("invariant 8 (every run makes progress) violated: no progress in the last 12,000 messages (the bound: the bound's basis): " +
            "no fault was resolved, no access applied and no system call made since event 3", v.ToString());
        Assert.Equal(4, v.AtEvent);
    }

    [Fact]
    public void A_run_that_stops_with_nothing_to_deliver_or_every_cpu_waiting_on_a_sound_workload_breaks_invariant_8()
    {
        _monitor.Stopped(0);
        Assert.Equal("the run stopped with no message to deliver and no timer pending before its workload ended; no progress since the run began",
            _monitor.Violation?.Description);
        var other = new InvariantMonitor();
        other.Deadlocked(9, "the workload deadlocks: cpu 1 waits for process 'c0' (line 4), which is never forked");
        Assert.Equal(8, other.Violation?.Invariant);
        Assert.Equal("the engine came to a stop with every CPU waiting, though the workload runs to its end on the reference machine " +
            "(the workload deadlocks: cpu 1 waits for process 'c0' (line 4), which is never forked)", other.Violation?.Description);
    }

    [Fact]
    public void Reusing_a_shared_frame_or_the_zero_page_on_a_cow_write_breaks_invariant_3()
    {
        See(new SimEvent.CowDecided(Page, Frame, RefCount: 1, Reused: true), new SimEvent.CowDecided(Page, Frame, RefCount: 2, Reused: false));
        Assert.Null(_monitor.Violation);

        See(new SimEvent.CowDecided(Page, Frame, RefCount: 2, Reused: true));
        Assert.Equal("a COW write to asid 1/page 0x10 reused frame 3, which 1 other mapping(s) still share", _monitor.Violation?.Description);

        var zero = new InvariantMonitor();
        zero.Observe(1, new SimEvent.CowDecided(Page, FrameNumber.Zero, RefCount: 1, Reused: true));
        Assert.Equal(3, zero.Violation?.Invariant);
    }

    [Fact]
    public void A_stale_access_breaks_invariant_4()
    {
        See(new SimEvent.StaleAccess(new CpuId(1), Page, Frame));
        Assert.Equal(4, _monitor.Violation?.Invariant);
    }

    [Fact]
    public void A_pte_installed_where_no_vma_maps_breaks_invariant_4()
    {
        See(Installed());
        Assert.Null(_monitor.Violation);
        See(new SimEvent.PteOutsideVma(Page, Frame));
        Assert.Equal(4, _monitor.Violation?.Invariant);
        Assert.Equal("a PTE for asid 1/page 0x10 to frame 3 was installed where no VMA maps: a translation came back after its region was unmapped",
            _monitor.Violation?.Description);
    }

    [Fact]
    public void The_end_state_must_hold_each_words_last_store_including_what_a_child_inherited()
    {
        var parent = new ProcessId(1);
        var child = new ProcessId(2);
        See(new SimEvent.StoreApplied(Page, Word: 0, Value: 7),
            new SimEvent.StoreApplied(Page, Word: 0, Value: 8),
            new SimEvent.Forked(parent, child));
        var both = Image((parent, 8UL), (child, 8UL));
        _monitor.CheckMemory(both, new HashSet<ProcessId> { parent, child }, wordsPerPage: 512, _seq);
        Assert.Null(_monitor.Violation);

        _monitor.CheckMemory(Image((parent, 8UL), (child, 7UL)), new HashSet<ProcessId> { parent, child }, 512, _seq);
        Assert.Equal("pid 2 page 0x10 word 0 holds 0x7, but the last store there wrote 0x8", _monitor.Violation?.Description);
        Assert.Equal(5, _monitor.Violation?.Invariant);
    }

    [Fact]
    public void Released_pages_and_dead_processes_are_not_expected_to_keep_their_stores()
    {
        See(new SimEvent.StoreApplied(Page, 0, 7), new SimEvent.PagesReleased([Page]));
        _monitor.CheckMemory(Image(), new HashSet<ProcessId> { new(1) }, 512, _seq);
        See(new SimEvent.StoreApplied(Page, 0, 9));
        _monitor.CheckMemory(Image(), new HashSet<ProcessId>(), 512, _seq);
        Assert.Null(_monitor.Violation);
    }

    [Fact]
    public void A_load_must_return_the_last_value_stored_to_its_word()
    {
        var cpu = new CpuId(2);
        See(new SimEvent.StoreApplied(Page, Word: 1, Value: 5), new SimEvent.LoadApplied(cpu, Page, Word: 1, Value: 5),
            new SimEvent.LoadApplied(cpu, Page, Word: 2, Value: 9)); // a word nobody stored to: whatever the page held
        Assert.Null(_monitor.Violation);
        See(new SimEvent.StoreApplied(Page, Word: 1, Value: 6), new SimEvent.LoadApplied(cpu, Page, Word: 1, Value: 5));
        Assert.Equal(7, _monitor.Violation?.Invariant);
        Assert.Equal("cpu2 loaded 0x5 from asid 1/page 0x10 word 1, but the last store there wrote 0x6", _monitor.Violation?.Description);
    }

    [Fact]
    public void A_cow_breaks_old_frame_released_leaves_the_pages_stores_expected_in_its_copy()
    {
        // A COW break's copy holds what the page held: a load of 0 after it is a lost store (gem5-798's map-over-present).
        See(new SimEvent.StoreApplied(Page, 0, 5), new SimEvent.PagesReleased([Page], Replaced: true), new SimEvent.LoadApplied(new CpuId(0), Page, 0, 5));
        Assert.Null(_monitor.Violation);
        See(new SimEvent.PagesReleased([Page], Replaced: true), new SimEvent.LoadApplied(new CpuId(0), Page, 0, 0));
        Assert.Equal("cpu0 loaded 0x0 from asid 1/page 0x10 word 0, but the last store there wrote 0x5", _monitor.Violation?.Description);
    }

    [Fact]
    public void A_discarded_page_starts_afresh_and_a_child_loads_what_its_parent_stored()
    {
        See(new SimEvent.StoreApplied(Page, 0, 5), new SimEvent.PagesReleased([Page]), new SimEvent.LoadApplied(new CpuId(0), Page, 0, 0));
        Assert.Null(_monitor.Violation);
        See(new SimEvent.StoreApplied(Page, 0, 8), new SimEvent.Forked(new ProcessId(1), new ProcessId(2)),
            new SimEvent.LoadApplied(new CpuId(1), new PageKey(new Asid(2), Page.Page), 0, 8));
        Assert.Null(_monitor.Violation);
        See(new SimEvent.LoadApplied(new CpuId(1), new PageKey(new Asid(2), Page.Page), 0, 5));
        Assert.Equal(7, _monitor.Violation?.Invariant);
    }

    [Fact]
    public void The_page_of_a_shared_mapping_is_one_memory_for_every_process_that_maps_it()
    {
        var file = new FilePage(new FileId(0), 3);
        var other = new PageKey(new Asid(2), new PageNumber(0x40));
        See(new SimEvent.StoreApplied(Page, 0, 5, file), new SimEvent.LoadApplied(new CpuId(1), other, 0, 5, file));
        Assert.Null(_monitor.Violation);
        See(new SimEvent.LoadApplied(new CpuId(1), other, 0, 4, file));
        Assert.Equal(7, _monitor.Violation?.Invariant);
    }

    private static RunResult Result(string engine, params ProcessReport[] processes) =>
        new(engine, 1, 1, new Counters(), [.. processes], null, 0, null);

    private static ProcessReport Db(long majors, ProcessId? pid = null, string name = "db")
    {
        var counters = new Counters();
        for (var i = 0; i < majors; i++)
            counters.CountFault(ResolutionKind.Major, major: true);
        counters.DiskReads = majors;
        return new ProcessReport(pid ?? new ProcessId(1), name, ProcessFate.Exited, counters);
    }

    [Fact]
    public void Counts_that_differ_from_the_reference_break_invariant_6_and_only_the_first_violation_is_kept()
    {
        _monitor.CheckCounts(Result("actors", Db(2)), Result("reference", Db(2)), 1);
        Assert.Null(_monitor.Violation);
        _monitor.CheckCounts(Result("actors", Db(3)), Result("reference", Db(2)), 2);
        _monitor.CheckCounts(Result("actors", Db(4)), Result("reference", Db(2)), 3);
        var v = Assert.IsType<Violation>(_monitor.Violation);
        Assert.Equal((6, 2L), (v.Invariant, v.AtEvent));
        Assert.Equal("db (pid 1): faults.by_resolution.major is 3 in the actors run, 2 in the reference run", v.Description);
    }

    [Fact]
    public void A_process_the_reference_ran_and_the_engine_did_not_breaks_invariant_6()
    {
        _monitor.CheckCounts(Result("actors", Db(1)), Result("reference", Db(1), Db(0, new ProcessId(2), "child")), 1);
        Assert.Equal("child (pid 2): absent in the actors run, present in the reference run (Exited)", _monitor.Violation?.Description);
        Assert.Equal(6, _monitor.Violation?.Invariant);
    }

    [Fact]
    public void A_process_the_engine_ran_and_the_reference_did_not_breaks_invariant_6()
    {
        _monitor.CheckCounts(Result("actors", Db(1), Db(0, new ProcessId(2), "child")), Result("reference", Db(1)), 1);
        Assert.Equal("child (pid 2): present in the actors run (Exited), absent in the reference run", _monitor.Violation?.Description);
        Assert.Equal(6, _monitor.Violation?.Invariant);
    }

    public static TheoryData<string> AgreedFigures => [.. RunComparison.ProcessFigures.Select(f => f.Name)];

    [Theory]
    [MemberData(nameof(AgreedFigures))]
    public void Each_figure_breaks_invariant_6_when_it_differs(string figure)
    {
        var (actual, reference) = DifferingIn(figure);
        _monitor.CheckCounts(actual, reference, 1);
        Assert.Equal(6, _monitor.Violation?.Invariant);
        Assert.StartsWith($"db (pid 1): {figure} is ", _monitor.Violation?.Description);
    }

    [Fact]
    public void A_run_with_other_steps_breaks_invariant_6()
    {
        _monitor.CheckCounts(Result("actors", Db(1)) with { Steps = 19 }, Result("reference", Db(1)) with { Steps = 16 }, 1);
        Assert.Equal(6, _monitor.Violation?.Invariant);
    }

    [Fact]
    public void A_fate_or_a_final_memory_that_differs_breaks_invariant_6()
    {
        _monitor.CheckCounts(Result("actors", Db(1) with { Fate = ProcessFate.KilledBySigBus }), Result("reference", Db(1)), 1);
        Assert.Equal("db (pid 1): fate is KilledBySigBus in the actors run, Exited in the reference run", _monitor.Violation?.Description);
        var memory = new InvariantMonitor();
        memory.CheckCounts(Result("actors", Db(1)) with { Memory = Image((new ProcessId(1), 5UL)) },
            Result("reference", Db(1)) with { Memory = Image((new ProcessId(1), 6UL)) }, 1);
        Assert.Equal(6, memory.Violation?.Invariant);
        Assert.StartsWith("the final memory differs between the actors and reference runs: pid 1 page 0x10: [5 ", memory.Violation?.Description);
    }

    /// <summary>Two runs of the process db alike in everything but <paramref name="figure"/>, which is one higher in the engine's.</summary>
    private static (RunResult Actual, RunResult Reference) DifferingIn(string figure)
    {
        var counters = Db(2).Counters;
        RunComparisonTests.Setters[figure](counters, RunComparison.ProcessFigures.Single(f => f.Name == figure).Of(counters) + 1);
        return (Result("actors", Db(2) with { Counters = counters }), Result("reference", Db(2)));
    }

    private static MemoryImage Image(params (ProcessId Pid, ulong Word0)[] pages) =>
        new([.. pages.Select(p => new PageImage(p.Pid, Page.Page, [p.Word0, .. new ulong[511]]))], []);
}

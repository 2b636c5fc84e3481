using System.Collections.Immutable;
using Akka.Actor;
using Akka.TestKit;
using Faultsim.Actors;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.Memory;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;

namespace Faultsim.Tests.Actors;

public sealed class MemorySpec : DeterministicSpec
{
    private static readonly FilePage Page = new(new FileId(0), 3);
    private readonly TestProbe _machine, _mm, _loaders;
    private readonly IActorRef _memory;

    public MemorySpec()
    {
        (_machine, _mm, _loaders) = (CreateTestProbe("machine"), CreateTestProbe("mm"), CreateTestProbe("loaders"));
        _memory = Memory(new MemorySettings(0, 8, Faultsim.Model.Replacement.ReplacementPolicyKind.Lru, []), RunContext.Live);
    }

    /// <summary>Memory connected to the spec's probes: the machine, the loaders' routing point, the disk and the mm of asid 1.</summary>
    private IActorRef Memory(MemorySettings settings, RunContext run)
    {
        var memory = Spawn(MemoryActor.Props(settings, run));
        Connect(memory, new ActorDirectory
        {
            Machine = _machine.Ref, Memory = memory, Loaders = _loaders.Ref, Disk = CreateTestProbe().Ref,
            AddressSpaces = ImmutableDictionary<Asid, IActorRef>.Empty.Add(new Asid(1), _mm.Ref),
        });
        return memory;
    }

    [Fact]
    public void A_second_reader_of_a_page_waits_for_the_first_read_and_gets_the_page()
    {
        var first = CreateTestProbe("loader1");
        var second = CreateTestProbe("loader2");
        _memory.Tell(new LookUp(new FaultId(1), new CpuId(0), new PageKey(new Asid(1), new PageNumber(1)), new MemoryQuery.OfFile(Page)), first.Ref);
        var reserved = Assert.IsType<CacheAnswer.Reserved>(Next<LookedUp>(first).Answer);
        _memory.Tell(new LookUp(new FaultId(2), new CpuId(1), new PageKey(new Asid(2), new PageNumber(1)), new MemoryQuery.OfFile(Page)), second.Ref);
        AssertSilent(second);                             // a locked page: it waits, it does not read too

        var mm = _mm;
        var read = new FaultEffect.Read(new PageSource.FromFile(Page), CopyForWrite: false);
        var vma = new Vma(new VirtualAddress(0x1000), new VirtualAddress(0x10000), VmaFlags.Read, new Backing.File(new FileId(0), 0));
        var then = new InstallPte(new FaultId(1), new CpuId(0), new PageNumber(1), Pte.None, vma, 0, Pte.None, null, [], new FaultReport(ResolutionKind.Major, true, true), false);
        _memory.Tell(new Prepare(new FaultId(1), new PageKey(new Asid(1), new PageNumber(1)), new ProcessId(1),
            new Preparation.ReadDone(reserved.Frame, reserved.Generation, new MemoryQuery.OfFile(Page), [1, 2, 3, 4, 5, 6, 7, 8], false),
            then, read, vma, AccessKind.Read));

        var hit = Assert.IsType<CacheAnswer.Hit>(Next<LookedUp>(second).Answer);
        Assert.Equal((reserved.Frame, true), (hit.Frame, hit.Waited));
        var install = Next<InstallPte>(mm);
        Assert.Equal(reserved.Frame, install.New.Frame);
        Assert.True(install.FramePrepared);
    }

    [Fact]
    public void An_access_through_a_translation_to_a_freed_frame_is_reported_as_a_violation()
    {
        var access = new FrameAccess(new FrameNumber(4), 0, new PageKey(new Asid(1), new PageNumber(1)), 0, 42, Write: true);
        _memory.Tell(new Accessed(new CpuId(2), [access]));
        Assert.Contains("stale translation used by cpu2", Next<ViolationFound>(_machine).Description);
    }

    [Fact]
    public void Memory_fails_the_run_on_a_message_its_state_does_not_take()
    {
        _memory.Tell(new PagedOut(4));                    // memory's own reply to an mm, sent to memory
        Assert.Equal($"protocol error: {_memory.Path.Name} in state Serving got an unexpected PagedOut: PagedOut {{ Id = 4 }}", ProtocolError());
    }

    [Fact]
    public void Memory_waiting_past_its_bound_for_an_eviction_fails_the_run_in_state_reclaiming()
    {
        var memory = Memory(new MemorySettings(1, 8, Faultsim.Model.Replacement.ReplacementPolicyKind.Fifo, []),
            RunContext.Live with { WaitBound = TimeSpan.FromMilliseconds(4) });
        var (loaders, mm) = (_loaders, _mm);
        var first = ZeroFill(memory, mm, 1);
        var frame = Next<InstallPte>(mm).New;
        memory.Tell(new Accessed(new CpuId(0), [new FrameAccess(frame.Frame, frame.GenerationTag, first, 0, 0, Write: false)])); // its fault is over
        ZeroFill(memory, mm, 2);                          // the one frame is taken: memory evicts it, through the page's loader
        var error = ProtocolError();                      // the loader never answers
        Assert.Equal($"protocol stuck: {memory.Path.Name} waited more than 4 ms in state Reclaiming for its evictions to free frames "
            + "(PteReplaced from the mms, PageWritten from the disk), pending 1 request(s) waiting for a frame, 1 eviction(s) under way (faultsim.actors.wait-bound)", error);
        Assert.Equal(frame.Frame, loaders.ExpectMsg<EvictPage>(TimeSpan.Zero).Frame);
    }

    [Fact]
    public void Reclaim_whose_eviction_freed_nothing_waits_its_throttle_and_a_frame_freed_meanwhile_is_served_at_once()
    {
        // faultsim replay --swarm --seed 7 --max-steps 191000: an exiting process refused the eviction of its frame (its PTEs
        // were torn down, their release waiting on the exit's shootdown, whose IPI waited on the virtual clock); memory chose
        // the same victim again at once, and again, and the clock never moved (invariant 8).
        var memory = Memory(new MemorySettings(1, 8, Faultsim.Model.Replacement.ReplacementPolicyKind.Fifo, []),
            RunContext.Live with { Latencies = Latencies.None with { ReclaimThrottle = 1_000 } });
        var first = ZeroFill(memory, _mm, 1);
        var frame = Next<InstallPte>(_mm).New;
        memory.Tell(new Accessed(new CpuId(0), [new FrameAccess(frame.Frame, frame.GenerationTag, first, 0, 0, Write: false)]));
        ZeroFill(memory, _mm, 2);
        var evict = Next<EvictPage>(_loaders);
        var refusedAt = Clock.NowNanos;

        memory.Tell(new PteReplaced(evict.EvictionId, first, Replaced: false), _mm.Ref); // the process is exiting: its PTE is gone
        var (again, at) = NextEviction();
        Assert.Equal((evict.Frame, refusedAt + 1_000), (again.Frame, at)); // the same victim, once the throttle is over: not at once

        memory.Tell(new PteReplaced(again.EvictionId, first, Replaced: false), _mm.Ref);
        memory.Tell(new ReleasePages([new PageRelease(first, frame.Frame, null)]), _mm.Ref); // the exit's release, after its shootdown
        var install = Next<InstallPte>(_mm);
        Assert.Equal((new PageNumber(2), frame.Frame), (install.Page, install.New.Frame)); // the freed frame, to the waiting request
        AssertSilent(_loaders);                                        // and no eviction after the throttle: nothing waits
    }

    /// <summary>Memory's next eviction, and when it sent it on the virtual clock.</summary>
    private (EvictPage Evict, long At) NextEviction()
    {
        RunUntil(() => _loaders.HasMessages, "memory evicted again");
        return (_loaders.ExpectMsg<EvictPage>(TimeSpan.Zero), Clock.NowNanos);
    }

    /// <summary>Asks <paramref name="memory"/> for a zero-filled frame for anonymous page <paramref name="page"/> of process 1.</summary>
    private static PageKey ZeroFill(IActorRef memory, TestProbe mm, ulong page)
    {
        var key = new PageKey(new Asid(1), new PageNumber(page));
        var vma = new Vma(new VirtualAddress(0x1000), new VirtualAddress(0x10000), VmaFlags.Read | VmaFlags.Write, Backing.Anonymous.Instance);
        var then = new InstallPte(new FaultId((long)page), new CpuId(0), key.Page, Pte.None, vma, 0, Pte.None, null, [],
            new FaultReport(ResolutionKind.DemandZero, false, false), false);
        memory.Tell(new Prepare(new FaultId((long)page), key, new ProcessId(1), Preparation.ZeroFilled.Instance, then,
            new FaultEffect.AllocateZeroed(null), vma, AccessKind.Write));
        return key;
    }
}

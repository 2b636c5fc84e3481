using Akka.Actor;
using Akka.TestKit;
using Faultsim.Actors;
using Faultsim.Actors.AddressSpaces;
using Faultsim.Actors.Machine;
using Faultsim.Actors.Memory;
using Faultsim.Actors.Paging;
using Faultsim.Model.Addressing;
using Faultsim.Model.Faults;
using Faultsim.Model.PageTables;
using Faultsim.Model.Vmas;

namespace Faultsim.Tests.Actors;

public sealed class MemorySpec : DeterministicSpec
{
    private static readonly FilePage Page = new(new FileId(0), 3);
    private readonly TestProbe _machine = null!;
    private readonly IActorRef _memory;

    public MemorySpec()
    {
        _machine = CreateTestProbe("machine");
        _memory = Spawn(MemoryActor.Props(new MemorySettings(0, 8, Faultsim.Model.Replacement.ReplacementPolicyKind.Lru, []), _machine.Ref, RunContext.Live));
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

        var mm = CreateTestProbe("mm");
        var resolution = new Resolution.Major(new PageSource.FromFile(Page), CopyForWrite: false);
        var vma = new Vma(new VirtualAddress(0x1000), new VirtualAddress(0x10000), VmaFlags.Read, new Backing.File(new FileId(0), 0));
        var then = new InstallPte(new FaultId(1), new CpuId(0), new PageNumber(1), Pte.None, vma, 0, Pte.None, null, [], new FaultReport(ResolutionKind.Major, true, true), false);
        _memory.Tell(new Prepare(new FaultId(1), new PageKey(new Asid(1), new PageNumber(1)), new ProcessId(1),
            new Preparation.ReadDone(reserved.Frame, reserved.Generation, new MemoryQuery.OfFile(Page), [1, 2, 3, 4, 5, 6, 7, 8], false),
            mm.Ref, then, resolution, vma, AccessKind.Read));

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
}

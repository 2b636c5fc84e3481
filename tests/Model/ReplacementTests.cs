using Faultsim.Model.Machine;
using Faultsim.Model.Replacement;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>Reference strings against the counts textbooks give by hand.</summary>
public sealed class ReplacementTests
{
    // Silberschatz, Operating System Concepts, the 20-reference string with 3 frames.
    private const string Silberschatz = "7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1";
    private const string Belady = "1,2,3,4,1,2,5,1,2,3,4,5";

    private static RunResult Run(string refs, int frames, ReplacementPolicyKind policy) =>
        ReferenceMachine.Run(ReferenceString.ToWorkload(ReferenceString.Parse(refs), frames, policy, new MachineSpec()), seed: 1);

    [Theory]
    [InlineData(ReplacementPolicyKind.Fifo, 15)]
    [InlineData(ReplacementPolicyKind.Lru, 12)]
    [InlineData(ReplacementPolicyKind.Opt, 9)]
    [InlineData(ReplacementPolicyKind.Clock, 14)]
    public void Silberschatz_string_with_three_frames_faults_as_the_textbook_counts(ReplacementPolicyKind policy, int faults)
    {
        var result = Run(Silberschatz, 3, policy);
        Assert.Equal(faults, result.Totals.Total);
    }

    [Fact]
    public void First_touches_are_minor_and_retouches_after_eviction_are_major()
    {
        var result = Run(Silberschatz, 3, ReplacementPolicyKind.Fifo);
        Assert.Equal(6, result.Totals.Minor);              // pages 0,1,2,3,4,7 first touched
        Assert.Equal(15 - 6, result.Totals.Major);         // every other fault reads swap
        Assert.Equal(result.Totals.Major, result.Totals.DiskReads);
    }

    [Fact]
    public void Fifo_shows_beladys_anomaly_more_frames_more_faults()
    {
        Assert.Equal(9, Run(Belady, 3, ReplacementPolicyKind.Fifo).Totals.Total);
        Assert.Equal(10, Run(Belady, 4, ReplacementPolicyKind.Fifo).Totals.Total);
    }

    [Theory]
    [InlineData(ReplacementPolicyKind.Lru)]
    [InlineData(ReplacementPolicyKind.Opt)]
    public void Stack_policies_never_fault_more_with_more_frames(ReplacementPolicyKind policy)
    {
        var previous = long.MaxValue;
        for (var frames = 1; frames <= 6; frames++)
        {
            var faults = Run(Belady, frames, policy).Totals.Total;
            Assert.True(faults <= previous, $"{policy} with {frames} frames faulted {faults} times, more than with {frames - 1}");
            previous = faults;
        }
    }

    [Fact]
    public void Opt_is_never_worse_than_the_online_policies()
    {
        foreach (var frames in new[] { 2, 3, 4 })
        {
            var opt = Run(Silberschatz, frames, ReplacementPolicyKind.Opt).Totals.Total;
            foreach (var online in new[] { ReplacementPolicyKind.Fifo, ReplacementPolicyKind.Lru, ReplacementPolicyKind.Clock })
                Assert.True(opt <= Run(Silberschatz, frames, online).Totals.Total);
        }
    }

    [Fact]
    public void Evicted_pages_keep_their_content_through_swap()
    {
        var result = Run(Silberschatz, 3, ReplacementPolicyKind.Lru);
        // 20 stores by CPU 0, each writing (1 << 40) | sequence into its own word of the page.
        var lastStoreTo = new Dictionary<ulong, ulong>();
        var refs = ReferenceString.Parse(Silberschatz);
        for (var i = 0; i < refs.Count; i++)
            lastStoreTo[refs[i]] = (1UL << 40) | ((ulong)i + 1);
        var image = result.Memory!;
        Assert.Equal(lastStoreTo.Count, image.Pages.Length);
        foreach (var page in image.Pages)
        {
            var index = page.Page.Value - ReferenceString.RegionStart.Page.Value;
            Assert.Equal(lastStoreTo[index], page.Words[0]);
        }
    }
}

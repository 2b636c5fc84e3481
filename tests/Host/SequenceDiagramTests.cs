using Faultsim.Actors.Monitoring;
using Faultsim.Host.Output;
using Faultsim.Model.Addressing;
using Faultsim.Model.Checking;

namespace Faultsim.Tests.Host;

public class SequenceDiagramTests
{
    private static LoggedEvent Event(long seq, string actor, string? peer, SimEvent e) => new(seq, seq * 10, actor, peer, e);

    [Fact]
    public void Messages_become_arrows_the_rest_notes_and_mermaids_special_characters_entity_codes()
    {
        var events = new[]
        {
            Event(1, "tlb-0", "shootdown-1", new SimEvent.IpiAcknowledged(1, new CpuId(0))),
            Event(2, "mm1", null, new SimEvent.ShootdownFinished(1)),
        };

        var diagram = SequenceDiagram.Of(events);

        Assert.Equal("""
            sequenceDiagram
                participant tlb_0 as tlb-0
                participant shootdown_1 as shootdown-1
                participant mm1 as mm1
                tlb_0->>shootdown_1: 1 cpu0 acks shootdown#35;1
                Note over mm1: 2 shootdown#35;1 complete

            """.Replace("\r", ""), diagram);
    }

    [Fact]
    public void A_long_log_shows_its_last_events_and_says_so()
    {
        var events = Enumerable.Range(1, 100).Select(i => Event(i, "mm1", null, new SimEvent.ShootdownFinished(i))).ToList();
        var diagram = SequenceDiagram.Of(events, last: 10);
        Assert.Contains("Note over mm1: the last 10 of 100 events", diagram);
        Assert.DoesNotContain(": 90 ", diagram);
        Assert.Contains(": 91 ", diagram);
    }

    [Fact]
    public void The_tail_of_a_longer_log_is_drawn_with_the_count_of_the_whole_log()
    {
        var tail = Enumerable.Range(4_901, 100).Select(i => Event(i, "mm1", null, new SimEvent.ShootdownFinished(i))).ToList();
        var diagram = SequenceDiagram.Of(tail, last: 10, total: 5_000);
        Assert.Contains("Note over mm1: the last 10 of 5000 events", diagram);
        Assert.Contains(": 4991 ", diagram);
        Assert.DoesNotContain(": 4990 ", diagram);
    }

    [Fact]
    public void A_whole_tail_drawn_from_a_longer_log_still_says_how_long_the_log_was()
    {
        var tail = Enumerable.Range(41, 10).Select(i => Event(i, "mm1", null, new SimEvent.ShootdownFinished(i))).ToList();
        Assert.Contains("Note over mm1: the last 10 of 50 events", SequenceDiagram.Of(tail, total: 50));
    }
}

using Faultsim.Actors;

namespace Faultsim.Tests.Actors;

/// <summary>
/// A failure's message is all that crosses nodes of it: the machine tells a wait that ran past its bound (which a lost
/// node may have stalled) from the simulation's own faults by the message alone.
/// </summary>
public sealed class ProtocolExceptionTests
{
    [Fact]
    public void A_stuck_wait_is_known_by_its_message_and_an_unexpected_message_is_not()
    {
        var stuck = ProtocolException.Stuck("tlb0", "Faulting", "fault#1.2", pending: null, TimeSpan.FromSeconds(10));
        var unexpected = ProtocolException.Unexpected("tlb0", "Idle", "a message");

        Assert.StartsWith("protocol stuck: tlb0 waited more than 10 s in state Faulting for fault#1.2", stuck.Message);
        Assert.True(ProtocolException.IsStuck(stuck.Message));
        Assert.False(ProtocolException.IsStuck(unexpected.Message));
        Assert.False(ProtocolException.IsStuck("Object reference not set to an instance of an object."));
    }
}

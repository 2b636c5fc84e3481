using Akka.TestKit.Xunit2;
using Faultsim.Actors.Placement;

namespace Faultsim.Tests.Actors;

/// <summary>A node's host once its node has begun to leave: it makes no part of a new run, which it could never release.</summary>
public sealed class NodeHostSpec : TestKit
{
    private static readonly RunSpec Spec = new("test.conf", "", []);

    [Fact]
    public void A_leaving_node_refuses_a_new_runs_parts_and_says_why()
    {
        var made = 0;
        var host = Sys.ActorOf(NodeHostActor.Props((_, _, _, _) => { made++; throw new InvalidOperationException("not reached"); }, "node-a"));

        host.Tell(LeaveRuns.Instance, TestActor);
        ExpectMsg<Akka.Done>(); // no run here: the node may go at once
        host.Tell(new CreateParts("run-1", Spec, []), TestActor);

        var refused = ExpectMsg<PartsRefused>();
        Assert.Equal("node-a", refused.Node);
        Assert.Equal("the node is leaving the cluster; submit the run again, to the nodes that stay", refused.Reason);
        Assert.Equal(0, made);
    }

    [Fact]
    public void A_serving_node_makes_a_new_runs_parts()
    {
        var made = 0;
        var host = Sys.ActorOf(NodeHostActor.Props((_, _, _, _) => { made++; throw new InvalidOperationException("a spec it cannot read"); }, "node-a"));

        host.Tell(new CreateParts("run-1", Spec, []), TestActor);

        Assert.Equal("a spec it cannot read", ExpectMsg<PartsRefused>().Reason); // it tried to make them
        Assert.Equal(1, made);
    }
}

using System.Collections.Immutable;
using Faultsim.Model.Workloads;
using Faultsim.Model.Workloads.Generators;

namespace Faultsim.Tests.Model;

/// <summary>The cursor a CPU reads its operations with: a script's, each stream's in its place, read only as far as asked.</summary>
public sealed class OpCursorTests
{
    private static Op.Barrier B(string name) => new(1, name);

    /// <summary>A stream of barriers named by <paramref name="names"/>, counting how far it was read.</summary>
    private sealed class Counted(params string[] names)
    {
        public int Read { get; private set; }

        public Op.Stream Op => new(1, new GeneratedOps("counted", names.Length, [.. names.Select(B)], Ops));

        private IEnumerable<Op> Ops()
        {
            foreach (var name in names)
            {
                Read++;
                yield return B(name);
            }
        }
    }

    [Fact]
    public void A_stream_is_read_in_its_place_between_the_scripts_operations_and_an_empty_one_is_passed_over()
    {
        var (stream, empty) = (new Counted("s1", "s2"), new Counted());
        var cursor = new OpCursor([B("a"), stream.Op, empty.Op, B("b")]);
        var names = new List<string>();
        for (; cursor.Current is Op.Barrier barrier; cursor.Advance())
            names.Add(barrier.Name);
        Assert.Equal(["a", "s1", "s2", "b"], names);
        Assert.Null(cursor.Current);
        cursor.Advance();                                        // past the end stays there
        Assert.Null(cursor.Current);
    }

    [Fact]
    public void Looking_ahead_reads_a_stream_only_as_far_as_asked_and_holds_what_it_read()
    {
        var stream = new Counted("s1", "s2", "s3", "s4");
        var cursor = new OpCursor([B("a"), stream.Op]);
        Assert.Equal("a", ((Op.Barrier)cursor.Current!).Name);
        Assert.Equal(0, stream.Read);
        Assert.Equal("s2", ((Op.Barrier)cursor.At(2)!).Name);
        Assert.Equal(2, stream.Read);
        Assert.Equal(3, cursor.Held);
        cursor.Advance();
        Assert.Equal("s1", ((Op.Barrier)cursor.Current!).Name);
        Assert.Equal(2, cursor.Held);
        Assert.Null(cursor.At(4));                               // past the end
        Assert.Equal(4, stream.Read);
    }

    [Fact]
    public void A_stream_that_yields_a_stream_is_an_error()
    {
        var inner = new Counted("x");
        var outer = new Op.Stream(1, new GeneratedOps("outer", 1, [], () => [inner.Op]));
        Assert.Contains("a stream yields no streams", Assert.Throws<InvalidOperationException>(() => new OpCursor([outer]).Current).Message);
    }

    [Fact]
    public void Every_pass_over_a_stream_starts_again_from_its_first_operation()
    {
        var stream = new Counted("s1", "s2").Op;
        ImmutableArray<Op> script = [stream];
        string First(OpCursor c) => ((Op.Barrier)c.Current!).Name;
        var (one, two) = (new OpCursor(script), new OpCursor(script));
        one.Advance();
        Assert.Equal("s2", First(one));
        Assert.Equal("s1", First(two));
    }
}

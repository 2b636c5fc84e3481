using Faultsim.Host.Configuration;

namespace Faultsim.Tests.Host;

/// <summary>The HOCON pre-scan: the line of every key, and malformed text rejected at the right line.</summary>
public sealed class HoconSourceMapTests
{
    private const string Origin = "test.conf";

    private const string Text = """"
        # a comment on line 1
        faultsim {
          seed = 7
          machine {
            cpus = 2
            tlb.entries = 16
          }
          machine.disk.bad-pages = [
            "a:1"
          ]
          workload.cpus {
            0 = """

              run p
              load x
            """
            1 = "run q"
          }
        }
        """";

    private static ConfigException Malformed(string text) => Assert.Throws<ConfigException>(() => HoconSourceMap.Scan(Origin, text));

    [Theory]
    [InlineData("faultsim", 2)]
    [InlineData("faultsim.seed", 3)]
    [InlineData("faultsim.machine", 4)]
    [InlineData("faultsim.machine.cpus", 5)]
    [InlineData("faultsim.machine.tlb.entries", 6)]
    [InlineData("faultsim.machine.disk.bad-pages", 8)]
    [InlineData("faultsim.workload.cpus", 11)]
    [InlineData("faultsim.workload.cpus.0", 12)]
    [InlineData("faultsim.workload.cpus.1", 17)]
    public void Each_key_of_nested_and_dotted_paths_is_found_at_its_line(string key, int line)
    {
        var map = HoconSourceMap.Scan(Origin, Text);
        Assert.True(map.Sets(key));
        Assert.Equal(line, map.LineOf(key));
        Assert.Contains(key, map.Keys);
    }

    [Fact]
    public void The_value_line_of_a_triple_quoted_string_is_its_first_non_blank_line()
    {
        var map = HoconSourceMap.Scan(Origin, Text);
        Assert.Equal(14, map.ValueLineOf("faultsim.workload.cpus.0"));
        Assert.Equal(17, map.ValueLineOf("faultsim.workload.cpus.1"));
        Assert.Equal(5, map.ValueLineOf("faultsim.machine.cpus"));
    }

    [Fact]
    public void A_key_that_is_not_set_has_no_line()
    {
        var map = HoconSourceMap.Scan(Origin, "a { b = 1 }");
        Assert.False(map.Sets("a.c"));
        Assert.Null(map.LineOf("a.c"));
        Assert.Equal(["a", "a.b"], map.Keys.Order());
    }

    [Fact]
    public void A_text_without_lines_knows_its_keys_but_gives_no_line()
    {
        var map = HoconSourceMap.Scan("--set machine.cpus=2", "faultsim.machine.cpus = 2", hasLines: false);
        Assert.True(map.Sets("faultsim.machine.cpus"));
        Assert.Null(map.LineOf("faultsim.machine.cpus"));
        Assert.False(map.HasLines);
        Assert.Equal("--set machine.cpus=2", map.Origin);
    }

    [Fact]
    public void A_text_in_outer_braces_and_with_comments_of_both_kinds_scans()
    {
        var map = HoconSourceMap.Scan(Origin, "{\n  // a comment\n  a = 1, b: two # another\n  c += 3\n}\n");
        Assert.Equal(3, map.LineOf("a"));
        Assert.Equal(3, map.LineOf("b"));
        Assert.Equal(4, map.LineOf("c"));
    }

    [Fact]
    public void An_unclosed_brace_is_reported_at_the_line_that_opened_it()
    {
        var e = Malformed("a {\n  b = 1\n}\nc {\n  d = 2\n");
        Assert.Equal(4, e.Line);
        Assert.Contains("'{' opened here is never closed", e.Message);
        Assert.StartsWith("test.conf:4: ", e.Message);
    }

    [Fact]
    public void An_unclosed_bracket_at_the_end_of_the_text_is_reported_at_the_line_that_opened_it()
    {
        var e = Malformed("a = 1\nb = [1,\n  2\n");
        Assert.Equal(2, e.Line);
        Assert.Contains("'[' opened here is never closed", e.Message);
    }

    [Fact]
    public void An_unclosed_bracket_inside_an_object_is_reported_at_the_line_that_opened_it()
    {
        var e = Malformed("faultsim.machine.disk {\n  read-error-rate = 0\n  bad-pages = [\"a:1\"\n}\n");
        Assert.Equal(3, e.Line);
        Assert.Contains("'[' opened here is never closed", e.Message);
    }

    [Fact]
    public void A_stray_closing_bracket_is_reported_where_it_is()
    {
        var e = Malformed("a = 1\n}\n");
        Assert.Equal(2, e.Line);
        Assert.Contains("no matching opening bracket", e.Message);
    }

    [Theory]
    [InlineData("a = 1\nb = \"never closed\nc = 2\n", 2)]
    [InlineData("a = 1\n\nb = \"\"\"never\nclosed\n", 3)]
    [InlineData("a {\n  \"quoted key = 1\n}\n", 2)]
    public void An_unterminated_string_is_reported_at_the_line_it_starts(string text, int line)
    {
        var e = Malformed(text);
        Assert.Equal(line, e.Line);
        Assert.Contains("is never closed", e.Message);
    }

    [Theory]
    [InlineData("a = 1\nb =\nc = 2\n", 2, "key 'b' has no value")]
    [InlineData("a {\n  b = # nothing\n}\n", 2, "key 'a.b' has no value")]
    [InlineData("a = 1\nb\n", 2, "key 'b' needs '=' and a value")]
    [InlineData("a { b = 1, c }\n", 1, "key 'a.c' needs '=' and a value")]
    public void A_key_without_a_value_is_reported_at_its_line(string text, int line, string message)
    {
        var e = Malformed(text);
        Assert.Equal(line, e.Line);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Include_is_refused_at_its_line_with_the_alternative()
    {
        var e = Malformed("a = 1\ninclude \"other.conf\"\n");
        Assert.Equal(2, e.Line);
        Assert.Contains("'include' is not supported; pass the file with --config instead", e.Message);
    }

    [Fact]
    public void An_error_in_a_text_without_lines_names_only_its_origin()
    {
        var e = Assert.Throws<ConfigException>(() => HoconSourceMap.Scan("--set x=\"", "faultsim.x = \"", hasLines: false));
        Assert.Null(e.Line);
        Assert.StartsWith("--set x=\": ", e.Message);
    }
}

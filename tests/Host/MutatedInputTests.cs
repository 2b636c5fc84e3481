using System.Text.RegularExpressions;
using CsCheck;
using Faultsim.Host.Cli;

namespace Faultsim.Tests.Host;

/// <summary>
/// The shipped config and scenario files, mutated at random — a token deleted, duplicated, swapped with another or
/// corrupted, a number turned into an extreme — must each end in a verdict: exit 0, 1 or 2 (or 3, the step limit this
/// test sets on the actor engine), never a stack trace, never an internal error, and within a bound.
/// </summary>
public sealed partial class MutatedInputTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A mutation that has not answered in this long is a hang (a generous bound on a loaded machine, not a race).</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static readonly string[] Shipped =
    [
        Path.Combine(Root(), "config", "faultsim.conf"),
        .. Directory.GetFiles(Path.Combine(Root(), "config", "scenarios"), "*.conf").Order(StringComparer.Ordinal),
    ];

    private static readonly string[] Extremes =
        ["0", "-1", "1", "4294967296", "9223372036854775807", "18446744073709551615", "99999999999999999999999", "1e30", "-0", "0x", "NaN", "1e-300"];

    private static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Actors.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("the repository's root (Actors.sln) is not above the test binaries");
    }

    /// <summary>Words, numbers, quoted strings and every single punctuation character, with the whitespace between them kept.</summary>
    [GeneratedRegex("""("(?:[^"\\]|\\.)*")|([A-Za-z0-9_.+\-]+)|(\s+)|(.)""", RegexOptions.Singleline)]
    private static partial Regex Tokens();

    private sealed record Mutation(int File, int Kind, int At, int Other, int Extreme, char Junk)
    {
        public string Apply(string text)
        {
            var tokens = Tokens().Matches(text).Select(m => m.Value).ToList();
            var solid = Enumerable.Range(0, tokens.Count).Where(i => !string.IsNullOrWhiteSpace(tokens[i])).ToList();
            var (a, b) = (solid[At % solid.Count], solid[Other % solid.Count]);
            var numbers = solid.Where(i => char.IsDigit(tokens[i][0])).ToList();
            switch (Kind)
            {
                case 0:
                    tokens.RemoveAt(a);
                    break;
                case 1:
                    tokens.Insert(a, tokens[a] + " ");
                    break;
                case 2:
                    (tokens[a], tokens[b]) = (tokens[b], tokens[a]);
                    break;
                case 3:
                    var t = tokens[a];
                    var i = Other % t.Length;
                    tokens[a] = t[..i] + Junk + t[(i + 1)..];
                    break;
                default:
                    if (numbers.Count > 0)
                        tokens[numbers[At % numbers.Count]] = Extremes[Extreme];
                    break;
            }
            return string.Concat(tokens);
        }
    }

    private static readonly Gen<Mutation> Mutations =
        Gen.Select(Gen.Int[0, Shipped.Length - 1], Gen.Int[0, 4], Gen.Int[0, 1 << 20], Gen.Int[0, 1 << 20], Gen.Int[0, Extremes.Length - 1],
            Gen.Char['\0', '\u007f'], (file, kind, at, other, extreme, junk) => new Mutation(file, kind, at, other, extreme, junk));

    private void Check(Mutation mutation, string[] engine, int[] allowed)
    {
        var path = Path.Combine(_dir.Root, "mutated.conf");
        File.WriteAllText(path, mutation.Apply(File.ReadAllText(Shipped[mutation.File])));
        using var output = new StringWriter();
        using var error = new StringWriter();
        var run = Task.Run(() => FaultsimCli.Run(["run", "--config", path, .. engine], output, error, _ => null));
        if (!run.Wait(Bound))
            throw new TimeoutException($"{mutation} of {Path.GetFileName(Shipped[mutation.File])} did not finish within {Bound.TotalSeconds} s");
        var err = error.ToString();
        var what = $"{mutation} of {Path.GetFileName(Shipped[mutation.File])}: exit {run.Result}: {err}";
        Assert.True(allowed.Contains(run.Result), what);
        Assert.DoesNotContain("   at ", err);
        Assert.DoesNotContain("internal error", err);
        if (run.Result == ExitCodes.BadInput)
            Assert.True(err.TrimEnd('\n').Split('\n').Length == 1, what);
    }

    [Fact]
    public void Two_thousand_mutations_of_the_shipped_files_on_the_reference_machine_each_end_in_a_verdict()
    {
        Mutations.Sample(m => Check(m, ["--engine", "reference"], [0, 1, 2]), iter: 2_000, threads: 1, seed: "0N0XIzNsQ0O2");
    }

    [Fact]
    public void Mutations_of_the_shipped_files_on_the_actor_engine_each_end_in_a_verdict()
    {
        Mutations.Sample(m => Check(m, ["--max-steps", "20000"], [0, 1, 2, 3]), iter: 150, threads: 1, seed: "3aVdbd0eHVe3");
    }
}

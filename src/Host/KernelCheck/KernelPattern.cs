using System.Collections.Immutable;
using System.Text;

namespace Faultsim.Host.KernelCheck;

/// <summary>
/// One access pattern of <c>faultsim kernel-check</c>: the C helper's function of the same name runs it on the host's
/// kernel, and this workload runs it in faultsim. CPU 0's script marks each measured part: <c>#&gt; PART PROCESS</c>
/// opens it, <c>#&lt; PART</c> closes it (both are comments to the script parser). A part's figures are PROCESS's in
/// the workload cut after <c>#&lt;</c> less its figures in the workload cut before <c>#&gt;</c> — as the helper reads
/// getrusage before and after the part. A cut keeps CPU 0's script up to the mark and drops the other CPUs' scripts
/// (a cut at the end of CPU 0's script is the whole workload).
/// </summary>
/// <param name="Name">The pattern's name, as the helper prints it.</param>
/// <param name="What">What the pattern does, for the table.</param>
/// <param name="Body">The HOCON inside <c>faultsim.workload</c> but for the scripts: files and processes.</param>
/// <param name="Scripts">One script per CPU, CPU 0 first.</param>
/// <param name="Machine">HOCON inside <c>faultsim.machine</c> of the pattern's own (over the host's settings), or empty.</param>
internal sealed record KernelPattern(string Name, string What, string Body, ImmutableArray<string> Scripts, string Machine = "")
{
    public KernelPattern(string name, string what, string body, string script, string machine = "")
        : this(name, what, body, [script], machine)
    {
    }

    private string[] Lines => Scripts[0].Split('\n');

    /// <summary>The measured parts, in script order: each its name, its process, and the line counts of CPU 0's script before its start and through its end.</summary>
    public ImmutableArray<Part> Parts
    {
        get
        {
            var lines = Lines;
            var parts = ImmutableArray.CreateBuilder<Part>();
            for (var i = 0; i < lines.Length; i++)
            {
                if (!lines[i].Trim().StartsWith("#>", StringComparison.Ordinal))
                    continue;
                var words = lines[i].Trim()[2..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (words.Length != 2)
                    throw new InvalidOperationException($"kernel-check pattern {Name}: '{lines[i].Trim()}' is not '#> PART PROCESS'");
                var end = Array.FindIndex(lines, i + 1, l => l.Trim() == $"#< {words[0]}");
                if (end < 0)
                    throw new InvalidOperationException($"kernel-check pattern {Name}: part {words[0]} is never closed with '#< {words[0]}'");
                parts.Add(new Part(words[0], words[1], i, end + 1));
            }
            if (parts.Count == 0)
                throw new InvalidOperationException($"kernel-check pattern {Name} measures no part");
            return parts.ToImmutable();
        }
    }

    /// <summary>The pattern's config file (over the host's settings), cut after <paramref name="lines"/> lines of CPU 0's script.</summary>
    public string Config(int lines)
    {
        var all = Lines;
        var whole = all.Skip(lines).All(l => l.Trim().Length == 0 || l.Trim().StartsWith('#'));
        var text = new StringBuilder();
        text.Append("faultsim {\n");
        text.Append($"  machine {{ cpus = {Scripts.Length}\n{Machine}\n  }}\n");
        text.Append("  workload {\n").Append(Body).Append("\n    cpus {\n");
        text.Append("      0 = \"\"\"\n").Append(string.Join('\n', all.Take(lines))).Append("\n\"\"\"\n");
        if (whole)
            for (var cpu = 1; cpu < Scripts.Length; cpu++)
                text.Append($"      {cpu} = \"\"\"\n").Append(Scripts[cpu]).Append("\n\"\"\"\n");
        text.Append("    }\n  }\n}\n");
        return text.ToString();
    }

    /// <summary>A measured part: <see cref="Process"/>'s figures between the cut after <see cref="Before"/> lines and the one after <see cref="Through"/>.</summary>
    public sealed record Part(string Name, string Process, int Before, int Through);
}

using System.Globalization;
using System.Text;

namespace Faultsim.Host.Scenarios;

/// <summary>Pieces of scenario-file text that every writer of one (the swarm's draws, the shrinker's reproducers) shares.</summary>
public static class ScenarioText
{
    /// <summary>The workload's <c>cpus { … }</c> block: one triple-quoted script per CPU, a line per operation, in CPU order.</summary>
    public static void AppendScripts<TScript>(StringBuilder s, IEnumerable<KeyValuePair<int, TScript>> scripts) where TScript : IEnumerable<string>
    {
        s.AppendLine("    cpus {");
        foreach (var (cpu, script) in scripts.OrderBy(kv => kv.Key))
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"      {cpu} = \"\"\"");
            foreach (var line in script)
                s.AppendLine(CultureInfo.InvariantCulture, $"        {line}");
            s.AppendLine("      \"\"\"");
        }
        s.AppendLine("    }");
    }
}

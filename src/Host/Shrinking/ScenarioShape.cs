using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Akka.Configuration;
using Akka.Configuration.Hocon;
using Faultsim.Host.Scenarios;

namespace Faultsim.Host.Shrinking;

/// <summary>A key of a scenario file with its value as HOCON text.</summary>
public sealed record Field(string Key, string Value);

/// <summary>A named entry of the workload (a file, a region) with its fields.</summary>
public sealed record Item(string Name, ImmutableArray<Field> Fields);

/// <summary>A process the machine starts with: its own fields and its regions.</summary>
public sealed record ShapeProcess(string Name, ImmutableArray<Field> Fields, ImmutableArray<Item> Regions);

/// <summary>
/// A scenario file as the shrinker edits it: every key outside the workload by its full path (the knobs), the
/// workload's files, processes with their regions and a script per CPU as lines. Written back, it is a scenario file
/// the normal loader reads: the same run, with what the shrinker took out left out.
/// </summary>
public sealed record ScenarioShape(ImmutableArray<Field> Knobs, ImmutableArray<Item> Files, ImmutableArray<ShapeProcess> Processes,
    ImmutableSortedDictionary<int, ImmutableArray<string>> Scripts)
{
    private const string Workload = "faultsim.workload";

    /// <summary>The script lines (operations; blank and comment lines are none).</summary>
    public int Lines => Scripts.Values.Sum(s => s.Length);

    /// <summary>Parses scenario-file text (HOCON; its later keys override earlier ones, as --set does).</summary>
    public static ScenarioShape Parse(string text)
    {
        var root = ConfigurationFactory.ParseString(text).Root.GetObject();
        var knobs = ImmutableArray.CreateBuilder<Field>();
        var (files, processes, scripts) = (ImmutableArray<Item>.Empty, ImmutableArray<ShapeProcess>.Empty, ImmutableSortedDictionary<int, ImmutableArray<string>>.Empty);
        void Walk(HoconObject o, string prefix)
        {
            foreach (var (key, value) in o.Items)
            {
                var path = prefix + key;
                if (path == Workload && value.IsObject())
                {
                    foreach (var (part, v) in value.GetObject().Items)
                    {
                        if (part == "files" && v.IsObject())
                            files = [.. v.GetObject().Items.Select(f => ItemOf(f.Key, f.Value))];
                        else if (part == "processes" && v.IsObject())
                            processes = [.. v.GetObject().Items.Select(p => ProcessOf(p.Key, p.Value))];
                        else if (part == "cpus" && v.IsObject() && v.GetObject().Items.Keys.All(k => int.TryParse(k, out _)))
                            scripts = v.GetObject().Items.ToImmutableSortedDictionary(s => int.Parse(s.Key, CultureInfo.InvariantCulture), s => ScriptLines(s.Value.GetString()));
                        else if (v.IsObject())
                            Walk(v.GetObject(), $"{path}.{part}.");
                        else
                            knobs.Add(new Field($"{path}.{part}", Render(v)));
                    }
                }
                else if (value.IsObject())
                {
                    Walk(value.GetObject(), path + ".");
                }
                else
                {
                    knobs.Add(new Field(path, Render(value)));
                }
            }
        }
        Walk(root, "");
        return new ScenarioShape(knobs.ToImmutable(), files, processes, scripts);
    }

    /// <summary>The value of a knob (full path), or null.</summary>
    public string? Knob(string path) => Knobs.FirstOrDefault(k => k.Key == path)?.Value;

    /// <summary>This shape with the knob set (added at the end when absent), or removed when <paramref name="value"/> is null.</summary>
    public ScenarioShape WithKnob(string path, string? value)
    {
        var index = Knobs.IndexOf(Knobs.FirstOrDefault(k => k.Key == path)!);
        if (value is null)
            return index < 0 ? this : this with { Knobs = Knobs.RemoveAt(index) };
        return this with { Knobs = index < 0 ? Knobs.Add(new Field(path, value)) : Knobs.SetItem(index, new Field(path, value)) };
    }

    /// <summary>The scenario file: <paramref name="header"/> as comment lines, then the knobs and the workload.</summary>
    public string Write(IEnumerable<string> header)
    {
        var s = new StringBuilder();
        foreach (var line in header)
            s.Append("# ").AppendLine(line);
        s.AppendLine("faultsim {");
        foreach (var knob in Knobs.Where(k => k.Key.StartsWith("faultsim.", StringComparison.Ordinal)))
            s.AppendLine(CultureInfo.InvariantCulture, $"  {knob.Key["faultsim.".Length..]} = {knob.Value}");
        s.AppendLine("  workload {");
        if (Files.Length > 0)
        {
            s.AppendLine("    files {");
            foreach (var file in Files)
                s.AppendLine(CultureInfo.InvariantCulture, $"      {file.Name} {{ {Fields(file.Fields)} }}");
            s.AppendLine("    }");
        }
        s.AppendLine("    processes {");
        foreach (var process in Processes)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"      {process.Name} {{ {Fields(process.Fields)}{(process.Fields.IsEmpty ? "" : ", ")}regions {{");
            foreach (var region in process.Regions)
                s.AppendLine(CultureInfo.InvariantCulture, $"        {region.Name} {{ {Fields(region.Fields)} }}");
            s.AppendLine("      } }");
        }
        s.AppendLine("    }");
        ScenarioText.AppendScripts(s, Scripts);
        s.AppendLine("  }");
        s.AppendLine("}");
        foreach (var knob in Knobs.Where(k => !k.Key.StartsWith("faultsim.", StringComparison.Ordinal)))
            s.AppendLine(CultureInfo.InvariantCulture, $"{knob.Key} = {knob.Value}");
        return s.ToString();
    }

    /// <summary>A value as HOCON text: bare when it is a plain word or number, else quoted.</summary>
    public static string Render(string value) =>
        value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? value
            : "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
                .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal) + "\"";

    private static string Render(HoconValue value) =>
        value.IsArray() ? "[" + string.Join(", ", value.GetArray().Select(Render)) + "]" : Render(value.GetString() ?? "");

    private static string Fields(ImmutableArray<Field> fields) => string.Join(", ", fields.Select(f => $"{f.Key} = {f.Value}"));

    private static ImmutableArray<Field> FieldsOf(HoconValue value, string prefix = "")
    {
        var fields = ImmutableArray.CreateBuilder<Field>();
        foreach (var (key, v) in value.GetObject().Items)
        {
            if (v.IsObject())
                fields.AddRange(FieldsOf(v, prefix + key + "."));
            else
                fields.Add(new Field(prefix + key, Render(v)));
        }
        return fields.ToImmutable();
    }

    private static Item ItemOf(string name, HoconValue value) => new(name, value.IsObject() ? FieldsOf(value) : []);

    private static ShapeProcess ProcessOf(string name, HoconValue value)
    {
        var items = value.IsObject() ? value.GetObject().Items : new Dictionary<string, HoconValue>();
        var regions = items.TryGetValue("regions", out var r) && r.IsObject() ? r.GetObject().Items.Select(i => ItemOf(i.Key, i.Value)).ToImmutableArray() : [];
        var fields = items.Where(i => i.Key != "regions").SelectMany(i => i.Value.IsObject() ? FieldsOf(i.Value, i.Key + ".") : [new Field(i.Key, Render(i.Value))]);
        return new ShapeProcess(name, [.. fields], regions);
    }

    private static ImmutableArray<string> ScriptLines(string script) =>
    [
        .. script.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')),
    ];
}

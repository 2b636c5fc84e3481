using System.Text;

namespace Faultsim.Host.Configuration;

/// <summary>
/// Reads the structure of a HOCON text to learn the line of every key, and rejects malformed text
/// with its line. Akka's HOCON parser tracks no positions and silently accepts some malformed input
/// (an unterminated string, a key without a value) or loops on it (an unclosed array), so every
/// config file passes through here before Akka parses it.
/// </summary>
public sealed class HoconSourceMap
{
    /// <summary>The deepest nesting of '{' and '[' a text may have: a faultsim config needs fewer than ten levels.</summary>
    public const int MaxDepth = 64;

    private readonly Dictionary<string, int> _keyLines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _valueLines = new(StringComparer.Ordinal);
    private readonly List<Setting> _settings = [];
    private readonly List<(string Name, int Line)> _substitutions = [];
    private readonly string _text;
    private int _pos, _line = 1, _depth;

    private HoconSourceMap(string origin, string text, bool hasLines)
    {
        Origin = origin;
        HasLines = hasLines;
        _text = text;
    }

    /// <summary>Where the text came from, for messages: a file path, "faultsim.conf (embedded)" or "--set".</summary>
    public string Origin { get; }

    /// <summary>Whether the text is a file whose lines mean something to a reader (a --set override is not).</summary>
    public bool HasLines { get; }

    /// <summary>Every key path set in the text (objects and values), e.g. "faultsim.machine.cpus".</summary>
    public IEnumerable<string> Keys => _keyLines.Keys;

    /// <summary>The control characters a config may not hold: all but tab and the line ends (a form feed or a vertical tab hangs Akka's parser).</summary>
    private static readonly System.Buffers.SearchValues<char> ForbiddenControls = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(1, 0x9f).Select(c => (char)c).Where(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r'))]);

    /// <summary>Scans <paramref name="text"/>; throws <see cref="ConfigException"/> at the first malformed line.</summary>
    public static HoconSourceMap Scan(string origin, string text, bool hasLines = true)
    {
        var map = new HoconSourceMap(origin, text, hasLines);
        if (text.IndexOf('\0', StringComparison.Ordinal) is var nul and >= 0)
            throw map.Error(1 + text.AsSpan(0, nul).Count('\n'), "has a NUL byte: a config is text (is this a binary file?)");
        if (text.AsSpan().IndexOfAny(ForbiddenControls) is var control and >= 0)
            throw map.Error(1 + text.AsSpan(0, control).Count('\n'),
                $"has the control character U+{(int)text[control]:X4}, which Akka's HOCON parser does not take: replace it by a space or remove it");
        map.SkipSpace(newlines: true);
        if (map.Peek() == '{')
        {
            var open = map._line;
            map._pos++;
            map.ObjectBody("", '}', open);
        }
        else
        {
            map.ObjectBody("", '\0', 1);
        }
        return map;
    }

    /// <summary>Every key the text sets, in order, with the kind of value each is given and its line (a key set twice is here twice).</summary>
    public IReadOnlyList<Setting> Settings => _settings;

    /// <summary>The line of the first <c>${name}</c> (or <c>${?name}</c>) substitution of <paramref name="name"/>, if the text has one.</summary>
    public int? SubstitutionLine(string name) =>
        HasLines && _substitutions.FirstOrDefault(s => s.Name == name) is { Name: not null } found ? found.Line : null;

    /// <summary>Whether the text sets <paramref name="path"/>.</summary>
    public bool Sets(string path) => _keyLines.ContainsKey(path);

    /// <summary>The line where <paramref name="path"/> is set, if this text sets it and has lines.</summary>
    public int? LineOf(string path) => HasLines && _keyLines.TryGetValue(path, out var line) ? line : null;

    /// <summary>The line where the value of <paramref name="path"/> starts its first non-blank text (for multi-line strings).</summary>
    public int? ValueLineOf(string path) => _valueLines.TryGetValue(path, out var line) ? line : null;

    private void ObjectBody(string prefix, char close, int openLine)
    {
        Enter(openLine);
        try
        {
            ObjectFields(prefix, close, openLine);
        }
        finally
        {
            _depth--;
        }
    }

    private void ObjectFields(string prefix, char close, int openLine)
    {
        while (true)
        {
            SkipSpace(newlines: true);
            var c = Peek();
            if (c == '\0')
            {
                if (close != '\0')
                    throw Error(openLine, "'{' opened here is never closed; add the matching '}'");
                return;
            }
            if (c == close)
            {
                _pos++;
                return;
            }
            if (c is '}' or ']')
                throw Error(_line, $"unexpected '{c}': no matching opening bracket");
            if (c == ',')
            {
                _pos++;
                continue;
            }
            Field(prefix);
        }
    }

    private void Field(string prefix)
    {
        var keyLine = _line;
        var (key, quotedDot) = Key();
        if (key == "include")
            throw Error(keyLine, "'include' is not supported; pass the file with --config instead");
        var path = prefix.Length == 0 ? key : prefix + "." + key;
        if (quotedDot is not null && !(path == "akka" || path.StartsWith("akka.", StringComparison.Ordinal)))
            throw Error(keyLine, $"the quoted key \"{quotedDot}\" is one key with dots in its name, not a path; write it without quotes: {quotedDot}");
        SkipSpace(newlines: false);
        var c = Peek();
        if (c == '{')
        {
            Record(path, keyLine, keyLine, ValueKind.Object);
            _pos++;
            ObjectBody(path, '}', keyLine);
            return;
        }
        if (c is '=' or ':')
            _pos++;
        else if (c == '+' && PeekAt(1) == '=')
            _pos += 2;
        else
            throw Error(keyLine, $"key '{path}' needs '=' and a value, or '{{'");
        SkipSpace(newlines: false);
        if (Peek() is '\0' or '\n' or ',' or '}' or '#' || (Peek() == '/' && PeekAt(1) == '/'))
            throw Error(keyLine, $"key '{path}' has no value after '='");
        Value(path, keyLine);
    }

    private void Value(string path, int keyLine)
    {
        if (Peek() == '{')
        {
            Record(path, keyLine, _line, ValueKind.Object);
            var open = _line;
            _pos++;
            ObjectBody(path, '}', open);
            return;
        }
        if (Peek() == '[')
        {
            Record(path, keyLine, _line, ValueKind.List);
            Array();
            return;
        }
        var start = _pos;
        Record(path, keyLine, _line, ValueKind.Value);
        var substituted = SimpleValues(path);
        var text = _text[start.._pos].Trim();
        var kind = substituted ? ValueKind.Substitution : text == "null" ? ValueKind.Null : ValueKind.Value;
        _settings[^1] = _settings[^1] with { Kind = kind, Text = text };
    }

    private void Array()
    {
        var open = _line;
        _pos++;
        Enter(open);
        try
        {
            ArrayItems(open);
        }
        finally
        {
            _depth--;
        }
    }

    /// <summary>One level deeper into '{' or '['; past <see cref="MaxDepth"/> the text is refused (deep nesting would overflow the stack of any recursive parser).</summary>
    private void Enter(int line)
    {
        if (++_depth > MaxDepth)
            throw Error(line, $"nested more than {MaxDepth} levels deep with '{{' and '['; a faultsim config needs fewer than ten");
    }

    private void ArrayItems(int open)
    {
        while (true)
        {
            SkipSpace(newlines: true);
            var c = Peek();
            switch (c)
            {
                case '\0':
                    throw Error(open, "'[' opened here is never closed; add the matching ']'");
                case ']':
                    _pos++;
                    return;
                case ',':
                    _pos++;
                    continue;
                case '}':
                    // An object in the array consumes its own '}', so this one closes an enclosing object: the ']' is missing.
                    throw Error(open, "'[' opened here is never closed; add the matching ']'");
                case '{':
                    var objectLine = _line;
                    _pos++;
                    ObjectBody("", '}', objectLine);
                    break;
                case '[':
                    Array();
                    break;
                default:
                    SimpleValues(null);
                    break;
            }
        }
    }

    /// <summary>A value concatenation on one line: unquoted text, strings and substitutions; whether it has a substitution.</summary>
    private bool SimpleValues(string? path)
    {
        var first = true;
        var substituted = false;
        while (true)
        {
            var c = Peek();
            if (c is '\0' or '\n' or ',' or '}' or ']' or '#' || (c == '/' && PeekAt(1) == '/'))
                return substituted;
            if (c is ' ' or '\t' or '\r')
            {
                _pos++;
                continue;
            }
            if (c == '"')
            {
                var startLine = _line;
                var content = QuotedString();
                if (first && path is not null)
                    _valueLines[path] = startLine + LeadingBlankLines(content);
            }
            else if (c == '$' && PeekAt(1) == '{')
            {
                var line = _line;
                var end = _text.IndexOf('}', _pos);
                var newline = _text.IndexOf('\n', _pos);
                if (end < 0 || (newline >= 0 && newline < end))
                    throw Error(line, "'${' substitution is never closed with '}'");
                _substitutions.Add((_text[(_pos + 2)..end].TrimStart('?').Trim(), line));
                substituted = true;
                _pos = end + 1;
            }
            else if (c is '{' or '[' or '=' or ':')
            {
                throw Error(_line, $"unexpected '{c}' in a value; quote the value if it contains it");
            }
            else
            {
                while (Peek() is var u && u != '\0' && !char.IsWhiteSpace(u) && u is not (',' or '}' or ']' or '"' or '#' or '{' or '[' or '=' or ':')
                       && !(u == '/' && PeekAt(1) == '/') && !(u == '$' && PeekAt(1) == '{'))
                    _pos++;
            }
            first = false;
        }
    }

    /// <summary>A key; and the first quoted part of it with a dot in it, if any (HOCON reads that as one key, not a path).</summary>
    private (string Key, string? QuotedDot) Key()
    {
        var key = new StringBuilder();
        string? quotedDot = null;
        while (true)
        {
            var c = Peek();
            if (c == '"')
            {
                var part = QuotedString();
                if (part.Contains('.'))
                    quotedDot ??= part;
                key.Append(part);
            }
            else if (c != '\0' && !char.IsWhiteSpace(c) && c is not ('=' or ':' or '{' or '}' or '[' or ']' or ',' or '"' or '#' or '+' or '$'))
            {
                if (c == '/' && PeekAt(1) == '/')
                    break;
                key.Append(c);
                _pos++;
            }
            else
            {
                break;
            }
        }
        if (key.Length == 0)
            throw Error(_line, Peek() == '\0' ? "unexpected end of file" : $"expected a key, found '{Peek()}'");
        return (key.ToString(), quotedDot);
    }

    private string QuotedString()
    {
        var startLine = _line;
        if (_text.AsSpan(_pos).StartsWith("\"\"\""))
        {
            var end = _text.IndexOf("\"\"\"", _pos + 3, StringComparison.Ordinal);
            if (end < 0)
                throw Error(startLine, "'\"\"\"' string is never closed with '\"\"\"'");
            while (end + 3 < _text.Length && _text[end + 3] == '"')
                end++; // a closing run of more than three quotes ends with its last three
            var content = _text[(_pos + 3)..end];
            _line += content.Count(ch => ch == '\n');
            _pos = end + 3;
            return content;
        }
        var sb = new StringBuilder();
        _pos++;
        while (true)
        {
            var c = Peek();
            if (c is '\0' or '\n')
                throw Error(startLine, "string is never closed with '\"'; close it on the same line or use \"\"\"…\"\"\"");
            _pos++;
            if (c == '"')
                return sb.ToString();
            if (c == '\\')
            {
                sb.Append(Peek());
                _pos++;
                continue;
            }
            sb.Append(c);
        }
    }

    private void SkipSpace(bool newlines)
    {
        while (true)
        {
            var c = Peek();
            if (c is ' ' or '\t' or '\r' or '\uFEFF')
            {
                _pos++;
            }
            else if (c == '\n' && newlines)
            {
                _pos++;
                _line++;
            }
            else if (c == '#' || (c == '/' && PeekAt(1) == '/'))
            {
                while (Peek() is not ('\n' or '\0'))
                    _pos++;
            }
            else
            {
                return;
            }
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private char PeekAt(int ahead) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

    private void Record(string path, int keyLine, int valueLine, ValueKind kind)
    {
        _keyLines[path] = keyLine;
        _valueLines[path] = valueLine;
        _settings.Add(new Setting(path, kind, HasLines ? keyLine : null, null));
    }

    private static int LeadingBlankLines(string content)
    {
        var lines = 0;
        foreach (var ch in content)
        {
            if (ch == '\n')
                lines++;
            else if (!char.IsWhiteSpace(ch))
                break;
        }
        return lines;
    }

    private ConfigException Error(int line, string message) => new(Origin, HasLines ? line : null, message);
}

/// <summary>What a key is given: an object { … }, a list [ … ], a single value, null, or a value made with a substitution.</summary>
public enum ValueKind
{
    Object,
    List,
    Value,
    Null,
    Substitution,
}

/// <summary>One key a text sets: its path, the kind of its value, its line (null for a --set), and a single value's text.</summary>
public sealed record Setting(string Path, ValueKind Kind, int? Line, string? Text);

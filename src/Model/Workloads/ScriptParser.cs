using System.Collections.Immutable;
using Faultsim.Model.Addressing;
using Faultsim.Model.Vmas;

namespace Faultsim.Model.Workloads;

/// <summary>
/// Parses a CPU script: one operation a line, '#' starts a comment. The grammar, with ADDR as
/// NUMBER | REGION | REGION+NUMBER | REGION-NUMBER, TARGET as ADDR | REGION:PAGE | REGION:FIRST..LAST,
/// and RANGE as REGION | ADDR LENGTH:
/// <code>
/// run PROCESS                      load|store|fetch TARGET [= VALUE]
/// sys-read TARGET                  sys-write TARGET          kernel-read|kernel-write TARGET
/// force-write TARGET [= VALUE]
/// mmap NAME ADDR LENGTH PROT [anon | file:FILE[+OFFSET]] [shared|private] [growsdown] [populate] [locked]
/// munmap RANGE     mprotect RANGE PROT     madvise RANGE dontneed|pageout|normal|sequential|random|willneed
/// mlock RANGE      munlock RANGE           mremap REGION NEW_LENGTH [maymove]
/// fork CHILD       exit                    sp ADDR                 barrier NAME
/// </code>
/// </summary>
public static class ScriptParser
{
    public const string Grammar =
        "run | load | store | fetch | sys-read | sys-write | kernel-read | kernel-write | force-write | mmap | munmap | mprotect | madvise | mlock | munlock | mremap | fork | exit | sp | barrier";

    /// <param name="firstLine">The config-file line of the script's first line, so errors point into the file.</param>
    public static ImmutableArray<Op> Parse(string script, int firstLine)
    {
        var ops = ImmutableArray.CreateBuilder<Op>();
        var lines = script.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var text = lines[i];
            var hash = text.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
                text = text[..hash];
            var words = text.Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > 0)
                ops.Add(new LineParser(firstLine + i, words).Parse());
        }
        return ops.ToImmutable();
    }

    private sealed class LineParser(int line, string[] words)
    {
        private int _next = 1;

        public Op Parse()
        {
            var op = words[0].ToLowerInvariant() switch
            {
                "run" => new Op.Run(line, Name("process")),
                "load" => AccessOp(AccessKind.Read, AccessMode.User, allowValue: false),
                "store" => AccessOp(AccessKind.Write, AccessMode.User, allowValue: true),
                "fetch" => AccessOp(AccessKind.Fetch, AccessMode.User, allowValue: false),
                "sys-read" => AccessOp(AccessKind.Write, AccessMode.UserCopy, allowValue: true),
                "sys-write" => AccessOp(AccessKind.Read, AccessMode.UserCopy, allowValue: false),
                "kernel-read" => AccessOp(AccessKind.Read, AccessMode.Kernel, allowValue: false),
                "kernel-write" => AccessOp(AccessKind.Write, AccessMode.Kernel, allowValue: true),
                "force-write" => AccessOp(AccessKind.Write, AccessMode.Forced, allowValue: true),
                "mmap" => MapOp(),
                "munmap" => new Op.Unmap(line, Range()),
                "mprotect" => new Op.Protect(line, Range(), Protection(Word("protection"))),
                "madvise" => new Op.Advise(line, Range(), AdviceOf(Word("advice"))),
                "mlock" => new Op.Lock(line, Range(), Locks: true),
                "munlock" => new Op.Lock(line, Range(), Locks: false),
                "mremap" => RemapOp(),
                "fork" => new Op.Fork(line, Name("child process")),
                "exit" => new Op.Exit(line),
                "sp" => new Op.SetStackPointer(line, Address(Word("address"))),
                "barrier" => new Op.Barrier(line, Name("barrier")),
                var other => throw Error($"unknown operation '{other}'; use one of: {Grammar}"),
            };
            if (_next < words.Length)
                throw Error($"unexpected '{words[_next]}' after '{words[0]}'");
            return op;
        }

        private Op AccessOp(AccessKind kind, AccessMode mode, bool allowValue)
        {
            var target = Target(Word("target"));
            ulong? value = null;
            if (_next < words.Length && words[_next] == "=")
            {
                if (!allowValue)
                    throw Error($"'{words[0]}' takes no value");
                _next++;
                value = Number(Word("value"), "value");
            }
            return new Op.Access(line, kind, target, mode, value);
        }

        private Op MapOp()
        {
            var name = Name("region name");
            var start = Address(Word("address"));
            var length = Number(Word("length"), "length");
            var flags = Protection(Word("protection"));
            string? file = null;
            ulong offset = 0;
            while (_next < words.Length)
            {
                var word = words[_next++];
                switch (word.ToLowerInvariant())
                {
                    case "anon": file = null; break;
                    case "shared": flags |= VmaFlags.Shared; break;
                    case "private": flags &= ~VmaFlags.Shared; break;
                    case "growsdown": flags |= VmaFlags.GrowsDown; break;
                    case "populate": flags |= VmaFlags.Populate; break;
                    case "locked": flags |= VmaFlags.Locked; break;
                    case var w when w.StartsWith("file:", StringComparison.Ordinal):
                        var spec = word[5..].Split('+', 2);
                        file = CheckName(spec[0], "file");
                        offset = spec.Length > 1 ? Number(spec[1], "file offset") : 0;
                        break;
                    default:
                        throw Error($"unknown mmap option '{word}'; use anon, file:NAME[+OFFSET], shared, private, growsdown, populate or locked");
                }
            }
            if (length == 0 || length % VirtualAddress.PageSize != 0)
                throw Error($"mmap length {length} is not a positive multiple of the 4K page size");
            if (offset % VirtualAddress.PageSize != 0)
                throw Error($"mmap file offset {offset} is not a multiple of the 4K page size");
            if (start.Offset % (long)VirtualAddress.PageSize != 0)
                throw Error($"mmap address {start} is not page-aligned");
            return new Op.Map(line, name, start, length, flags, file, offset);
        }

        private Op RemapOp()
        {
            var region = Name("region");
            var length = Number(Word("new length"), "new length");
            var mayMove = false;
            if (_next < words.Length)
            {
                if (!words[_next].Equals("maymove", StringComparison.OrdinalIgnoreCase))
                    throw Error($"unknown mremap option '{words[_next]}'; use maymove (MREMAP_MAYMOVE) or nothing");
                (mayMove, _next) = (true, _next + 1);
            }
            if (length == 0 || length % VirtualAddress.PageSize != 0)
                throw Error($"mremap new length {length} is not a positive multiple of the 4K page size");
            return new Op.Remap(line, region, length, mayMove);
        }

        private RangeExpr Range()
        {
            var start = Address(Word("range"));
            if (_next < words.Length && Quantity.TryParse(words[_next], out var length))
            {
                _next++;
                return new RangeExpr(start, length);
            }
            // Without a length a range is a whole region: an offset into one would reach past its end.
            if (start.Region is null || start.Offset != 0)
                throw Error($"range '{start}' needs a length, or name a region instead");
            return new RangeExpr(start, null);
        }

        private AccessTarget Target(string word)
        {
            var colon = word.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
                return new AccessTarget.At(Address(word));
            var region = CheckName(word[..colon], "region");
            var pages = word[(colon + 1)..].Split("..", 2);
            var first = Number(pages[0], "page index");
            var last = pages.Length > 1 ? Number(pages[1], "page index") : first;
            if (last < first)
                throw Error($"page range {first}..{last} runs backwards");
            return new AccessTarget.Pages(region, first, last);
        }

        private AddressExpr Address(string word)
        {
            if (char.IsDigit(word[0]))
                return AddressExpr.Absolute(Number(word, "address"));
            var sign = word.IndexOfAny(['+', '-']);
            if (sign < 0)
                return new AddressExpr(CheckName(word, "region"), 0);
            var offset = (long)Number(word[(sign + 1)..], "offset");
            return new AddressExpr(CheckName(word[..sign], "region"), word[sign] == '-' ? -offset : offset);
        }

        private ulong Number(string word, string what) =>
            Quantity.TryParse(word, out var value) ? value : throw Error($"bad {what} '{word}'; write {Quantity.Describe}");

        private static VmaFlags ProtectionOf(string word) => word.ToLowerInvariant() switch
        {
            "none" => VmaFlags.None,
            var w when w.Length > 0 && w.All(c => c is 'r' or 'w' or 'x' or '-') =>
                (w.Contains('r') ? VmaFlags.Read : 0) | (w.Contains('w') ? VmaFlags.Write : 0) | (w.Contains('x') ? VmaFlags.Exec : 0),
            _ => (VmaFlags)(-1),
        };

        private VmaFlags Protection(string word) =>
            ProtectionOf(word) is var p && p != (VmaFlags)(-1) ? p : throw Error($"bad protection '{word}'; write none or letters of rwx, e.g. rw or r-x");

        private Advice AdviceOf(string word) => word.ToLowerInvariant() switch
        {
            "dontneed" => Advice.DontNeed,
            "pageout" => Advice.PageOut,
            "normal" => Advice.Normal,
            "sequential" => Advice.Sequential,
            "random" => Advice.Random,
            "willneed" => Advice.WillNeed,
            _ => throw Error($"unknown advice '{word}'; use dontneed, pageout, normal, sequential, random or willneed"),
        };

        private string Name(string what) => CheckName(Word(what), what);

        private string CheckName(string word, string what) =>
            word.Length > 0 && (char.IsLetter(word[0]) || word[0] == '_') && word.All(c => char.IsLetterOrDigit(c) || c == '_')
                ? word
                : throw Error($"bad {what} name '{word}'; use letters, digits and _");

        private string Word(string what) =>
            _next < words.Length ? words[_next++] : throw Error($"'{words[0]}' needs a {what}");

        private WorkloadException Error(string message) => new(line, message);
    }
}

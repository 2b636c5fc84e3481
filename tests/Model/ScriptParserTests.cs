using Faultsim.Model.Addressing;
using Faultsim.Model.Vmas;
using Faultsim.Model.Workloads;

namespace Faultsim.Tests.Model;

/// <summary>The CPU script language: each operation, and errors that point at the line and say how to fix it.</summary>
public sealed class ScriptParserTests
{
    private const int Line = 40;
    private const VmaFlags Rw = VmaFlags.Read | VmaFlags.Write;

    private static Op One(string line) => Assert.Single(ScriptParser.Parse(line, Line));

    private static WorkloadException Error(string script, int firstLine = Line) =>
        Assert.Throws<WorkloadException>(() => ScriptParser.Parse(script, firstLine));

    private static AddressExpr Region(string name, long offset = 0) => new(name, offset);

    public static TheoryData<string, Op> Operations => new()
    {
        { "run app", new Op.Run(Line, "app") },
        { "mlock heap", new Op.Lock(Line, new RangeExpr(Region("heap"), null), Locks: true) },
        { "munlock heap+4K 8K", new Op.Lock(Line, new RangeExpr(Region("heap", 4096), 8192), Locks: false) },
        { "mremap heap 16K maymove", new Op.Remap(Line, "heap", 16384, MayMove: true) },
        { "mremap heap 8K", new Op.Remap(Line, "heap", 8192, MayMove: false) },
        { "load heap:0..15", new Op.Access(Line, AccessKind.Read, new AccessTarget.Pages("heap", 0, 15), AccessMode.User, null) },
        { "store heap:3", new Op.Access(Line, AccessKind.Write, new AccessTarget.Pages("heap", 3, 3), AccessMode.User, null) },
        { "store heap+8 = 0x2a", new Op.Access(Line, AccessKind.Write, new AccessTarget.At(Region("heap", 8)), AccessMode.User, 42) },
        { "fetch text-4K", new Op.Access(Line, AccessKind.Fetch, new AccessTarget.At(Region("text", -4096)), AccessMode.User, null) },
        { "sys-read 0x10", new Op.Access(Line, AccessKind.Write, new AccessTarget.At(AddressExpr.Absolute(0x10)), AccessMode.UserCopy, null) },
        { "sys-write buf:1", new Op.Access(Line, AccessKind.Read, new AccessTarget.Pages("buf", 1, 1), AccessMode.UserCopy, null) },
        { "kernel-read 4096", new Op.Access(Line, AccessKind.Read, new AccessTarget.At(AddressExpr.Absolute(4096)), AccessMode.Kernel, null) },
        { "kernel-write buf = 1", new Op.Access(Line, AccessKind.Write, new AccessTarget.At(Region("buf")), AccessMode.Kernel, 1) },
        { "force-write buf:2 = 7", new Op.Access(Line, AccessKind.Write, new AccessTarget.Pages("buf", 2, 2), AccessMode.Forced, 7) },
        { "mmap m 0x40000000 8K rw file:data+4K shared growsdown",
            new Op.Map(Line, "m", AddressExpr.Absolute(0x4000_0000), 8192, Rw | VmaFlags.Shared | VmaFlags.GrowsDown, "data", 4096) },
        { "mmap code 0x1000 4K r-x", new Op.Map(Line, "code", AddressExpr.Absolute(0x1000), 4096, VmaFlags.Read | VmaFlags.Exec, null, 0) },
        { "mmap m 0x1000 4K none file:data shared private anon", new Op.Map(Line, "m", AddressExpr.Absolute(0x1000), 4096, VmaFlags.None, null, 0) },
        { "mmap m heap+8K 4K rw", new Op.Map(Line, "m", Region("heap", 8192), 4096, Rw, null, 0) },
        { "munmap heap", new Op.Unmap(Line, new RangeExpr(Region("heap"), null)) },
        { "munmap 0x1000 8K", new Op.Unmap(Line, new RangeExpr(AddressExpr.Absolute(0x1000), 8192)) },
        { "munmap heap+4K 4K", new Op.Unmap(Line, new RangeExpr(Region("heap", 4096), 4096)) },
        { "mprotect heap r", new Op.Protect(Line, new RangeExpr(Region("heap"), null), VmaFlags.Read) },
        { "mprotect heap 4K rwx", new Op.Protect(Line, new RangeExpr(Region("heap"), 4096), Rw | VmaFlags.Exec) },
        { "mprotect heap none", new Op.Protect(Line, new RangeExpr(Region("heap"), null), VmaFlags.None) },
        { "madvise heap dontneed", new Op.Advise(Line, new RangeExpr(Region("heap"), null), Advice.DontNeed) },
        { "madvise heap 8K PageOut", new Op.Advise(Line, new RangeExpr(Region("heap"), 8192), Advice.PageOut) },
        { "fork child_1", new Op.Fork(Line, "child_1") },
        { "exit", new Op.Exit(Line) },
        { "sp stack-4K", new Op.SetStackPointer(Line, Region("stack", -4096)) },
        { "sp 0x7fff0000", new Op.SetStackPointer(Line, AddressExpr.Absolute(0x7fff_0000)) },
        { "barrier forked", new Op.Barrier(Line, "forked") },
        { "  STORE   heap:0   # a comment", new Op.Access(Line, AccessKind.Write, new AccessTarget.Pages("heap", 0, 0), AccessMode.User, null) },
    };

    [Theory]
    [MemberData(nameof(Operations))]
    public void Every_operation_parses_to_its_op(string line, Op expected) => Assert.Equal(expected, One(line));

    [Fact]
    public void Blank_and_comment_lines_are_skipped_and_each_op_carries_its_line_in_the_file()
    {
        var ops = ScriptParser.Parse("\n  run app\n\n  # comment\n  store heap:0\r\n  exit  ", firstLine: 10);
        Assert.Equal([11, 14, 15], ops.Select(o => o.Line));
        Assert.IsType<Op.Exit>(ops[^1]);
    }

    [Fact]
    public void An_unknown_operation_names_the_line_and_lists_the_operations()
    {
        var e = Error("run app\n# fine\njump heap", firstLine: 10);
        Assert.Equal(12, e.Line);
        Assert.Contains("unknown operation 'jump'", e.Message);
        Assert.Contains(ScriptParser.Grammar, e.Message);
    }

    [Theory]
    [InlineData("run", "'run' needs a process")]
    [InlineData("store", "'store' needs a target")]
    [InlineData("store heap =", "'store' needs a value")]
    [InlineData("mmap m 0x1000", "'mmap' needs a length")]
    [InlineData("mprotect heap", "'mprotect' needs a protection")]
    [InlineData("madvise heap", "'madvise' needs a advice")]
    [InlineData("fork", "'fork' needs a child process")]
    [InlineData("mlock", "'mlock' needs a range")]
    [InlineData("munlock", "'munlock' needs a range")]
    [InlineData("mremap heap", "'mremap' needs a new length")]
    [InlineData("mremap heap 0", "mremap new length 0 is not a positive multiple of the 4K page size")]
    [InlineData("mremap heap 8K move", "unknown mremap option 'move'; use maymove (MREMAP_MAYMOVE) or nothing")]
    [InlineData("barrier", "'barrier' needs a barrier")]
    public void A_missing_argument_says_what_the_operation_needs(string line, string message)
    {
        var e = Error($"run app\n{line}");
        Assert.Equal(Line + 1, e.Line);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("mprotect heap rwz")]
    [InlineData("mprotect heap readwrite")]
    [InlineData("mmap m 0x1000 4K 7")]
    public void A_bad_protection_is_rejected_with_the_accepted_forms(string line)
    {
        var e = Error(line);
        Assert.Equal(Line, e.Line);
        Assert.Contains("bad protection", e.Message);
        Assert.Contains("write none or letters of rwx", e.Message);
    }

    [Theory]
    [InlineData("mmap m 0x1000 100 rw", "mmap length 100 is not a positive multiple of the 4K page size")]
    [InlineData("mmap m 0x1000 0 rw", "mmap length 0 is not a positive multiple of the 4K page size")]
    [InlineData("mmap m 0x1001 4K rw", "is not page-aligned")]
    [InlineData("mmap m heap+8 4K rw", "is not page-aligned")]
    [InlineData("mmap m 0x1000 4K rw file:data+100", "file offset 100 is not a multiple of the 4K page size")]
    [InlineData("mmap m 0x1000 4K rw huge", "unknown mmap option 'huge'")]
    public void A_bad_mmap_is_rejected_with_the_reason(string line, string message)
    {
        var e = Error(line);
        Assert.Equal(Line, e.Line);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("exit now", "unexpected 'now' after 'exit'")]
    [InlineData("load heap = 3", "'load' takes no value")]
    [InlineData("fetch heap = 3", "'fetch' takes no value")]
    [InlineData("store heap:5..2", "page range 5..2 runs backwards")]
    [InlineData("store heap:x", "bad page index 'x'")]
    [InlineData("store 12Q", "bad address '12Q'")]
    [InlineData("store heap = lots", "bad value 'lots'")]
    [InlineData("madvise heap free", "unknown advice 'free'; use dontneed, pageout, normal, sequential, random or willneed")]
    [InlineData("munmap 0x1000", "range '0x1000' needs a length")]
    [InlineData("munmap heap+4K", "range 'heap+0x1000' needs a length")]
    [InlineData("run 9lives", "bad process name '9lives'")]
    [InlineData("store he.ap", "bad region name 'he.ap'")]
    [InlineData("fork a.b", "bad child process name 'a.b'")]
    public void A_malformed_operation_says_what_is_wrong(string line, string message)
    {
        var e = Error(line);
        Assert.Equal(Line, e.Line);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Numbers_in_errors_name_the_accepted_forms()
    {
        var e = Error("store heap = 1.5");
        Assert.Contains(Quantity.Describe, e.Message);
    }
}

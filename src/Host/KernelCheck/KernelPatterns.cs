using System.Collections.Immutable;

namespace Faultsim.Host.KernelCheck;

/// <summary>
/// The patterns of <c>faultsim kernel-check</c>, in the helper's order (kernel-check.c beside this file runs each
/// natively). Regions sit where the helper maps them: a at 0x10000000 (anonymous), b right after a 32K a, f at
/// 0x20000000 (a file), code at 0x30000000; "cached" files are read into the page cache first (the helper writes them,
/// faultsim's setup reads them with madvise willneed), "uncached" ones start on the disk alone.
/// </summary>
internal static class KernelPatterns
{
    private const string Anon = "a { start = 0x10000000, size = 128K }";

    private static string One(string regions, string files = "") =>
        $"files {{ {files} }}\nprocesses {{ p {{ regions {{ {regions} }} }} }}";

    private static string Parent(string regions, string files = "") =>
        $"files {{ {files} }}\nprocesses {{ parent {{ regions {{ {regions} }} }} }}";

    private static string File(string file, string size, string region, string prot, bool shared = false, string fs = "ext4") =>
        One($"f {{ start = 0x20000000, size = {region}, prot = {prot}, file = {file}, shared = {(shared ? "on" : "off")} }}",
            $"{file} {{ size = {size}, fs = {fs} }}");

    public static ImmutableArray<KernelPattern> All { get; } =
    [
        new("write-touch", "write 32 untouched anonymous pages", One(Anon),
            "run p\n#> p p\nstore a:0..31\n#< p"),
        new("read-touch", "read 32 untouched anonymous pages (the zero page)", One(Anon),
            "run p\n#> p p\nload a:0..31\n#< p"),
        new("read-then-write", "read 32 untouched anonymous pages, then write them", One(Anon),
            "run p\n#> p p\nload a:0..31\nstore a:0..31\n#< p"),
        new("mprotect-upgrade", "write 8 pages, mprotect(R), mprotect(RW), write them again", One(Anon),
            "run p\nstore a:0..7\n#> p p\nmprotect a r\nmprotect a rw\nstore a:0..7\n#< p"),
        new("cow-mprotect", "after fork the child does mprotect(R), mprotect(RW) and writes 4 pages, twice", Parent("a { start = 0x10000000, size = 16K }"),
            "run parent\nstore a:0..3\nfork child\nrun child\n#> shared child\nmprotect a r\nmprotect a rw\nstore a:0..3\n#< shared\n" +
            "#> owned child\nmprotect a r\nmprotect a rw\nstore a:0..3\n#< owned"),
        new("fork-cow-copy", "the parent writes 8 pages and forks; the child writes them (copies)", Parent(Anon),
            "run parent\nstore a:0..7\nfork child\nrun child\n#> child child\nstore a:0..7\n#< child"),
        new("fork-cow-reuse", "the parent writes 8 pages, forks, the child exits; the parent writes them (reuse)", Parent(Anon),
            "run parent\nstore a:0..7\nfork child\nrun child\nexit\nrun parent\n#> parent parent\nstore a:0..7\n#< parent"),
        new("fork-three-generations", "8 pages written, forked twice; the child, then the parent, then the grandparent writes them",
            "files { }\nprocesses { grandparent { regions { " + Anon + " } } }",
            "run grandparent\nstore a:0..7\nfork parent\nrun parent\nfork child\nrun child\n#> child child\nstore a:0..7\n#< child\nexit\n" +
            "run parent\n#> parent parent\nstore a:0..7\n#< parent\nexit\nrun grandparent\n#> grandparent grandparent\nstore a:0..7\n#< grandparent"),
        new("fork-child-reads-written", "the child reads 8 pages its parent wrote (fork copied their PTEs)", Parent(Anon),
            "run parent\nstore a:0..7\nfork child\nrun child\n#> child child\nload a:0..7\n#< child"),
        new("fork-child-reads-zero-page", "the child reads 8 pages its parent only read (the zero page: fork did not copy the VMA)", Parent(Anon),
            "run parent\nload a:0..7\nfork child\nrun child\n#> child child\nload a:0..7\n#< child"),
        new("fork-child-reads-file", "the child reads 8 cached pages of a private file mapping its parent read", Parent(
                "f { start = 0x20000000, size = 32K, prot = r, file = f }", "f { size = 32K }"),
            "run parent\nmadvise f willneed\nload f:0..7\nfork child\nrun child\n#> child child\nload f:0..7\n#< child"),
        new("fork-child-reads-shared-anon", "the child reads 16 pages of shared anonymous memory its parent wrote", Parent(
                "a { start = 0x10000000, size = 64K, shared = on }"),
            "run parent\nstore a:0..15\nfork child\nrun child\n#> child child\nload a:0..15\n#< child"),
        new("dontneed-anon", "write 8 anonymous pages, madvise(DONTNEED), write them again", One(Anon),
            "run p\nstore a:0..7\n#> p p\nmadvise a dontneed\nstore a:0..7\n#< p"),
        new("exec-zero-page", "instruction fetch from an untouched anonymous r-x page", One("code { start = 0x30000000, size = 4K, prot = rx }"),
            "run p\n#> p p\nfetch code:0\n#< p"),
        new("populate", "mmap 16 anonymous pages MAP_POPULATE, then write them", One("x { start = 0x50000000, size = 4K }"),
            "run p\n#> p p\nmmap a 0x10000000 64K rw anon private populate\nstore a:0..15\n#< p"),
        new("populate-past-eof", "mmap 4 pages of a cached 2-page file MAP_POPULATE, then read its 2 pages", One(
                "w { start = 0x40000000, size = 8K, prot = r, file = f }", "f { size = 8K }"),
            "run p\nmadvise w willneed\n#> p p\nmmap f 0x20000000 16K r file:f private populate\nload f:0..1\n#< p"),
        new("mlock", "mlock 16 untouched anonymous pages, then write and read them", One("a { start = 0x10000000, size = 64K }"),
            "run p\n#> p p\nmlock a\nstore a:0..15\nload a:0..15\n#< p"),
        new("mremap-move", "mremap 8 written pages to 16 where the next page is taken (moves), then write all 16",
            One("a { start = 0x10000000, size = 32K }\nb { start = 0x10008000, size = 4K, prot = r }"),
            "run p\nstore a:0..7\n#> p p\nmremap a 64K maymove\nstore a:0..15\n#< p"),
        new("mremap-grow", "mremap 8 written pages to 16 in place, then write all 16", One("a { start = 0x10000000, size = 32K }"),
            "run p\nstore a:0..7\n#> p p\nmremap a 64K maymove\nstore a:0..15\n#< p"),
        new("stack-far-below-sp", "write 64K below the stack's VMA, far below the stack pointer", One(
                "stack { end = 0x7ffff0000000, size = 132K, prot = rw, grows-down = on }"),
            "run p\n#> p p\nstore stack-0x10000\n#< p"),
        new("stack-limit", "write 128K below the stack with RLIMIT_STACK only 64K above its size", One(
                "stack { end = 0x7ffff0000000, size = 128K, prot = rw, grows-down = on }"),
            "run p\n#> p p\nstore stack-0x20000\n#< p", "stack.limit = 192K"),
        new("file-read-sequential", "read the 32 pages of an uncached file in order", File("f", "128K", "128K", "r"),
            "run p\n#> p p\nload f:0..31\n#< p"),
        new("file-read-random", "read 12 pages of an uncached 32-page file out of order", File("f", "128K", "128K", "r"),
            "run p\n#> p p\n" + string.Join('\n', new[] { 17, 3, 28, 9, 22, 0, 13, 30, 6, 25, 11, 19 }.Select(n => $"load f:{n}")) + "\n#< p"),
        new("file-madv-random", "madvise(RANDOM), then read the 32 pages of an uncached file in order", File("f", "128K", "128K", "r"),
            "run p\nmadvise f random\n#> p p\nload f:0..31\n#< p"),
        new("file-madv-sequential", "madvise(SEQUENTIAL), then read the 32 pages of an uncached file in order", File("f", "128K", "128K", "r"),
            "run p\nmadvise f sequential\n#> p p\nload f:0..31\n#< p"),
        new("file-willneed", "madvise(WILLNEED) on an uncached file, then read its 32 pages", File("f", "128K", "128K", "r"),
            "run p\n#> p p\nmadvise f willneed\nload f:0..31\n#< p"),
        new("fault-around", "read the 32 pages of a cached file in order", File("f", "128K", "128K", "r"),
            "run p\nmadvise f willneed\n#> p p\nload f:0..31\n#< p"),
        new("private-file-load-then-write", "private mapping of an uncached file: read page 0, write it, write page 1", File("f", "128K", "128K", "rw"),
            "run p\n#> p p\nload f:0\nstore f:0\nstore f:1\n#< p"),
        new("private-file-write", "private mapping of a cached file: write 8 pages", File("f", "32K", "32K", "rw"),
            "run p\nmadvise f willneed\n#> p p\nstore f:0..7\n#< p"),
        new("dontneed-private-file", "private mapping of a cached file: write 8 pages, madvise(DONTNEED), read them", File("f", "32K", "32K", "rw"),
            "run p\nmadvise f willneed\nstore f:0..7\n#> p p\nmadvise f dontneed\nload f:0..7\n#< p"),
        new("shared-file-read-then-write", "shared mapping of a cached ext4 file: read 8 pages, then write them", File("f", "32K", "32K", "rw", shared: true),
            "run p\nmadvise f willneed\n#> p p\nload f:0..7\nstore f:0..7\n#< p"),
        new("shared-file-write-uncached", "shared mapping of an uncached ext4 file: write 8 pages", File("f", "32K", "32K", "rw", shared: true),
            "run p\n#> p p\nstore f:0..7\n#< p"),
        new("tmpfs-shared-read-then-write", "shared mapping of a new memfd (tmpfs): read 16 pages, write them; again after munmap and mmap",
            File("f", "64K", "64K", "rw", shared: true, fs: "tmpfs"),
            "run p\n#> holes p\nload f:0..15\nstore f:0..15\n#< holes\nmunmap f\nmmap g 0x20000000 64K rw file:f shared\n#> cached p\nload g:0..15\nstore g:0..15\n#< cached"),
        new("past-eof", "a 4-page mapping of a cached 1-page file: read page 0, then page 1 (SIGBUS)", File("f", "4K", "16K", "r"),
            "run p\nmadvise f willneed\n#> p p\nload f:0\nload f:1\n#< p"),
        new("two-cpus-one-page", "two CPUs write the same 256 untouched pages at once", One("a { start = 0x10000000, size = 1M }"),
            ["run p\nbarrier go\n#> p p\nstore a:0..255\n#< p", "run p\nbarrier go\nstore a:0..255"]),
        new("swap-out-and-in", "write a page, madvise(PAGEOUT) it to swap, write it again", One("a { start = 0x10000000, size = 4K }"),
            "run p\nstore a:0\nmadvise a pageout\n#> p p\nstore a:0\n#< p"),
        new("swap-cow-after-fork", "a page swapped out, then forked: the child writes it", Parent("a { start = 0x10000000, size = 4K }"),
            "run parent\nstore a:0\nmadvise a pageout\nfork child\nrun child\n#> child child\nstore a:0\n#< child"),
        new("smap-kernel-access", "the kernel writes a present user page outside a user copy", One("a { start = 0x10000000, size = 8K }"),
            "run p\nstore a:0\n#> p p\nkernel-write a:0 = 5\n#< p"),
    ];
}

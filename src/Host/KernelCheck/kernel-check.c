/*
 * faultsim kernel-check: runs each access pattern on this machine's Linux kernel and prints the page faults
 * getrusage(2) counts for exactly its measured part, one machine-readable line each:
 *
 *   host KEY VALUE                         a setting of this host (zero page, readahead, fault-around, swap, ...)
 *   result PATTERN PART MINFLT MAJFLT COPIES OUTCOME
 *                                          COPIES: pages whose frame changed (/proc/self/pagemap), -1 when not told;
 *                                          OUTCOME: ok, sigsegv or sigbus (the part ended with that signal)
 *   skip PATTERN REASON...                 the pattern cannot run as meant on this host, and why
 *   note PATTERN TEXT...                   the pattern ran, and its count depends on this host (why)
 *
 * Usage: kernel-check DIRECTORY [PATTERN...]   (DIRECTORY: where its files go; all patterns by default)
 *
 * Each pattern runs in a process of its own, which first maps in every page of the program and its libraries and
 * writes its data and stack pages, so that nothing but the pattern's own accesses faults inside a measured part.
 * Anonymous memory is mapped MADV_NOHUGEPAGE; every region sits at the fixed address faultsim's workload gives it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17 */
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21 /* Linux 5.4 */
#endif

#define PG 4096UL
#define HIDDEN UINT64_MAX /* present, its frame number hidden (no CAP_SYS_ADMIN) */
#define ANON 0x10000000UL    /* faultsim's region a */
#define BLOCK 0x10080000UL   /* region b: right after a 512K a */
#define FILEMAP 0x20000000UL /* region f */
#define CODE 0x30000000UL    /* region code */

static const char *dir;
static sigjmp_buf jump;
static volatile void *expected_fault;
static char altstack[64 * 1024];

static void die(const char *what)
{
    dprintf(2, "kernel-check: %s: %s\n", what, strerror(errno));
    _exit(3);
}

static int touch_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size; (void)data;
    uintptr_t relro = 0, relro_end = 0; /* made read-only after relocation: read, not written */
    for (int i = 0; i < info->dlpi_phnum; i++)
        if (info->dlpi_phdr[i].p_type == PT_GNU_RELRO) {
            relro = (info->dlpi_addr + info->dlpi_phdr[i].p_vaddr) & ~(PG - 1);
            relro_end = (info->dlpi_addr + info->dlpi_phdr[i].p_vaddr + info->dlpi_phdr[i].p_memsz) & ~(PG - 1);
        }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R))
            continue;
        uintptr_t start = (info->dlpi_addr + ph->p_vaddr) & ~(PG - 1), end = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        for (uintptr_t a = start; a < end; a += PG) {
            volatile char *c = (volatile char *)a;
            char v = *c;
            if ((ph->p_flags & PF_W) && (a < relro || a >= relro_end))
                *c = v;
        }
    }
    return 0;
}

/* Maps in every page of the program and its libraries, writes their data pages (after a fork they are shared
 * copy-on-write) and 64K of stack below the caller: then only the pattern's own accesses fault. */
static __attribute__((noinline)) void warm(void)
{
    volatile char stack[64 * 1024];
    for (size_t i = 0; i < sizeof stack; i += PG)
        stack[i] = 0;
    dl_iterate_phdr(touch_object, NULL);
    for (size_t i = 0; i < sizeof altstack; i += PG)
        altstack[i] = 0;
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    mprotect((void *)ANON, 0, PROT_READ);
    madvise((void *)ANON, 0, MADV_NORMAL);
    mlock((void *)ANON, 0);
    mremap((void *)ANON, 0, 0, 0);
    errno = 0;
}

/* The caller's two rusage records written once before its measured part (the kernel's copy into them could fault). */
#define WARM(r0, r1) do { warm(); getrusage(RUSAGE_SELF, &r0); getrusage(RUSAGE_SELF, &r1); } while (0)

static void result(const char *pattern, const char *part, const struct rusage *a, const struct rusage *b, long copies,
                   const char *outcome)
{
    dprintf(1, "result %s %s %ld %ld %ld %s\n", pattern, part, b->ru_minflt - a->ru_minflt, b->ru_majflt - a->ru_majflt,
            copies, outcome);
}

/* The part of a pattern whose faults are counted: warmed up, then its body between two getrusage calls, reported as
   PART of the pattern (no copies told, ended normally). */
#define MEASURED(name, part, ...) do { \
        struct rusage r0_, r1_; \
        WARM(r0_, r1_); \
        getrusage(RUSAGE_SELF, &r0_); \
        __VA_ARGS__ \
        getrusage(RUSAGE_SELF, &r1_); \
        result(name, part, &r0_, &r1_, -1, "ok"); \
    } while (0)

static void skip(const char *pattern, const char *format, ...)
{
    char text[512];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    dprintf(1, "skip %s %s\n", pattern, text);
}

static void *map(uintptr_t addr, size_t pages, int prot, int flags, int fd)
{
    void *p = mmap((void *)addr, pages * PG, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);
    if (p == MAP_FAILED || p != (void *)addr)
        die("mmap");
    madvise(p, pages * PG, MADV_NOHUGEPAGE); /* file mappings may refuse it: they get no huge page anyway */
    return p;
}

static void *anon(uintptr_t addr, size_t pages, int prot)
{
    return map(addr, pages, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1);
}

/* The frame of each page of [p, p + pages), 0 where none is present, HIDDEN where the kernel does not tell it. */
static void frames(const volatile char *p, size_t pages, uint64_t *out)
{
    int pagemap = open("/proc/self/pagemap", O_RDONLY); /* this process's own: a descriptor inherited over fork reads the parent's */
    if (pagemap < 0)
        die("/proc/self/pagemap");
    for (size_t i = 0; i < pages; i++) {
        uint64_t entry = 0;
        if (pread(pagemap, &entry, sizeof entry, (off_t)(((uintptr_t)p / PG + i) * sizeof entry)) != sizeof entry)
            die("pread /proc/self/pagemap");
        uint64_t frame = entry & ((1ULL << 55) - 1);
        out[i] = (entry >> 63) & 1 ? (frame ? frame : HIDDEN) : 0;
    }
    close(pagemap);
}

/* Pages whose frame changed; -1 (not told) when the kernel hides frame numbers from this process. */
static long changed(const uint64_t *before, const uint64_t *after, size_t pages)
{
    long n = 0;
    for (size_t i = 0; i < pages; i++) {
        if (before[i] == HIDDEN || after[i] == HIDDEN)
            return -1;
        n += before[i] != after[i];
    }
    return n;
}

static void store(volatile char *p, size_t first, size_t last)
{
    for (size_t i = first; i <= last; i++)
        p[i * PG] = 1;
}

static void load(volatile char *p, size_t first, size_t last)
{
    for (size_t i = first; i <= last; i++)
        (void)p[i * PG];
}

/* A file of DIRECTORY, PAGES long, written (so its pages are in the page cache); cold: then dropped from it. */
static int file(const char *name, size_t pages, int cold)
{
    char path[4096], page[PG];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        die(path);
    for (size_t i = 0; i < pages; i++) {
        memset(page, (int)(i + 1), sizeof page);
        if (write(fd, page, sizeof page) != (ssize_t)sizeof page)
            die("write");
    }
    if (fsync(fd) != 0)
        die("fsync");
    if (cold && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0)
        die("posix_fadvise");
    return fd;
}

/* Pages of [p, p + pages) in the page cache. */
static size_t cached(void *p, size_t pages)
{
    unsigned char vec[4096];
    if (mincore(p, pages * PG, vec) != 0)
        die("mincore");
    size_t n = 0;
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    return n;
}

/* Maps file NAME at region f; cold: no page of it in the page cache, else every page in it. 0 when it cannot be made so (said). */
static volatile char *file_map(const char *pattern, const char *name, size_t file_pages, size_t map_pages, int prot, int flags, int cold)
{
    int fd = file(name, file_pages, cold);
    volatile char *f = map(FILEMAP, map_pages, prot, flags, fd);
    size_t in = cached((void *)f, file_pages);
    if (cold && in != 0) {
        skip(pattern, "host-dependent: the page cache kept %zu of the file's %zu pages after fsync and POSIX_FADV_DONTNEED, so its reads cannot start cold here", in, file_pages);
        return 0;
    }
    if (!cold && in != file_pages) {
        skip(pattern, "host-dependent: only %zu of the file's %zu pages stayed in the page cache after it was written", in, file_pages);
        return 0;
    }
    return f;
}

static void on_signal(int sig, siginfo_t *info, void *context)
{
    (void)context;
    siglongjmp(jump, info->si_addr == expected_fault ? -1 : sig);
}

/* Catches SIGSEGV and SIGBUS on the (written) alternate stack, so that the signal's frame faults nothing. */
static void catch_signals(void)
{
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
    if (sigaltstack(&ss, NULL) != 0)
        die("sigaltstack");
    struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO | SA_ONSTACK };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

static const char *outcome_of(int jumped)
{
    return jumped == SIGSEGV ? "sigsegv" : jumped == SIGBUS ? "sigbus" : "ok";
}

static void wait_child(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("child");
}

/* ---- anonymous memory ---------------------------------------------------------------------------------------- */

static void write_touch(const char *name)
{
    volatile char *a = anon(ANON, 32, PROT_READ | PROT_WRITE);
    MEASURED(name, "p", {
        store(a, 0, 31);
    });
}

static void read_touch(const char *name)
{
    volatile char *a = anon(ANON, 32, PROT_READ | PROT_WRITE);
    MEASURED(name, "p", {
        load(a, 0, 31);
    });
}

static void read_then_write(const char *name)
{
    volatile char *a = anon(ANON, 32, PROT_READ | PROT_WRITE);
    MEASURED(name, "p", {
        load(a, 0, 31);
        store(a, 0, 31);
    });
}

static void mprotect_upgrade(const char *name)
{
    volatile char *a = anon(ANON, 8, PROT_READ | PROT_WRITE);
    store(a, 0, 7);
    MEASURED(name, "p", {
        mprotect((void *)a, 8 * PG, PROT_READ);
        mprotect((void *)a, 8 * PG, PROT_READ | PROT_WRITE);
        store(a, 0, 7);
    });
}

static void cow_mprotect(const char *name)
{
    struct rusage r0, r1;
    uint64_t before[4], after[4];
    volatile char *a = anon(ANON, 4, PROT_READ | PROT_WRITE);
    store(a, 0, 3);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        WARM(r0, r1);
        frames(a, 4, before);
        getrusage(RUSAGE_SELF, &r0);
        mprotect((void *)a, 4 * PG, PROT_READ);
        mprotect((void *)a, 4 * PG, PROT_READ | PROT_WRITE);
        store(a, 0, 3);
        getrusage(RUSAGE_SELF, &r1);
        frames(a, 4, after);
        result(name, "shared", &r0, &r1, changed(before, after, 4), "ok");
        WARM(r0, r1);
        getrusage(RUSAGE_SELF, &r0);
        mprotect((void *)a, 4 * PG, PROT_READ);
        mprotect((void *)a, 4 * PG, PROT_READ | PROT_WRITE);
        store(a, 0, 3);
        getrusage(RUSAGE_SELF, &r1);
        result(name, "owned", &r0, &r1, -1, "ok");
        _exit(0);
    }
    wait_child(pid);
}

static void fork_cow_copy(const char *name)
{
    struct rusage r0, r1;
    uint64_t before[8], after[8];
    volatile char *a = anon(ANON, 8, PROT_READ | PROT_WRITE);
    store(a, 0, 7);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        WARM(r0, r1);
        frames(a, 8, before);
        getrusage(RUSAGE_SELF, &r0);
        store(a, 0, 7);
        getrusage(RUSAGE_SELF, &r1);
        frames(a, 8, after);
        result(name, "child", &r0, &r1, changed(before, after, 8), "ok");
        _exit(0);
    }
    wait_child(pid);
}

static void fork_cow_reuse(const char *name)
{
    struct rusage r0, r1;
    uint64_t before[8], after[8];
    volatile char *a = anon(ANON, 8, PROT_READ | PROT_WRITE);
    store(a, 0, 7);
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0)
        _exit(0);
    wait_child(pid);
    WARM(r0, r1);
    frames(a, 8, before);
    getrusage(RUSAGE_SELF, &r0);
    store(a, 0, 7);
    getrusage(RUSAGE_SELF, &r1);
    frames(a, 8, after);
    result(name, "parent", &r0, &r1, changed(before, after, 8), "ok");
}

static void measured_store(const char *name, const char *part, volatile char *a, size_t pages)
{
    struct rusage r0, r1;
    uint64_t before[16], after[16];
    WARM(r0, r1);
    frames(a, pages, before);
    getrusage(RUSAGE_SELF, &r0);
    store(a, 0, pages - 1);
    getrusage(RUSAGE_SELF, &r1);
    frames(a, pages, after);
    result(name, part, &r0, &r1, changed(before, after, pages), "ok");
}

static void fork_three_generations(const char *name)
{
    volatile char *a = anon(ANON, 8, PROT_READ | PROT_WRITE);
    store(a, 0, 7);
    pid_t parent = fork();
    if (parent < 0)
        die("fork");
    if (parent == 0) {
        warm();
        pid_t child = fork();
        if (child < 0)
            die("fork");
        if (child == 0) {
            measured_store(name, "child", a, 8);
            _exit(0);
        }
        wait_child(child);
        measured_store(name, "parent", a, 8);
        _exit(0);
    }
    wait_child(parent);
    measured_store(name, "grandparent", a, 8);
}

static void measured_load(const char *name, const char *part, volatile char *a, size_t pages)
{
    struct rusage r0, r1;
    WARM(r0, r1);
    getrusage(RUSAGE_SELF, &r0);
    load(a, 0, pages - 1);
    getrusage(RUSAGE_SELF, &r1);
    result(name, part, &r0, &r1, -1, "ok");
}

static void child_reads(const char *name, volatile char *a, size_t pages)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        measured_load(name, "child", a, pages);
        _exit(0);
    }
    wait_child(pid);
}

static void fork_child_reads_written(const char *name)
{
    volatile char *a = anon(ANON, 8, PROT_READ | PROT_WRITE);
    store(a, 0, 7);
    child_reads(name, a, 8);
}

static void fork_child_reads_zero_page(const char *name)
{
    volatile char *a = anon(ANON, 8, PROT_READ | PROT_WRITE);
    load(a, 0, 7);
    child_reads(name, a, 8);
}

static void fork_child_reads_file(const char *name)
{
    volatile char *f = file_map(name, "fork-file", 8, 8, PROT_READ, MAP_PRIVATE, 0);
    if (!f)
        return;
    load(f, 0, 7);
    child_reads(name, f, 8);
}

static void fork_child_reads_shared_anon(const char *name)
{
    volatile char *a = map(ANON, 16, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
    store(a, 0, 15);
    child_reads(name, a, 16);
}

static void dontneed_anon(const char *name)
{
    volatile char *a = anon(ANON, 8, PROT_READ | PROT_WRITE);
    store(a, 0, 7);
    MEASURED(name, "p", {
        madvise((void *)a, 8 * PG, MADV_DONTNEED);
        store(a, 0, 7);
    });
}

static void exec_zero_page(const char *name)
{
    struct rusage r0, r1;
    volatile char scratch[64];
    volatile char *code = anon(CODE, 1, PROT_READ | PROT_EXEC); /* the page after it is not mapped */
    catch_signals();
    WARM(r0, r1);
    expected_fault = (void *)(code + PG);
    getrusage(RUSAGE_SELF, &r0);
    int jumped = sigsetjmp(jump, 1);
    if (jumped == 0) /* zeros decode as add %al,(%rax): rax points at scratch; the fetch past the page ends it */
        __asm__ volatile("mov %0, %%rax\n\tcall *%1" : : "r"(scratch), "r"(code) : "rax", "memory");
    getrusage(RUSAGE_SELF, &r1);
    result(name, "p", &r0, &r1, -1, outcome_of(jumped));
}

static void populate(const char *name)
{
    MEASURED(name, "p", {
        volatile char *a = mmap((void *)ANON, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_POPULATE, -1, 0);
        if (a == MAP_FAILED)
            die("mmap");
        store(a, 0, 15);
    });
}

static void populate_past_eof(const char *name)
{
    int fd = file("populate-file", 2, 0);
    MEASURED(name, "p", {
        volatile char *f = mmap((void *)FILEMAP, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE | MAP_POPULATE, fd, 0);
        if (f == MAP_FAILED)
            die("mmap");
        load(f, 0, 1);
    });
}

static void mlock_pattern(const char *name)
{
    volatile char *a = anon(ANON, 16, PROT_READ | PROT_WRITE);
    MEASURED(name, "p", {
        if (mlock((void *)a, 16 * PG) != 0) {
            skip(name, "host-dependent: mlock failed (%s): RLIMIT_MEMLOCK is too low here", strerror(errno));
            return;
        }
        store(a, 0, 15);
        load(a, 0, 15);
    });
}

static void mremap_pattern(const char *name, int blocked)
{
    struct rusage r0, r1;
    volatile char *a = anon(ANON, 8, PROT_READ | PROT_WRITE);
    if (blocked)
        anon(ANON + 8 * PG, 1, PROT_READ);
    store(a, 0, 7);
    WARM(r0, r1);
    getrusage(RUSAGE_SELF, &r0);
    volatile char *moved = mremap((void *)a, 8 * PG, 16 * PG, MREMAP_MAYMOVE);
    if (moved == MAP_FAILED)
        die("mremap");
    store(moved, 0, 15);
    getrusage(RUSAGE_SELF, &r1);
    if ((moved == a) == blocked) {
        skip(name, "host-dependent: mremap %s the region", blocked ? "grew in place" : "moved");
        return;
    }
    result(name, "p", &r0, &r1, -1, "ok");
}

static void mremap_move(const char *name) { mremap_pattern(name, 1); }
static void mremap_grow(const char *name) { mremap_pattern(name, 0); }

/* The stack's VMA [start, end) from /proc/self/maps. */
static void stack_vma(uintptr_t *start, uintptr_t *end)
{
    char line[512];
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps)
        die("/proc/self/maps");
    *start = *end = 0;
    while (fgets(line, sizeof line, maps))
        if (strstr(line, "[stack]"))
            sscanf(line, "%lx-%lx", start, end);
    fclose(maps);
    if (!*start)
        die("no [stack] in /proc/self/maps");
}

static void stack_far_below_sp(const char *name)
{
    struct rusage r0, r1;
    uintptr_t start, end, grown, top;
    stack_vma(&start, &end);
    volatile char *target = (volatile char *)(start - 16 * PG); /* 64K below the stack's VMA, far below its pointer */
    WARM(r0, r1);
    getrusage(RUSAGE_SELF, &r0);
    *target = 1;
    getrusage(RUSAGE_SELF, &r1);
    stack_vma(&grown, &top);
    if (grown > (uintptr_t)target)
        die("the stack did not grow");
    result(name, "p", &r0, &r1, -1, "ok");
}

static void stack_limit(const char *name)
{
    struct rusage r0, r1;
    uintptr_t start, end;
    stack_vma(&start, &end);
    struct rlimit limit;
    getrlimit(RLIMIT_STACK, &limit);
    limit.rlim_cur = end - start + 16 * PG; /* room for 64K more */
    if (setrlimit(RLIMIT_STACK, &limit) != 0)
        die("setrlimit");
    volatile char *target = (volatile char *)(start - 32 * PG);
    catch_signals();
    WARM(r0, r1);
    getrusage(RUSAGE_SELF, &r0);
    int jumped = sigsetjmp(jump, 1);
    if (jumped == 0)
        *target = 1;
    getrusage(RUSAGE_SELF, &r1);
    result(name, "p", &r0, &r1, -1, outcome_of(jumped));
}

/* ---- files --------------------------------------------------------------------------------------------------- */

static void file_read(const char *name, int cold, int advice)
{
    volatile char *f = file_map(name, "read", 32, 32, PROT_READ, MAP_PRIVATE, cold);
    if (!f)
        return;
    if (advice >= 0)
        madvise((void *)f, 32 * PG, advice);
    MEASURED(name, "p", {
        load(f, 0, 31);
    });
}

static void file_read_sequential_uncached(const char *name) { file_read(name, 1, -1); }
static void file_read_madv_random(const char *name) { file_read(name, 1, MADV_RANDOM); }
static void file_read_madv_sequential(const char *name) { file_read(name, 1, MADV_SEQUENTIAL); }
static void fault_around(const char *name) { file_read(name, 0, -1); }

static void file_read_random_order(const char *name)
{
    static const int order[] = { 17, 3, 28, 9, 22, 0, 13, 30, 6, 25, 11, 19 };
    volatile char *f = file_map(name, "random", 32, 32, PROT_READ, MAP_PRIVATE, 1);
    if (!f)
        return;
    MEASURED(name, "p", {
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
            (void)f[order[i] * PG];
    });
}

static void file_willneed(const char *name)
{
    struct rusage r0, r1;
    char page[PG];
    volatile char *f = file_map(name, "willneed", 32, 32, PROT_READ, MAP_PRIVATE, 1);
    if (!f)
        return;
    WARM(r0, r1);
    getrusage(RUSAGE_SELF, &r0);
    madvise((void *)f, 32 * PG, MADV_WILLNEED);
    getrusage(RUSAGE_SELF, &r1);
    /* MADV_WILLNEED only starts the reads; faultsim's returns once they are done. Wait for each page (read(2) copies, no fault). */
    char path[4096];
    snprintf(path, sizeof path, "%s/willneed", dir);
    int fd = open(path, O_RDONLY);
    for (int i = 0; i < 32; i++)
        if (pread(fd, page, PG, (off_t)(i * PG)) != (ssize_t)PG)
            die("pread");
    close(fd);
    struct rusage r2, r3;
    WARM(r2, r3);
    getrusage(RUSAGE_SELF, &r2);
    load(f, 0, 31);
    getrusage(RUSAGE_SELF, &r3);
    r3.ru_minflt += r1.ru_minflt - r0.ru_minflt;
    r3.ru_majflt += r1.ru_majflt - r0.ru_majflt;
    result(name, "p", &r2, &r3, -1, "ok");
}

static void private_file_load_then_write(const char *name)
{
    volatile char *f = file_map(name, "private", 32, 32, PROT_READ | PROT_WRITE, MAP_PRIVATE, 1);
    if (!f)
        return;
    MEASURED(name, "p", {
        (void)f[0];
        f[0] = 1;
        f[PG] = 1;
    });
}

static void private_file_write(const char *name)
{
    volatile char *f = file_map(name, "private-write", 8, 8, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0);
    if (!f)
        return;
    MEASURED(name, "p", {
        store(f, 0, 7);
    });
}

static void dontneed_private_file(const char *name)
{
    volatile char *f = file_map(name, "dontneed", 8, 8, PROT_READ | PROT_WRITE, MAP_PRIVATE, 0);
    if (!f)
        return;
    store(f, 0, 7);
    MEASURED(name, "p", {
        madvise((void *)f, 8 * PG, MADV_DONTNEED);
        load(f, 0, 7);
    });
}

static void shared_file_read_then_write(const char *name)
{
    volatile char *f = file_map(name, "shared", 8, 8, PROT_READ | PROT_WRITE, MAP_SHARED, 0);
    if (!f)
        return;
    MEASURED(name, "p", {
        load(f, 0, 7);
        store(f, 0, 7);
    });
}

static void shared_file_write_uncached(const char *name)
{
    volatile char *f = file_map(name, "shared-cold", 8, 8, PROT_READ | PROT_WRITE, MAP_SHARED, 1);
    if (!f)
        return;
    MEASURED(name, "p", {
        store(f, 0, 7);
    });
}

static void tmpfs_shared_read_then_write(const char *name)
{
    int fd = memfd_create("kernel-check", 0); /* a file on tmpfs (shmem), 16 pages of holes */
    if (fd < 0 || ftruncate(fd, 16 * PG) != 0)
        die("memfd_create");
    volatile char *f = map(FILEMAP, 16, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
    MEASURED(name, "holes", {
        load(f, 0, 15);
        store(f, 0, 15);
    });
    munmap((void *)f, 16 * PG);
    volatile char *g = map(FILEMAP, 16, PROT_READ | PROT_WRITE, MAP_SHARED, fd); /* its pages are in the page cache now */
    MEASURED(name, "cached", {
        load(g, 0, 15);
        store(g, 0, 15);
    });
}

static void past_eof(const char *name)
{
    struct rusage r0, r1;
    volatile char *f = file_map(name, "short", 1, 4, PROT_READ, MAP_PRIVATE, 0);
    if (!f)
        return;
    catch_signals();
    WARM(r0, r1);
    getrusage(RUSAGE_SELF, &r0);
    int jumped = sigsetjmp(jump, 1);
    if (jumped == 0) {
        (void)f[0];
        (void)f[PG];
    }
    getrusage(RUSAGE_SELF, &r1);
    result(name, "p", &r0, &r1, -1, outcome_of(jumped));
}

/* ---- two CPUs, swap ------------------------------------------------------------------------------------------ */

static volatile int go, done;

static void *racer(void *arg)
{
    volatile char *a = arg;
    while (!go)
        ;
    store(a, 0, 255);
    __atomic_add_fetch(&done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void two_cpus_one_page(const char *name)
{
    struct rusage r0, r1;
    pthread_t threads[2];
    volatile char *a = anon(ANON, 256, PROT_READ | PROT_WRITE);
    for (int i = 0; i < 2; i++)
        if (pthread_create(&threads[i], NULL, racer, (void *)a) != 0)
            die("pthread_create");
    WARM(r0, r1);
    getrusage(RUSAGE_SELF, &r0);
    go = 1;
    while (done < 2)
        ;
    getrusage(RUSAGE_SELF, &r1);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    result(name, "p", &r0, &r1, -1, "ok");
    dprintf(1, "note %s host-dependent: how many of the two threads' first touches of a page overlap depends on this host's scheduling (%ld faults for 256 pages here)\n",
            name, r1.ru_minflt - r0.ru_minflt);
}

static int swap_present(void)
{
    char line[512];
    int lines = 0;
    FILE *swaps = fopen("/proc/swaps", "r");
    if (!swaps)
        return 0;
    while (fgets(line, sizeof line, swaps))
        lines++;
    fclose(swaps);
    return lines > 1;
}

static void swap_pattern(const char *name, int forked)
{
    struct rusage r0, r1;
    if (!swap_present()) {
        skip(name, "host-dependent: this host has no swap device (/proc/swaps lists none)");
        return;
    }
    volatile char *a = anon(ANON, 1, PROT_READ | PROT_WRITE);
    store(a, 0, 0);
    if (madvise((void *)a, PG, MADV_PAGEOUT) != 0) {
        skip(name, "host-dependent: MADV_PAGEOUT failed (%s)", strerror(errno));
        return;
    }
    uint64_t frame[1];
    frames(a, 1, frame); /* 0: not present, swapped out */
    if (frame[0] != 0) {
        skip(name, "host-dependent: MADV_PAGEOUT left the page in memory (reclaim kept it)");
        return;
    }
    pid_t pid = forked ? fork() : 0; /* the child shares the swapped-out page with its parent */
    if (pid < 0)
        die("fork");
    if (pid > 0) {
        wait_child(pid);
        return;
    }
    WARM(r0, r1);
    getrusage(RUSAGE_SELF, &r0);
    store(a, 0, 0);
    getrusage(RUSAGE_SELF, &r1);
    result(name, forked ? "child" : "p", &r0, &r1, -1, "ok");
    dprintf(1, "note %s host-dependent: whether the page is still in the swap cache (a minor fault) or read back from the device (a major one) depends on when its writeback ended\n", name);
    if (forked)
        _exit(0);
}

static void swap_out_and_in(const char *name) { swap_pattern(name, 0); }
static void swap_cow_after_fork(const char *name) { swap_pattern(name, 1); }

static void smap_kernel_access(const char *name)
{
    skip(name, "not run natively: a kernel access to a user page outside a user copy oopses the kernel of this host");
}

/* ---- the host ------------------------------------------------------------------------------------------------ */

static long read_number(const char *path)
{
    long n = -1;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%ld", &n) != 1)
            n = -1;
        fclose(f);
    }
    return n;
}

static void host(void)
{
    /* The zero page: two pages read from untouched anonymous memory map one frame. */
    volatile char *a = anon(ANON, 2, PROT_READ | PROT_WRITE);
    load(a, 0, 1);
    uint64_t f[2];
    frames(a, 2, f);
    if (f[0] == HIDDEN) { /* no frame numbers without CAP_SYS_ADMIN: a write after the read faults again only on the zero page */
        struct rusage r0, r1;
        WARM(r0, r1);
        getrusage(RUSAGE_SELF, &r0);
        store(a, 0, 0);
        getrusage(RUSAGE_SELF, &r1);
        dprintf(1, "host zero-page %s\n", r1.ru_minflt > r0.ru_minflt ? "on" : "off");
    } else
        dprintf(1, "host zero-page %s\n", f[0] == f[1] ? "on" : "off");
    munmap((void *)a, 2 * PG);

    struct stat st;
    if (stat(dir, &st) != 0)
        die(dir);
    char path[256];
    long kb = -1;
    const char *forms[] = { "/sys/dev/block/%u:%u/queue/read_ahead_kb", "/sys/dev/block/%u:%u/../queue/read_ahead_kb", "/sys/class/bdi/%u:%u/read_ahead_kb" };
    for (size_t i = 0; i < 3 && kb < 0; i++) {
        snprintf(path, sizeof path, forms[i], major(st.st_dev), minor(st.st_dev));
        kb = read_number(path);
    }
    dprintf(1, "host readahead-kb %ld\n", kb);
    dprintf(1, "host fault-around-bytes %ld\n", read_number("/sys/kernel/debug/fault_around_bytes"));
    dprintf(1, "host swap %s\n", swap_present() ? "on" : "off");
    struct rlimit limit;
    getrlimit(RLIMIT_STACK, &limit);
    dprintf(1, "host stack-limit %ld\n", limit.rlim_cur == RLIM_INFINITY ? -1L : (long)limit.rlim_cur);
    char thp[256] = "unknown";
    FILE *t = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (t) {
        if (!fgets(thp, sizeof thp, t))
            strcpy(thp, "unknown");
        thp[strcspn(thp, "\n")] = 0;
        fclose(t);
    }
    dprintf(1, "host thp %s\n", thp);
    int smap = 0;
    char line[4096];
    FILE *cpu = fopen("/proc/cpuinfo", "r");
    if (cpu) {
        while (!smap && fgets(line, sizeof line, cpu))
            smap = strncmp(line, "flags", 5) == 0 && strstr(line, " smap") != NULL;
        fclose(cpu);
    }
    dprintf(1, "host smap %s\n", smap ? "on" : "off");
}

/* ---- the patterns, in faultsim's order ----------------------------------------------------------------------- */

static const struct { const char *name; void (*run)(const char *); } patterns[] = {
    { "write-touch", write_touch },
    { "read-touch", read_touch },
    { "read-then-write", read_then_write },
    { "mprotect-upgrade", mprotect_upgrade },
    { "cow-mprotect", cow_mprotect },
    { "fork-cow-copy", fork_cow_copy },
    { "fork-cow-reuse", fork_cow_reuse },
    { "fork-three-generations", fork_three_generations },
    { "fork-child-reads-written", fork_child_reads_written },
    { "fork-child-reads-zero-page", fork_child_reads_zero_page },
    { "fork-child-reads-file", fork_child_reads_file },
    { "fork-child-reads-shared-anon", fork_child_reads_shared_anon },
    { "dontneed-anon", dontneed_anon },
    { "exec-zero-page", exec_zero_page },
    { "populate", populate },
    { "populate-past-eof", populate_past_eof },
    { "mlock", mlock_pattern },
    { "mremap-move", mremap_move },
    { "mremap-grow", mremap_grow },
    { "stack-far-below-sp", stack_far_below_sp },
    { "stack-limit", stack_limit },
    { "file-read-sequential", file_read_sequential_uncached },
    { "file-read-random", file_read_random_order },
    { "file-madv-random", file_read_madv_random },
    { "file-madv-sequential", file_read_madv_sequential },
    { "file-willneed", file_willneed },
    { "fault-around", fault_around },
    { "private-file-load-then-write", private_file_load_then_write },
    { "private-file-write", private_file_write },
    { "dontneed-private-file", dontneed_private_file },
    { "shared-file-read-then-write", shared_file_read_then_write },
    { "shared-file-write-uncached", shared_file_write_uncached },
    { "tmpfs-shared-read-then-write", tmpfs_shared_read_then_write },
    { "past-eof", past_eof },
    { "two-cpus-one-page", two_cpus_one_page },
    { "swap-out-and-in", swap_out_and_in },
    { "swap-cow-after-fork", swap_cow_after_fork },
    { "smap-kernel-access", smap_kernel_access },
};

static void run_one(size_t i)
{
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        patterns[i].run(patterns[i].name);
        _exit(0);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        dprintf(1, "skip %s the helper's process for it failed (status %d)\n", patterns[i].name, status);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        dprintf(2, "usage: kernel-check DIRECTORY [PATTERN...]\n");
        return 2;
    }
    dir = argv[1];
    pid_t pid = fork(); /* the host's settings, read in a process of their own */
    if (pid == 0) {
        host();
        _exit(0);
    }
    wait_child(pid);
    size_t count = sizeof patterns / sizeof patterns[0];
    for (size_t i = 0; i < count; i++) {
        int wanted = argc == 2;
        for (int j = 2; j < argc; j++)
            wanted |= strcmp(argv[j], patterns[i].name) == 0;
        if (wanted)
            run_one(i);
    }
    for (int j = 2; j < argc; j++) {
        int known = 0;
        for (size_t i = 0; i < count; i++)
            known |= strcmp(argv[j], patterns[i].name) == 0;
        if (!known) {
            dprintf(2, "kernel-check: no pattern '%s'\n", argv[j]);
            return 2;
        }
    }
    return 0;
}

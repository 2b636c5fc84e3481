/*
 * pages.c — the program behind faultsim's shipped trace (traces/pages.lackey.gz).
 *
 * Three phases over 64 pages of its own (.bss), each touching memory a cache line (64 bytes) at a time, so that
 * the trace stays small and the page references it makes are easy to reason about:
 *   1. fill:   write every line of all 64 pages once, in order (demand-zero faults, one per page);
 *   2. loop:   read then write pages 0..39 in a cycle, 16 times (a loop larger than a small memory: LRU and FIFO
 *              evict exactly the page needed next, OPT keeps most of the loop);
 *   3. skewed: 30,000 reads at pseudo-random lines, a quarter of them anywhere in the 64 pages and the rest in
 *              pages 0..7 (a hot set that any policy should keep).
 * It makes no system call of its own between start-up and exit, and returns a checksum so that no loop is
 * optimised away.  Regenerate the trace with traces/make-trace.sh (gcc -static and valgrind's lackey).
 */

#define PAGE 4096
#define PAGES 64
#define LINE 64

static unsigned char memory[PAGES][PAGE] __attribute__((aligned(PAGE)));

int main(void)
{
    unsigned long sum = 0;

    for (int page = 0; page < PAGES; page++)
        for (int line = 0; line < PAGE; line += LINE)
            memory[page][line] = (unsigned char)(page + line);

    for (int round = 0; round < 16; round++)
        for (int page = 0; page < 40; page++)
            for (int line = 0; line < PAGE; line += 8 * LINE) {
                sum += memory[page][line];
                memory[page][line] = (unsigned char)sum;
            }

    unsigned int seed = 12345;
    for (int i = 0; i < 30000; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned int r = seed >> 8;
        int page = (r & 3) == 0 ? (int)((r >> 2) % PAGES) : (int)((r >> 2) % 8);
        sum += memory[page][(r >> 9) % PAGE];
    }

    return (int)(sum & 0x7f);
}

/*
 * fresh_pages.c: what does writing 512 MB of new memory cost on this machine, by route?
 *   0: a new file, posix_fallocate, shared mapping, written in place (as the Winograd cache does)
 *   1: write() from a reused 32 MB buffer
 *   2: ftruncate (no fallocate), shared mapping
 *   3: posix_fallocate, shared mapping with MAP_POPULATE
 *   4: anonymous memory
 *   5: write() in pieces of argv[2] KiB (default 64) from a reused buffer, no fallocate, then the
 *      file mapped read-only and every page read
 *   6: as 0, with madvise(MADV_RANDOM) on the mapping (no readahead: a write fault adds one page
 *      to the page cache instead of a large folio)
 *   7: 600 MB of anonymous memory touched and unmapped, then (timed) writes as route 5 (argv[2] KiB
 *      pieces, default 256; not mapped after): does memory the process has just freed help?
 *   8: the same, then route 0
 * Run each after a pause to see the cost once the VM has handed the free pages back to the host:
 *
 *   gcc -O2 -o /tmp/fresh_pages Benchmarks/probes/fresh_pages.c
 *   for m in 0 6 3 1 4 5; do sleep 6; /tmp/fresh_pages $m; done
 *   for k in 4 16 64 256 4096; do sleep 6; /tmp/fresh_pages 5 $k; done
 *
 * Each run removes its file when done, so the run after the pause finds no freshly freed memory.
 * (A run straight after another that freed 512 MB reuses those pages and is fast whatever the
 * route: the eighth session's runs mixed both cases.) Tenth session (Linux 6.18, ext4), after
 * 6 s pauses: route 0 0.67-1.28 s, route 6 0.50-0.52 s, route 5 in 64 KiB pieces 0.16-0.70 s and
 * in 4 MiB pieces 0.73-1.32 s, anonymous memory (4) 0.20-0.37 s. Neither route 5 nor route 6
 * made Keypoint R-CNN's cold start faster in zoo-bench engine (Benchmarks/HISTORY.md, tenth session).
 *
 * Eleventh session, same machine: route 0 1.21-1.48 s after a pause but 0.135 s straight after
 * another route-0 run; route 2 0.78-0.94 s; route 6 0.55-0.58 s; route 4 0.24-0.30 s; route 5 in
 * 64 KiB pieces 0.15-0.16 s, in 256 KiB 0.11-0.12 s, in 1 MiB 0.44-0.46 s (three runs each).
 * perf: route 0 spends 90% of its time in the kernel's memset of new large folios
 * (filemap_fault -> page_cache_ra_order -> ext4_mpage_readpages -> zero_user_segments). The VM
 * reports free blocks of order 9 (2 MB) and up to the host (page_reporting_order 9), so a
 * large folio comes from a block whose pages all fault in the host, while small folios and
 * anonymous pages come first from smaller free fragments the guest kept. Writing a new
 * Winograd file in 256 KiB pieces from a staging buffer was still slower in the engine (Benchmarks/HISTORY.md,
 * eleventh session): the probe's numbers do not carry over to a process that has taken those
 * fragments already. Nor do they hold over time: twenty minutes later, with fewer free fragments
 * of 64 KiB to 1 MiB in /proc/buddyinfo (about 620 MB against 900 MB), route 5 in 256 KiB pieces
 * took 0.63-0.89 s; routes 7 and 8 took 0.65-0.87 s and 0.74-1.13 s, so freeing 600 MB just
 * before writing did not help either.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    size_t total = 512ul << 20, chunk = 32ul << 20;
    int mode = atoi(argv[1]);
    char path[64]; snprintf(path, sizeof path, "/tmp/fresh-pages-%d.bin", mode);
    unlink(path);
    double t0 = now();
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (mode == 0) { // fallocate + shared mapping, write in place
        posix_fallocate(fd, 0, total);
        char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        for (size_t i = 0; i < total; i += 64) memset(m + i, 1, 64);
        munmap(m, total);
    } else if (mode == 1) { // write() from a reused buffer
        char *b = aligned_alloc(4096, chunk);
        for (size_t off = 0; off < total; off += chunk) { memset(b, 1, chunk); if (write(fd, b, chunk) != (ssize_t)chunk) return 1; }
        free(b);
    } else if (mode == 2) { // ftruncate (no fallocate) + shared mapping
        ftruncate(fd, total);
        char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        for (size_t i = 0; i < total; i += 64) memset(m + i, 1, 64);
        munmap(m, total);
    } else if (mode == 3) { // fallocate + MAP_POPULATE shared mapping
        posix_fallocate(fd, 0, total);
        char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
        for (size_t i = 0; i < total; i += 64) memset(m + i, 1, 64);
        munmap(m, total);
    } else if (mode == 5) { // write() in small pieces, then map read-only and read every page
        size_t piece = (argc > 2 ? (size_t)atoi(argv[2]) : 64) << 10, buffer = 4ul << 20;
        char *b = aligned_alloc(4096, buffer);
        memset(b, 1, buffer);
        for (size_t off = 0; off < total; off += piece)
            if (pwrite(fd, b + off % buffer, piece, off) != (ssize_t)piece) return 1;
        free(b);
        char *m = mmap(NULL, total, PROT_READ, MAP_SHARED, fd, 0);
        volatile char sum = 0;
        for (size_t i = 0; i < total; i += 4096) sum += m[i];
        munmap(m, total);
    } else if (mode == 6) { // fallocate + shared mapping without readahead
        posix_fallocate(fd, 0, total);
        char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        madvise(m, total, MADV_RANDOM);
        for (size_t i = 0; i < total; i += 64) memset(m + i, 1, 64);
        munmap(m, total);
    } else if (mode == 7 || mode == 8) { // 600 MB of anonymous memory touched and freed, then (timed) route 5 (7) or route 0 (8)
        size_t other = 600ul << 20, piece = (argc > 2 ? (size_t)atoi(argv[2]) : 256) << 10;
        char *a = mmap(NULL, other, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (size_t i = 0; i < other; i += 4096) a[i] = 1;
        munmap(a, other);
        t0 = now();
        if (mode == 7) {
            char *b = aligned_alloc(4096, 4ul << 20);
            memset(b, 1, 4ul << 20);
            for (size_t off = 0; off < total; off += piece)
                if (pwrite(fd, b + off % (4ul << 20), piece, off) != (ssize_t)piece) return 1;
            free(b);
        } else {
            posix_fallocate(fd, 0, total);
            char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            for (size_t i = 0; i < total; i += 64) memset(m + i, 1, 64);
            munmap(m, total);
        }
    } else if (mode == 4) { // anonymous fresh memory
        char *m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (size_t i = 0; i < total; i += 64) memset(m + i, 1, 64);
        munmap(m, total);
    }
    double t1 = now();
    close(fd);
    printf("mode %d: %.3f s for %zu MB\n", mode, t1 - t0, total >> 20);
    unlink(path);
    return 0;
}

/*
 * fma_peak.c: how many float32 FLOP/s can this machine's cores do at all? A register-only loop of
 * independent AVX-512 fused multiply-adds (12 chains, so the FMA latency is hidden), on 1 and 2
 * threads: the arithmetic peak, with no memory traffic. zoo-bench's "direct" ceiling (oneDNN's
 * direct 3x3 convolution) is compared with it, and so is its bound, which runs every FLOP that
 * cannot use Winograd at the direct ceiling.
 *
 *   gcc -O3 -mavx512f -fopenmp -o /tmp/fma_peak Benchmarks/probes/fma_peak.c && /tmp/fma_peak
 *
 * Thirteenth session (AMD EPYC Zen 4, 2 cores, 2.6 GHz nominal): 117.1-117.4 GFLOP/s on one
 * thread, 227.3-233.7 on two (32 FLOP per instruction, one instruction per cycle per core at about
 * 3.65 GHz). oneDNN's direct 3x3 convolution reached 231 GFLOP/s in the same session: the
 * direct ceiling is the FMA units' peak. (At -O2 gcc keeps the chains in memory: 56 and 108 GFLOP/s.)
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

int main(void) {
    const long steps = 200000000;  /* per thread: 12 FMAs of 16 lanes each */
    for (int threads = 1; threads <= 2; threads++) {
        float sink = 0;
        double t0 = now();
        #pragma omp parallel num_threads(threads) reduction(+:sink)
        {
            __m512 a[12];
            const __m512 b = _mm512_set1_ps(1.0000001f), c = _mm512_set1_ps(1e-7f);
            for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
            for (long s = 0; s < steps; s++)
                for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
            for (int i = 0; i < 12; i++) sink += _mm512_reduce_add_ps(a[i]);
        }
        double seconds = now() - t0;
        printf("%d thread%s: %.1f GFLOP/s (checksum %g)\n", threads, threads > 1 ? "s" : "",
               threads * (double)steps * 12 * 32 / seconds * 1e-9, sink);
    }
    return 0;
}

/*
 * sgemm_transpose.c: does oneDNN's sgemm care whether the box head's weight is transposed?
 * Times C = A * B for the box head's fully connected layers with B given as W^T ([in, out],
 * transB 'N') and as W ([out, in], transB 'T'), 2 threads, median of 9 after 2 warm-up runs.
 * Linear keeps large float32 weights as given (no transposed copy at start-up) because of it.
 *
 *   gcc -O2 -o /tmp/sgemm_transpose Benchmarks/probes/sgemm_transpose.c -ldnnl && /tmp/sgemm_transpose
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <oneapi/dnnl/dnnl.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static void run(int m, int n, int k) {
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n), *c = malloc(sizeof(float) * m * n);
    for (long i = 0; i < (long)m * k; i++) a[i] = (i % 13) * 0.01f;
    for (long i = 0; i < (long)k * n; i++) b[i] = (i % 7) * 0.01f;
    for (int t = 0; t < 2; t++) {
        char tb = t ? 'T' : 'N';
        double best = 1e9, times[9];
        for (int r = 0; r < 11; r++) {
            double t0 = now();
            dnnl_sgemm('N', tb, m, n, k, 1.0f, a, k, b, t ? k : n, 0.0f, c, n);
            double dt = now() - t0; if (r >= 2) times[r - 2] = dt;
        }
        for (int i = 0; i < 9; i++) for (int j = i + 1; j < 9; j++) if (times[j] < times[i]) { double x = times[i]; times[i] = times[j]; times[j] = x; }
        printf("m %d n %d k %d transB %c: median %.1f ms (min %.1f)\n", m, n, k, tb, times[4] * 1e3, times[0] * 1e3);
    }
    free(a); free(b); free(c);
}
int main(void) { run(1000, 1024, 12544); run(1000, 1024, 1024); run(100, 1024, 12544); return 0; }

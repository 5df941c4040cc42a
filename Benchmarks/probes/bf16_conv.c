/*
 * bf16_conv.c: which convolutions should `--precision bf16` run in bfloat16 on this CPU?
 * Times, on nChw16c input and output as the engine runs them (2 threads, median of 9 after 2
 * warm-up runs), float32 direct, float32 Winograd (3x3 only) and bfloat16 direct for:
 *   - the ceiling layer of `zoo-bench engine` (3x3 256->256 at 200x336),
 *   - a keypoint-head layer (3x3 512->512 on 100 boxes of 14x14),
 *   - two 1x1 layers of the ResNet (256->1024 at 50x68, 64->256 at 200x272).
 * On a CPU without AVX512-BF16 oneDNN emulates bfloat16 (slowly); the implementation is printed.
 *
 *   gcc -O2 -o /tmp/bf16_conv Benchmarks/probes/bf16_conv.c -ldnnl && /tmp/bf16_conv
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <oneapi/dnnl/dnnl.h>
#define CK(x) do { dnnl_status_t st_ = (x); if (st_ != dnnl_success) { printf("  (%s: status %d)\n", #x, st_); return; } } while (0)
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static dnnl_engine_t eng;
static dnnl_stream_t st;

static void run(const char *name, dnnl_data_type_t t, dnnl_alg_kind_t alg, int n, int c, int h, int w, int o, int k) {
    int pad = k / 2;
    dnnl_dims_t sd = {n, c, h, w}, wd = {o, c, k, k}, bd = {o}, dd = {n, o, h, w};
    dnnl_dims_t strides = {1, 1}, pads = {pad, pad};
    dnnl_memory_desc_t s, wt, b, d;
    CK(dnnl_memory_desc_init_by_tag(&s, 4, sd, t, dnnl_nChw16c));
    CK(dnnl_memory_desc_init_by_tag(&wt, 4, wd, t, dnnl_format_tag_any));
    CK(dnnl_memory_desc_init_by_tag(&b, 1, bd, dnnl_f32, dnnl_a));
    CK(dnnl_memory_desc_init_by_tag(&d, 4, dd, t, dnnl_nChw16c));
    dnnl_convolution_desc_t cd;
    CK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, alg, &s, &wt, &b, &d, strides, pads, pads));
    dnnl_primitive_desc_t pd;
    CK(dnnl_primitive_desc_create(&pd, &cd, NULL, eng, NULL));
    const char *impl;
    CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    dnnl_primitive_t p;
    CK(dnnl_primitive_create(&p, pd));
    const dnnl_memory_desc_t *wm = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    dnnl_memory_t ms, mw, mb, md;
    CK(dnnl_memory_create(&ms, &s, eng, DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&mw, wm, eng, DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&mb, &b, eng, DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&md, &d, eng, DNNL_MEMORY_ALLOCATE));
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb}, {DNNL_ARG_DST, md}};
    double times[9];
    for (int i = 0; i < 11; i++) {
        double t0 = now();
        CK(dnnl_primitive_execute(p, st, 4, args));
        CK(dnnl_stream_wait(st));
        if (i >= 2) times[i - 2] = now() - t0;
    }
    for (int i = 0; i < 9; i++)
        for (int j = i + 1; j < 9; j++)
            if (times[j] < times[i]) { double x = times[i]; times[i] = times[j]; times[j] = x; }
    double flops = 2.0 * n * c * o * k * k * h * w;
    printf("  %-16s %-32s %7.1f ms  %6.1f GFLOP/s\n", name, impl, times[4] * 1e3, flops / times[4] / 1e9);
    dnnl_primitive_destroy(p);
    dnnl_primitive_desc_destroy(pd);
    dnnl_memory_destroy(ms); dnnl_memory_destroy(mw); dnnl_memory_destroy(mb); dnnl_memory_destroy(md);
}

int main(void) {
    if (dnnl_engine_create(&eng, dnnl_cpu, 0) != dnnl_success || dnnl_stream_create(&st, eng, dnnl_stream_default_flags) != dnnl_success) {
        printf("no oneDNN CPU engine\n");
        return 1;
    }
    int layers[][6] = {{1, 256, 200, 336, 256, 3}, {100, 512, 14, 14, 512, 3}, {1, 256, 50, 68, 1024, 1}, {1, 64, 200, 272, 256, 1}};
    for (int l = 0; l < 4; l++) {
        int *x = layers[l];
        printf("%dx%d conv %d->%d, input %dx%d x %d\n", x[5], x[5], x[1], x[4], x[2], x[3], x[0]);
        run("f32 direct", dnnl_f32, dnnl_convolution_direct, x[0], x[1], x[2], x[3], x[4], x[5]);
        if (x[5] == 3) run("f32 winograd", dnnl_f32, dnnl_convolution_winograd, x[0], x[1], x[2], x[3], x[4], x[5]);
        run("bf16 direct", dnnl_bf16, dnnl_convolution_direct, x[0], x[1], x[2], x[3], x[4], x[5]);
    }
    return 0;
}

/*
 * p2_bands.c: could the P2 level's 3x3 convolutions (FPN output, RPN head: 256->256 on 200x272)
 * run in bands of rows, to shrink oneDNN's Winograd scratchpad (its largest, touched fresh by every
 * new process's first image)? Prints the scratchpad for the whole input and for bands, whether the
 * Winograd implementation takes a band as a strided view of the whole tensor (it does not: each
 * band would need its rows copied in and out), and the time of the whole convolution against the
 * bands (copies not counted).
 *
 *   gcc -O2 -o /tmp/p2_bands Benchmarks/probes/p2_bands.c -ldnnl
 *   OMP_NUM_THREADS=2 /tmp/p2_bands 4
 *
 * Tenth session (AMD EPYC Zen 4, 2 threads): scratchpad 266 MB whole, 81 MB in 4 bands; views
 * unsupported (oneDNN has no Winograd implementation for them, only ref:any for direct); whole
 * 104-132 ms against 4 bands 99-113 ms. Copying a conv's band rows in and out took another 7 ms
 * on one core (memcpy per channel block), so the time would come out about even, for 185 MB less
 * fresh memory in Faster and Mask R-CNN (Keypoint R-CNN's head needs 280 MB of scratchpad anyway).
 * Not pursued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dnnl.h>

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

typedef struct { dnnl_primitive_t p; dnnl_memory_t src, wei, dst, bia, scr; double scratch_mb; } conv_t;

/* A Winograd 3x3 conv 256->256 on nChw16c [1, 256, h, 272] with pt / pb rows of top / bottom padding. */
static conv_t make(int h, int pt, int pb) {
    conv_t c;
    dnnl_memory_desc_t src, wei, dst, bia;
    int oh = h + pt + pb - 2;
    dnnl_dims_t sd = {1, 256, h, 272}, wd = {256, 256, 3, 3}, dd = {1, 256, oh, 272}, bd = {256};
    dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nChw16c);
    dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nChw16c);
    dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_a);
    dnnl_convolution_desc_t cd;
    dnnl_dims_t strides = {1, 1}, pl = {pt, 1}, pr = {pb, 1};
    dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_winograd, &src, &wei, &bia, &dst,
                                       strides, pl, pr);
    dnnl_primitive_attr_t attr;
    dnnl_primitive_attr_create(&attr);
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_primitive_desc_t pd;
    if (dnnl_primitive_desc_create(&pd, &cd, attr, engine, NULL) != dnnl_success) { fprintf(stderr, "no Winograd here\n"); exit(1); }
    const dnnl_memory_desc_t *s = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    c.scratch_mb = dnnl_memory_desc_get_size(s) / 1e6;
    dnnl_primitive_create(&c.p, pd);
    dnnl_memory_create(&c.src, &src, engine, DNNL_MEMORY_ALLOCATE);
    dnnl_memory_create(&c.wei, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), engine, DNNL_MEMORY_ALLOCATE);
    dnnl_memory_create(&c.dst, &dst, engine, DNNL_MEMORY_ALLOCATE);
    dnnl_memory_create(&c.bia, &bia, engine, DNNL_MEMORY_ALLOCATE);
    dnnl_memory_create(&c.scr, s, engine, DNNL_MEMORY_ALLOCATE);
    void *p;
    dnnl_memory_get_data_handle(c.src, &p);
    size_t n = dnnl_memory_desc_get_size(&src) / 4;
    for (size_t i = 0; i < n; i++) ((float *)p)[i] = (i % 7) * 0.1f;
    return c;
}

static void run(conv_t *c) {
    dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC, c->src}, {DNNL_ARG_WEIGHTS, c->wei}, {DNNL_ARG_BIAS, c->bia},
                           {DNNL_ARG_DST, c->dst}, {DNNL_ARG_SCRATCHPAD, c->scr}};
    dnnl_primitive_execute(c->p, stream, 5, a);
    dnnl_stream_wait(stream);
}

/* Whether an implementation of `alg` takes rows 49..100 of the whole input (and writes rows 50..99
 * of the whole output) as views with the whole tensor's strides. */
static const char *takes_views(dnnl_alg_kind_t alg) {
    dnnl_memory_desc_t whole, src, dst, wei, bia;
    dnnl_dims_t full = {1, 256, 200, 272}, wd = {256, 256, 3, 3}, bd = {256};
    dnnl_dims_t sdims = {1, 256, 52, 272}, soff = {0, 0, 49, 0}, ddims = {1, 256, 50, 272}, doff = {0, 0, 50, 0};
    dnnl_memory_desc_init_by_tag(&whole, 4, full, dnnl_f32, dnnl_nChw16c);
    dnnl_memory_desc_init_submemory(&src, &whole, sdims, soff);
    dnnl_memory_desc_init_submemory(&dst, &whole, ddims, doff);
    dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_a);
    dnnl_convolution_desc_t cd;
    dnnl_dims_t strides = {1, 1}, pads = {0, 1};
    dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, alg, &src, &wei, &bia, &dst, strides, pads, pads);
    dnnl_primitive_desc_t pd;
    if (dnnl_primitive_desc_create(&pd, &cd, NULL, engine, NULL) != dnnl_success) return "unsupported";
    const char *impl = "?";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    return impl;
}

int main(int argc, char **argv) {
    int bands = argc > 1 ? atoi(argv[1]) : 4;
    if (bands < 3 || 200 % bands) { fprintf(stderr, "usage: p2_bands BANDS (3 or more, dividing 200)\n"); return 2; }
    dnnl_engine_create(&engine, dnnl_cpu, 0);
    dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    printf("band views: winograd %s, direct %s\n", takes_views(dnnl_convolution_winograd), takes_views(dnnl_convolution_direct));
    int bh = 200 / bands;
    conv_t whole = make(200, 1, 1);
    conv_t top = make(bh + 1, 1, 0), mid = make(bh + 2, 0, 0), bot = make(bh + 1, 0, 1);
    printf("scratchpad: whole %.1f MB, %d bands %.1f MB (largest)\n", whole.scratch_mb, bands,
           top.scratch_mb > mid.scratch_mb ? top.scratch_mb : mid.scratch_mb);
    for (int r = 0; r < 3; r++) { run(&whole); run(&top); run(&mid); run(&bot); }
    for (int round = 0; round < 5; round++) {
        double t0 = now();
        for (int i = 0; i < 5; i++) run(&whole);
        double t1 = now();
        for (int i = 0; i < 5; i++) {
            run(&top);
            for (int b = 0; b < bands - 2; b++) run(&mid);
            run(&bot);
        }
        double t2 = now();
        printf("whole %.1f ms, %d bands %.1f ms\n", (t1 - t0) / 5 * 1e3, bands, (t2 - t1) / 5 * 1e3);
    }
    return 0;
}

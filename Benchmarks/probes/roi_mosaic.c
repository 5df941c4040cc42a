/*
 * roi_mosaic.c: would the heads' 3x3 convolutions run faster on a mosaic of their regions than on
 * a batch of them? A batch of 100 regions of 14x14 runs oneDNN's Winograd F(4x4, 3x3) on 16x16
 * tiles (31% of the arithmetic on padding); 10x10 regions laid side by side with one zero row and
 * column between them (149x149, or four 74x74 images) waste less, but every layer's output would
 * need its gutters zeroed again before the next layer, and the regions copied in and out.
 *
 *   gcc -O2 -o /tmp/roi_mosaic Benchmarks/probes/roi_mosaic.c -ldnnl
 *   OMP_NUM_THREADS=2 /tmp/roi_mosaic 512   # keypoint head
 *   OMP_NUM_THREADS=2 /tmp/roi_mosaic 256   # mask head
 *
 * Tenth session (AMD EPYC Zen 4, 2 threads, convolution with ReLU, copies and zeroing not
 * counted): 512 channels 172-181 ms batched against 166-171 ms as a mosaic (4%); 256 channels
 * 50-61 against 42-52 ms (15%, about 30 ms an image for the mask head's four). Not pursued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dnnl.h>
static dnnl_engine_t engine; static dnnl_stream_t stream;
static double now(void){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec*1e-9;}
typedef struct { dnnl_primitive_t p; dnnl_memory_t src, wei, dst, bia, scr; const char *impl; } conv_t;
static conv_t make(int mb, int ic, int oc, int h, int w) {
    conv_t c; dnnl_memory_desc_t src, wei, dst, bia;
    dnnl_dims_t sd = {mb, ic, h, w}, wd = {oc, ic, 3, 3}, dd = {mb, oc, h, w}, bd = {oc};
    dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nChw16c);
    dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nChw16c);
    dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_a);
    dnnl_convolution_desc_t cd; dnnl_dims_t strides = {1, 1}, pl = {1, 1}, pr = {1, 1};
    dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_winograd, &src, &wei, &bia, &dst, strides, pl, pr);
    dnnl_primitive_attr_t attr; dnnl_primitive_attr_create(&attr);
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    dnnl_post_ops_t po; dnnl_post_ops_create(&po); dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0, 0); dnnl_primitive_attr_set_post_ops(attr, po);
    dnnl_primitive_desc_t pd; dnnl_primitive_desc_create(&pd, &cd, attr, engine, NULL);
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &c.impl);
    dnnl_primitive_create(&c.p, pd);
    dnnl_memory_create(&c.src, &src, engine, DNNL_MEMORY_ALLOCATE);
    dnnl_memory_create(&c.wei, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0), engine, DNNL_MEMORY_ALLOCATE);
    dnnl_memory_create(&c.dst, &dst, engine, DNNL_MEMORY_ALLOCATE);
    dnnl_memory_create(&c.bia, &bia, engine, DNNL_MEMORY_ALLOCATE);
    dnnl_memory_create(&c.scr, dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0), engine, DNNL_MEMORY_ALLOCATE);
    void *p; dnnl_memory_get_data_handle(c.src, &p);
    size_t n = dnnl_memory_desc_get_size(&src)/4; float *f = p; for (size_t i=0;i<n;i++) f[i] = (i%7)*0.1f;
    dnnl_memory_get_data_handle(c.wei, &p); memset(p, 0, dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)));
    return c;
}
static void run(conv_t *c){ dnnl_exec_arg_t a[] = {{DNNL_ARG_SRC,c->src},{DNNL_ARG_WEIGHTS,c->wei},{DNNL_ARG_BIAS,c->bia},{DNNL_ARG_DST,c->dst},{DNNL_ARG_SCRATCHPAD,c->scr}};
  dnnl_primitive_execute(c->p, stream, 5, a); dnnl_stream_wait(stream);}
int main(int argc, char**argv) {
    dnnl_engine_create(&engine, dnnl_cpu, 0); dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    int ch = argc > 1 ? atoi(argv[1]) : 512;
    conv_t batch = make(100, ch, ch, 14, 14);
    conv_t mos = make(1, ch, ch, 149, 149);      /* 10x10 ROIs, pitch 15 */
    conv_t mos3 = make(4, ch, ch, 74, 74);      /* 4 images of 5x5 ROIs */
    printf("%s | %s | %s\n", batch.impl, mos.impl, mos3.impl);
    for (int r = 0; r < 2; r++) { run(&batch); run(&mos); run(&mos3); }
    for (int round=0; round<4; round++) {
        double t0 = now();
        for (int i = 0; i < 3; i++) run(&batch);
        double t1 = now();
        for (int i = 0; i < 3; i++) run(&mos);
        double t2 = now();
        for (int i = 0; i < 3; i++) run(&mos3);
        double t3 = now();
        printf("batch 100x14x14 %.1f ms, mosaic 1x149x149 %.1f ms, 4x74x74 %.1f ms\n", (t1-t0)/3*1e3, (t2-t1)/3*1e3, (t3-t2)/3*1e3);
    }
    return 0;
}

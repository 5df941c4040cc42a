/*
 * winograd_layouts.c: which Winograd weights layout oneDNN 2.6 picks for a head's 3x3 convolutions
 * on [N, C, 14, 14] as the batch size N changes, and the size ConvTower.rows(for:) pads each N to
 * (the smallest M in N...N+16 at which both convolutions read their 100-row layout, or, for
 * N < 16, their 2-row one).
 *
 *   gcc -O2 -o /tmp/winograd_layouts Benchmarks/probes/winograd_layouts.c -ldnnl
 *   /tmp/winograd_layouts 256 512   # keypoint head: conv_fcn1 256->512, then 512->512
 *   /tmp/winograd_layouts 256 256   # mask head
 *
 * Prints N:impl/alpha/ic2_block/oc2_block of the second convolution, then N:M per batch size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <dnnl.h>

static dnnl_engine_t engine;

/* The weights layout of a Winograd conv ic->oc on nChw16c [mb, ic, 14, 14]; 0 when none. */
static int layout(int mb, int ic, int oc, dnnl_memory_desc_t *out, const char **impl) {
    dnnl_memory_desc_t src, wei, dst, bia;
    dnnl_dims_t sd = {mb, ic, 14, 14}, wd = {oc, ic, 3, 3}, dd = {mb, oc, 14, 14}, bd = {oc};
    dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nChw16c);
    dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nChw16c);
    dnnl_memory_desc_init_by_tag(&bia, 1, bd, dnnl_f32, dnnl_a);
    dnnl_convolution_desc_t cd;
    dnnl_dims_t strides = {1, 1}, pads = {1, 1};
    dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_winograd, &src, &wei, &bia, &dst,
                                       strides, pads, pads);
    dnnl_primitive_desc_t pd;
    if (dnnl_primitive_desc_create(&pd, &cd, NULL, engine, NULL) != dnnl_success) return 0;
    *out = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if (impl) dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, impl);
    dnnl_primitive_desc_destroy(pd);
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: winograd_layouts IN-CHANNELS CHANNELS\n"); return 2; }
    int ic = atoi(argv[1]), oc = atoi(argv[2]);
    dnnl_engine_create(&engine, dnnl_cpu, 0);
    dnnl_memory_desc_t large1, large2, small1, small2, a, b;
    if (!layout(100, ic, oc, &large1, NULL) || !layout(100, oc, oc, &large2, NULL)) { printf("no Winograd here\n"); return 0; }
    layout(2, ic, oc, &small1, NULL);
    layout(2, oc, oc, &small2, NULL);
    for (int n = 1; n <= 110; n++) {
        const char *impl = "?";
        if (!layout(n, oc, oc, &b, &impl)) continue;
        const dnnl_wino_desc_t *w = &b.format_desc.wino_desc;
        printf("%d:%s/%d/%d/%d ", n, impl, w->alpha, w->ic2_block, w->oc2_block);
    }
    printf("\n");
    int padded = 0, same = 0;
    for (int n = 1; n <= 100; n++) {
        int m = n;
        for (; m <= n + 16; m++) {
            if (!layout(m, ic, oc, &a, NULL) || !layout(m, oc, oc, &b, NULL)) continue;
            int ok1 = dnnl_memory_desc_equal(&a, &large1) || (n < 16 && dnnl_memory_desc_equal(&a, &small1));
            int ok2 = dnnl_memory_desc_equal(&b, &large2) || (n < 16 && dnnl_memory_desc_equal(&b, &small2));
            if (ok1 && ok2) break;
        }
        if (m > n + 16) m = n;
        padded += m - n;
        same += m == n;
        printf("%d:%d ", n, m);
    }
    printf("\npadded rows over N = 1..100: %d in all; %d sizes run as they are\n", padded, same);
    dnnl_engine_destroy(engine);
    return 0;
}

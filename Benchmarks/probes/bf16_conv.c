/*
 * bf16_conv.c: is oneDNN's bf16 convolution worth an opt-in `--precision bf16` on this CPU?
 * Times the ceiling layer of `zoo-bench engine` (3x3 conv 256->256 at 200x336, batch 1, direct
 * algorithm, layouts chosen by oneDNN) in f32 and in bf16 and prints the implementation oneDNN
 * picked (on a CPU without AVX512-BF16 the bf16 kernel emulates it).
 *
 *   gcc -O2 -o /tmp/bf16_conv Benchmarks/probes/bf16_conv.c -ldnnl && /tmp/bf16_conv
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <oneapi/dnnl/dnnl.h>
#define CK(x) do { dnnl_status_t st_ = (x); if (st_ != dnnl_success) { printf("fail %s: %d\n", #x, st_); exit(1);} } while (0)
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main() {
  dnnl_engine_t eng; CK(dnnl_engine_create(&eng, dnnl_cpu, 0));
  dnnl_stream_t st; CK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
  dnnl_dims_t sd = {1,256,200,336}, wd = {256,256,3,3}, bd = {256}, dd = {1,256,200,336};
  dnnl_dims_t strides = {1,1}, pads = {1,1};
  dnnl_data_type_t types[2] = {dnnl_f32, dnnl_bf16};
  for (int ti = 0; ti < 2; ti++) {
    dnnl_data_type_t t = types[ti];
    dnnl_memory_desc_t s, w, b, d;
    CK(dnnl_memory_desc_init_by_tag(&s, 4, sd, t, dnnl_format_tag_any));
    CK(dnnl_memory_desc_init_by_tag(&w, 4, wd, t, dnnl_format_tag_any));
    CK(dnnl_memory_desc_init_by_tag(&b, 1, bd, dnnl_f32, dnnl_a));
    CK(dnnl_memory_desc_init_by_tag(&d, 4, dd, t, dnnl_format_tag_any));
    dnnl_convolution_desc_t cd;
    CK(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &s, &w, &b, &d, strides, pads, pads));
    dnnl_primitive_desc_t pd; CK(dnnl_primitive_desc_create(&pd, &cd, NULL, eng, NULL));
    const char *impl; CK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl));
    dnnl_primitive_t p; CK(dnnl_primitive_create(&p, pd));
    const dnnl_memory_desc_t *sm = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *wm = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *dm = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    dnnl_memory_t ms, mw, mb, md;
    CK(dnnl_memory_create(&ms, sm, eng, DNNL_MEMORY_ALLOCATE)); CK(dnnl_memory_create(&mw, wm, eng, DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&mb, &b, eng, DNNL_MEMORY_ALLOCATE)); CK(dnnl_memory_create(&md, dm, eng, DNNL_MEMORY_ALLOCATE));
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, ms},{DNNL_ARG_WEIGHTS, mw},{DNNL_ARG_BIAS, mb},{DNNL_ARG_DST, md}};
    double times[9];
    for (int i = 0; i < 11; i++) { double t0 = now(); CK(dnnl_primitive_execute(p, st, 4, args)); CK(dnnl_stream_wait(st)); double dt = now() - t0; if (i >= 2) times[i-2] = dt; }
    for (int i=0;i<9;i++) for (int j=i+1;j<9;j++) if (times[j]<times[i]) {double x=times[i];times[i]=times[j];times[j]=x;}
    double fl = 2.0*256*256*9*200*336;
    printf("%s: %s median %.1f ms = %.1f GFLOP/s\n", ti ? "bf16" : "f32", impl, times[4]*1e3, fl/times[4]/1e9);
  }
  return 0;
}

#ifndef CZOO_DNNL_SHIM_H
#define CZOO_DNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>
#endif

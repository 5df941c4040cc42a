#ifndef CZOO_CAIRO_SHIM_H
#define CZOO_CAIRO_SHIM_H
#include <cairo/cairo.h>
#endif

#ifndef CZOO_PNG_SHIM_H
#define CZOO_PNG_SHIM_H
#include <png.h>
#endif

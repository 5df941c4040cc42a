#ifndef CZOO_JPEG_H
#define CZOO_JPEG_H
#include <stddef.h>
#include <stdint.h>

/// Placeholder until the imaging work lands: returns the library's version number.
int czoo_jpeg_lib_version(void);

#endif

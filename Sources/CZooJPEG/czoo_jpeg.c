#include <stdio.h>
#include <jpeglib.h>
#include "CZooJPEG.h"

int czoo_jpeg_lib_version(void) { return JPEG_LIB_VERSION; }

// libjpeg reports fatal errors through error_exit, which must not return: we longjmp back into
// czoo_jpeg_decode, so the jump never crosses a Swift frame.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include "CZooJPEG.h"

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    int truncated;
    // Set by czoo_progress_monitor before it jumps: the status it stopped the decode with.
    czoo_jpeg_status stop_status;
    char message[JMSG_LENGTH_MAX];
} czoo_error_mgr;

static void czoo_error_exit(j_common_ptr cinfo) {
    czoo_error_mgr *err = (czoo_error_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void czoo_emit_message(j_common_ptr cinfo, int msg_level) {
    czoo_error_mgr *err = (czoo_error_mgr *)cinfo->err;
    // Warnings (level -1) are kept silent. A premature end of data is an error for us, as it
    // is for PIL ("image file is truncated"); other corrupt-data warnings are ignored as PIL does.
    if (msg_level < 0) {
        cinfo->err->num_warnings++;
        if (cinfo->err->msg_code == JWRN_JPEG_EOF && !err->truncated) {
            err->truncated = 1;
            (*cinfo->err->format_message)(cinfo, err->message);
        }
    }
}

static void czoo_output_message(j_common_ptr cinfo) { (void)cinfo; }

// libjpeg calls this before absorbing each iMCU row of input and before each output row. It stops
// a decode that can no longer succeed or would cost far more than the file's size warrants:
// a multi-scan (progressive) file is read whole by jpeg_start_decompress, every scan visiting
// every block, so a tiny file claiming a huge frame, or with thousands of scans, is expensive.
static void czoo_progress_monitor(j_common_ptr cinfo) {
    czoo_error_mgr *err = (czoo_error_mgr *)cinfo->err;
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    if (dinfo->input_scan_number > CZOO_JPEG_MAX_SCANS) {
        snprintf(err->message, sizeof(err->message), "%s JPEG with more than %d scans",
                 dinfo->progressive_mode ? "progressive" : "multi-scan", CZOO_JPEG_MAX_SCANS);
        err->stop_status = CZOO_JPEG_TOO_MANY_SCANS;
        longjmp(err->jump, 1);
    }
    // The data ran out (czoo_emit_message kept libjpeg's message): the rest would be decoded
    // from zeros only to be refused as truncated. For a ~100-byte progressive file claiming
    // 13000x13000 that is 338 MB of coefficients zeroed and visited (CVE-2019-13960).
    if (err->truncated) {
        err->stop_status = CZOO_JPEG_TRUNCATED;
        longjmp(err->jump, 1);
    }
}

static void describe_colour_space(char *dst, size_t cap, j_decompress_ptr cinfo) {
    switch (cinfo->jpeg_color_space) {
    case JCS_CMYK:
        snprintf(dst, cap, "CMYK colour space");
        break;
    case JCS_YCCK:
        snprintf(dst, cap, "YCCK colour space");
        break;
    case JCS_UNKNOWN:
        snprintf(dst, cap, "unknown colour space with %d components", cinfo->num_components);
        break;
    default:
        snprintf(dst, cap, "colour space %d with %d components", (int)cinfo->jpeg_color_space,
                 cinfo->num_components);
        break;
    }
}

static void copy_message(char *dst, size_t cap, const char *src) {
    if (dst == NULL || cap == 0) return;
    snprintf(dst, cap, "%s", src);
}

czoo_jpeg_status czoo_jpeg_decode(const uint8_t *data, size_t size, int bgr, size_t max_pixels,
                                  uint8_t **pixels, int *width, int *height,
                                  char *message, size_t message_capacity) {
    struct jpeg_decompress_struct cinfo;
    czoo_error_mgr err;
    struct jpeg_progress_mgr progress;
    // Kept volatile: modified between setjmp and longjmp.
    uint8_t *volatile out = NULL;
    volatile czoo_jpeg_status status = CZOO_JPEG_OK;

    *pixels = NULL;
    *width = 0;
    *height = 0;
    memset(&err, 0, sizeof(err));
    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = czoo_error_exit;
    err.base.emit_message = czoo_emit_message;
    err.base.output_message = czoo_output_message;

    if (setjmp(err.jump)) {
        copy_message(message, message_capacity, err.message);
        jpeg_destroy_decompress(&cinfo);
        free(out);
        if (status != CZOO_JPEG_OK) return status;
        return err.stop_status == CZOO_JPEG_OK ? CZOO_JPEG_ERROR : err.stop_status;
    }

    jpeg_create_decompress(&cinfo);
    // After jpeg_create_decompress, which clears cinfo.
    memset(&progress, 0, sizeof(progress));
    progress.progress_monitor = czoo_progress_monitor;
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if ((size_t)cinfo.image_width * cinfo.image_height > max_pixels) {
        *width = (int)cinfo.image_width;
        *height = (int)cinfo.image_height;
        snprintf(err.message, sizeof(err.message), "%ux%u pixels", (unsigned)cinfo.image_width,
                 (unsigned)cinfo.image_height);
        status = CZOO_JPEG_TOO_LARGE;
        longjmp(err.jump, 1);
    }

    int gray = 0;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        gray = 1;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo.out_color_space = bgr ? JCS_EXT_BGR : JCS_EXT_RGB;
        break;
    default:
        describe_colour_space(err.message, sizeof(err.message), &cinfo);
        status = CZOO_JPEG_UNSUPPORTED;
        longjmp(err.jump, 1);
    }

    jpeg_start_decompress(&cinfo);
    // A multi-scan file has been read whole by now; if it ended early, refuse it before
    // allocating the output.
    if (err.truncated) {
        status = CZOO_JPEG_TRUNCATED;
        longjmp(err.jump, 1);
    }
    const size_t w = cinfo.output_width, h = cinfo.output_height;
    if (w == 0 || h == 0 || (gray ? cinfo.output_components != 1 : cinfo.output_components != 3)) {
        snprintf(err.message, sizeof(err.message), "unexpected output geometry %zux%zux%d",
                 w, h, cinfo.output_components);
        longjmp(err.jump, 1);
    }
    out = (uint8_t *)malloc(w * h * 3);
    if (out == NULL) {
        snprintf(err.message, sizeof(err.message), "out of memory for %zux%zu pixels", w, h);
        status = CZOO_JPEG_NO_MEMORY;
        longjmp(err.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        uint8_t *row = out + (size_t)cinfo.output_scanline * w * 3;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&cinfo, rows, 1);
        if (gray) {
            // Replicate in place from the right so no source byte is overwritten before use.
            for (size_t x = w; x-- > 0;) {
                uint8_t v = row[x];
                row[3 * x] = v;
                row[3 * x + 1] = v;
                row[3 * x + 2] = v;
            }
        }
        if (err.truncated) break;
    }
    if (err.truncated) {
        status = CZOO_JPEG_TRUNCATED;
        longjmp(err.jump, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    *pixels = out;
    *width = (int)w;
    *height = (int)h;
    return CZOO_JPEG_OK;
}

void czoo_jpeg_free(uint8_t *pixels) { free(pixels); }

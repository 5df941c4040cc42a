// libpng reports errors by calling an error function that must not return; it longjmps back
// into czoo_png_decode, so the jump never crosses a Swift frame.
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>
#include "CZooPNG.h"

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    int truncated;
    char message[256];
} czoo_png_reader;

static void czoo_png_error(png_structp png, png_const_charp msg) {
    czoo_png_reader *reader = (czoo_png_reader *)png_get_error_ptr(png);
    if (!reader->truncated) snprintf(reader->message, sizeof(reader->message), "%s", msg);
    png_longjmp(png, 1);
}

static void czoo_png_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

static void czoo_png_read(png_structp png, png_bytep out, size_t count) {
    czoo_png_reader *reader = (czoo_png_reader *)png_get_io_ptr(png);
    if (count > reader->size - reader->offset) {
        reader->truncated = 1;
        snprintf(reader->message, sizeof(reader->message),
                 "data ends at byte %zu, %zu more bytes were needed", reader->size,
                 count - (reader->size - reader->offset));
        png_error(png, "truncated");
    }
    memcpy(out, reader->data + reader->offset, count);
    reader->offset += count;
}

czoo_png_status czoo_png_decode(const uint8_t *data, size_t size, int bgr, size_t max_pixels,
                                uint8_t **pixels, int *width, int *height,
                                uint8_t **exif, size_t *exif_size,
                                char *message, size_t message_capacity) {
    czoo_png_reader reader;
    png_structp png = NULL;
    png_infop info = NULL;
    // Kept volatile: modified between setjmp and longjmp.
    uint8_t *volatile out = NULL;
    png_bytep *volatile rows = NULL;
    uint8_t *volatile exif_copy = NULL;
    volatile czoo_png_status status = CZOO_PNG_ERROR;

    *pixels = NULL;
    *width = 0;
    *height = 0;
    *exif = NULL;
    *exif_size = 0;
    memset(&reader, 0, sizeof(reader));
    reader.data = data;
    reader.size = size;

    png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, czoo_png_error, czoo_png_warning);
    if (png == NULL) {
        snprintf(message, message_capacity, "png_create_read_struct failed");
        return CZOO_PNG_NO_MEMORY;
    }
    info = png_create_info_struct(png);
    if (info == NULL) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(message, message_capacity, "png_create_info_struct failed");
        return CZOO_PNG_NO_MEMORY;
    }
    if (setjmp(png_jmpbuf(png))) {
        if (message != NULL && message_capacity > 0) snprintf(message, message_capacity, "%s", reader.message);
        png_destroy_read_struct(&png, &info, NULL);
        free(out);
        free(rows);
        free(exif_copy);
        if (reader.truncated) return CZOO_PNG_TRUNCATED;
        return status;
    }
    png_set_read_fn(png, &reader, czoo_png_read);
    png_read_info(png, info);

    png_uint_32 w = 0, h = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &w, &h, &bit_depth, &color_type, &interlace, NULL, NULL);
    if ((size_t)w * h > max_pixels) {
        char size_text[64];
        snprintf(size_text, sizeof(size_text), "%ux%u pixels", (unsigned)w, (unsigned)h);
        *width = (int)w;
        *height = (int)h;
        status = CZOO_PNG_TOO_LARGE;
        png_error(png, size_text);
    }
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth == 16) png_set_strip_16(png);
    // Unconditional: palette and low-bit gray expansion turn tRNS into an alpha channel too.
    png_set_strip_alpha(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    if (bgr) png_set_bgr(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    const size_t rowbytes = png_get_rowbytes(png, info);
    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8 || rowbytes != (size_t)w * 3) {
        char layout[160];
        snprintf(layout, sizeof(layout),
                 "unexpected layout after conversion: %d channels, %d bits, %zu bytes per row",
                 (int)png_get_channels(png, info), (int)png_get_bit_depth(png, info), rowbytes);
        png_error(png, layout);
    }
    out = (uint8_t *)malloc((size_t)w * h * 3);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * h);
    if (out == NULL || rows == NULL) {
        status = CZOO_PNG_NO_MEMORY;
        png_error(png, "out of memory for the decoded image");
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = out + (size_t)y * rowbytes;
    png_read_image(png, rows);
    // eXIf may follow the image data; read the rest of the chunks for it.
    png_read_end(png, info);

    png_bytep exif_data = NULL;
    png_uint_32 exif_len = 0;
    if (png_get_eXIf_1(png, info, &exif_len, &exif_data) != 0 && exif_data != NULL && exif_len > 0) {
        exif_copy = (uint8_t *)malloc(exif_len);
        if (exif_copy != NULL) {
            memcpy(exif_copy, exif_data, exif_len);
            *exif = exif_copy;
            *exif_size = exif_len;
        }
    }
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);
    *pixels = out;
    *width = (int)w;
    *height = (int)h;
    return CZOO_PNG_OK;
}

void czoo_png_free(uint8_t *buffer) { free(buffer); }

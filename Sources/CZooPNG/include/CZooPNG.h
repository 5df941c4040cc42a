#ifndef CZOO_PNG_H
#define CZOO_PNG_H
#include <stddef.h>
#include <stdint.h>

/// Outcome of `czoo_png_decode`.
typedef enum {
    CZOO_PNG_OK = 0,
    /// libpng reported an error (bad signature, CRC, zlib stream, ...); `message` says which.
    CZOO_PNG_ERROR = 1,
    /// The data ended before the image did.
    CZOO_PNG_TRUNCATED = 2,
    /// Out of memory for the output buffer.
    CZOO_PNG_NO_MEMORY = 3,
    /// The header announces more than `max_pixels` pixels; nothing was decoded.
    CZOO_PNG_TOO_LARGE = 4,
} czoo_png_status;

/// Decodes a PNG held in memory to 8-bit, 3-channel interleaved pixels, as OpenCV's
/// `imread(IMREAD_COLOR)` does: palette expanded to RGB, gray of 1/2/4 bits scaled to 8,
/// 16-bit samples reduced to their high byte (`png_set_strip_16`), alpha and tRNS dropped
/// (no compositing), gray replicated to three channels, no gamma correction; interlaced
/// images are de-interlaced. `bgr` != 0 asks for B, G, R byte order.
///
/// On CZOO_PNG_OK `*pixels` holds `*width * *height * 3` bytes (free with `czoo_png_free`) and,
/// when the file has an eXIf chunk, `*exif` / `*exif_size` a copy of its payload (a TIFF
/// header and IFDs; free with `czoo_png_free`; NULL / 0 otherwise). On any other status nothing
/// is allocated and `message` says what libpng reported. An image of more than `max_pixels`
/// pixels is refused after reading the header (`*width` and `*height` are then its size).
/// libpng's longjmp never leaves this function.
czoo_png_status czoo_png_decode(const uint8_t *data, size_t size, int bgr, size_t max_pixels,
                                uint8_t **pixels, int *width, int *height,
                                uint8_t **exif, size_t *exif_size,
                                char *message, size_t message_capacity);

/// Frees a buffer returned by `czoo_png_decode`.
void czoo_png_free(uint8_t *buffer);

#endif

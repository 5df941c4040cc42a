#ifndef CZOO_JPEG_H
#define CZOO_JPEG_H
#include <stddef.h>
#include <stdint.h>

/// Outcome of `czoo_jpeg_decode`.
typedef enum {
    CZOO_JPEG_OK = 0,
    /// libjpeg reported an error (corrupt or unsupported stream); `message` says which.
    CZOO_JPEG_ERROR = 1,
    /// The stream ended before the last scan line (libjpeg's "Premature end of JPEG file").
    CZOO_JPEG_TRUNCATED = 2,
    /// The colour space (CMYK, YCCK, or an unknown one such as 2 components) is not one this
    /// decoder converts; `message` names it.
    CZOO_JPEG_UNSUPPORTED = 3,
    /// Out of memory for the output buffer.
    CZOO_JPEG_NO_MEMORY = 4,
    /// The header announces more than `max_pixels` pixels; nothing was decoded.
    CZOO_JPEG_TOO_LARGE = 5,
    /// The stream has more than `CZOO_JPEG_MAX_SCANS` scans (decoding time grows with scans x
    /// blocks); decoding stopped at the first scan past the limit.
    CZOO_JPEG_TOO_MANY_SCANS = 6,
} czoo_jpeg_status;

/// The most scans a JPEG may have: the limit TurboJPEG applies with `TJFLAG_LIMITSCANS`.
#define CZOO_JPEG_MAX_SCANS 500

/// Decodes a baseline or progressive JPEG held in memory to 8-bit, 3-channel interleaved pixels.
///
/// libjpeg-turbo's default decompression settings are kept (JDCT_ISLOW, fancy upsampling), as
/// PIL and OpenCV keep them. Grayscale streams are replicated to three channels. `bgr` != 0 asks
/// for B, G, R byte order, otherwise R, G, B. On CZOO_JPEG_OK `*pixels` holds
/// `*width * *height * 3` bytes that the caller frees with `czoo_jpeg_free`; on any other status
/// nothing is allocated and `message` (NUL-terminated, at most `message_capacity` bytes) says
/// what libjpeg reported. An image of more than `max_pixels` pixels is refused after reading
/// the header (`*width` and `*height` are then its size). Decoding stops as soon as the data is
/// found to end early (CZOO_JPEG_TRUNCATED, before the output buffer is allocated) or a scan past
/// `CZOO_JPEG_MAX_SCANS` begins. libjpeg's longjmp never leaves this function.
czoo_jpeg_status czoo_jpeg_decode(const uint8_t *data, size_t size, int bgr, size_t max_pixels,
                                  uint8_t **pixels, int *width, int *height,
                                  char *message, size_t message_capacity);

/// Frees a buffer returned by `czoo_jpeg_decode`.
void czoo_jpeg_free(uint8_t *pixels);

#endif

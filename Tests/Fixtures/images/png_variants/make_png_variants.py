# Writes small PNG variants of one base image with a hand-rolled encoder (zlib + struct only),
# plus expected.json: sha256 of the H x W x 3 BGR bytes each must decode to (cv2 IMREAD_COLOR rules).
import json, struct, zlib, hashlib, os, sys
import numpy as np
out = sys.argv[1]
rng = np.random.default_rng(5)
H, W = 7, 13
rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
gray = rng.integers(0, 256, (H, W), dtype=np.uint8)
alpha = rng.integers(0, 256, (H, W), dtype=np.uint8)
low = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)

def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
def png(arr_rows_fn, w, h, depth, ctype, extra=b"", interlace=0, bpp_bits=None):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)
    raw = arr_rows_fn()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")

def rows_of(samples):  # samples: (h, w*spp) uint8 bytes per row already packed
    return b"".join(b"\x00" + bytes(r) for r in samples)

def be16(a): return a.astype(">u2").view(np.uint8).reshape(a.shape[0], -1)

files, expected = {}, {}
def bgr_sha(img): return hashlib.sha256(np.ascontiguousarray(img[:, :, ::-1]).tobytes()).hexdigest()
def g3(g): return np.repeat(g[:, :, None], 3, axis=2)

files["rgb8.png"] = png(lambda: rows_of(rgb.reshape(H, -1)), W, H, 8, 2); expected["rgb8.png"] = bgr_sha(rgb)
rgb16 = rgb.astype(np.uint16) * 256 + low
files["rgb16.png"] = png(lambda: rows_of(be16(rgb16.reshape(H, -1))), W, H, 16, 2); expected["rgb16.png"] = bgr_sha(rgb)
rgba = np.concatenate([rgb, alpha[:, :, None]], axis=2)
files["rgba8.png"] = png(lambda: rows_of(rgba.reshape(H, -1)), W, H, 8, 6); expected["rgba8.png"] = bgr_sha(rgb)
rgba16 = np.concatenate([rgb16, (alpha.astype(np.uint16) * 257)[:, :, None]], axis=2)
files["rgba16.png"] = png(lambda: rows_of(be16(rgba16.reshape(H, -1))), W, H, 16, 6); expected["rgba16.png"] = bgr_sha(rgb)
files["gray8.png"] = png(lambda: rows_of(gray), W, H, 8, 0); expected["gray8.png"] = bgr_sha(g3(gray))
gray16 = gray.astype(np.uint16) * 256 + low[:, :, 0]
files["gray16.png"] = png(lambda: rows_of(be16(gray16)), W, H, 16, 0); expected["gray16.png"] = bgr_sha(g3(gray))
ga = np.stack([gray, alpha], axis=2)
files["gray_alpha8.png"] = png(lambda: rows_of(ga.reshape(H, -1)), W, H, 8, 4); expected["gray_alpha8.png"] = bgr_sha(g3(gray))
# 1-bit and 4-bit gray: values scaled to 0..255 (v * 255 / (2^d - 1))
bits1 = (gray >= 128).astype(np.uint8)
files["gray1.png"] = png(lambda: rows_of(np.packbits(bits1, axis=1)), W, H, 1, 0); expected["gray1.png"] = bgr_sha(g3(bits1 * 255))
g4 = gray >> 4
def pack4(a):
    a = np.pad(a, ((0, 0), (0, a.shape[1] % 2)))
    return (a[:, 0::2] << 4) | a[:, 1::2]
files["gray4.png"] = png(lambda: rows_of(pack4(g4)), W, H, 4, 0); expected["gray4.png"] = bgr_sha(g3(g4 * 17))
# palette (8-bit indices) with tRNS: colours from the palette, transparency ignored
pal = rng.integers(0, 256, (16, 3), dtype=np.uint8)
idx = rng.integers(0, 16, (H, W), dtype=np.uint8)
extra = chunk(b"PLTE", pal.tobytes()) + chunk(b"tRNS", bytes(range(0, 256, 16)))
files["palette8_trns.png"] = png(lambda: rows_of(idx), W, H, 8, 3, extra); expected["palette8_trns.png"] = bgr_sha(pal[idx])
files["palette4.png"] = png(lambda: rows_of(pack4(idx)), W, H, 4, 3, chunk(b"PLTE", pal.tobytes())); expected["palette4.png"] = bgr_sha(pal[idx])
# gAMA present: no gamma correction applied (as OpenCV and PIL)
files["rgb8_gamma.png"] = png(lambda: rows_of(rgb.reshape(H, -1)), W, H, 8, 2, chunk(b"gAMA", struct.pack(">I", 100000))); expected["rgb8_gamma.png"] = bgr_sha(rgb)
# Adam7 interlaced RGB
def adam7():
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = rgb[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0: continue
        raw += rows_of(sub.reshape(sub.shape[0], -1))
    return raw
files["rgb8_interlaced.png"] = png(adam7, W, H, 8, 2, interlace=1); expected["rgb8_interlaced.png"] = bgr_sha(rgb)
# eXIf orientation 6 (rotate 90 degrees clockwise = PIL ROTATE_270)
tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
files["rgb8_exif6.png"] = png(lambda: rows_of(rgb.reshape(H, -1)), W, H, 8, 2, chunk(b"eXIf", tiff))
expected["rgb8_exif6.png"] = bgr_sha(np.rot90(rgb, k=-1))
for name, data in files.items():
    open(os.path.join(out, name), "wb").write(data)
json.dump({"width": W, "height": H, "note": "sha256 of the H x W x 3 BGR bytes after decoding (16-bit: high byte; alpha/tRNS dropped; gray replicated; no gamma); rgb8_exif6 is rotated clockwise, so its size is 7 x 13", "sha256_bgr": expected}, open(os.path.join(out, "expected.json"), "w"), indent=1, sort_keys=True)
print(len(files), "files")

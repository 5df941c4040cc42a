/// Pillow's `Image.resize(size, Image.BILINEAR)` on 8-bit images, bit for bit.
///
/// This is Pillow's convolution resampler (`Resample.c`): separable, horizontal pass first,
/// then vertical; a pass is skipped when its size is unchanged. The triangle filter is widened
/// by the scale factor when downscaling (antialiasing). Weights are computed in double
/// precision, normalised, converted to 22-bit fixed point (rounded half away from zero), and
/// each pass rounds and clips to uint8, so the intermediate image is uint8 too.
enum PillowResize {
    /// Fixed-point fraction bits of the weights (Pillow's `PRECISION_BITS`).
    static let precisionBits: Int32 = 32 - 8 - 2

    /// Per output index: first input index, number of taps, and the fixed-point weights
    /// (`taps` entries starting at `index * stride`).
    struct Coefficients {
        var first: [Int]
        var taps: [Int]
        var weights: [Int32]
        var stride: Int
    }

    /// Pillow's `precompute_coeffs` with the bilinear filter followed by
    /// `normalize_coeffs_8bpc`, for resampling `inSize` samples to `outSize`.
    static func coefficients(inSize: Int, outSize: Int) -> Coefficients {
        precondition(inSize > 0 && outSize > 0, "resize from \(inSize) to \(outSize) samples")
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1.0)
        let support = 1.0 * filterScale  // the bilinear filter's support is 1
        let stride = Int(support.rounded(.up)) * 2 + 1
        let inverseScale = 1.0 / filterScale
        var first = [Int](repeating: 0, count: outSize)
        var taps = [Int](repeating: 0, count: outSize)
        var weights = [Int32](repeating: 0, count: outSize * stride)
        var k = [Double](repeating: 0, count: stride)
        let one = Double(1 << precisionBits)
        for i in 0..<outSize {
            let center = (Double(i) + 0.5) * scale
            // Int(_:) truncates toward zero like C's (int) cast.
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), inSize)
            let n = max(hi - lo, 0)
            var total = 0.0
            for x in 0..<n {
                var t = (Double(x + lo) - center + 0.5) * inverseScale
                if t < 0 { t = -t }
                let w = t < 1 ? 1 - t : 0
                k[x] = w
                total += w
            }
            for x in 0..<n {
                let w = total != 0 ? k[x] / total : k[x]
                weights[i * stride + x] = Int32(w < 0 ? (-0.5 + w * one) : (0.5 + w * one))
            }
            first[i] = lo
            taps[i] = n
        }
        return Coefficients(first: first, taps: taps, weights: weights, stride: stride)
    }

    /// Resizes `image` to `width` x `height` (each channel filtered independently).
    static func resize(_ image: Image8, width: Int, height: Int) -> Image8 {
        precondition(width > 0 && height > 0, "resize to \(width)x\(height)")
        var current = image
        if width != current.width { current = horizontalPass(current, width: width) }
        if height != current.height { current = verticalPass(current, height: height) }
        return current
    }

    @inline(__always)
    private static func clip8(_ acc: Int32) -> UInt8 {
        let v = acc >> precisionBits
        return v < 0 ? 0 : (v > 255 ? 255 : UInt8(truncatingIfNeeded: v))
    }

    private static func horizontalPass(_ image: Image8, width outWidth: Int) -> Image8 {
        let c = coefficients(inSize: image.width, outSize: outWidth)
        let inWidth = image.width, h = image.height
        var out = [UInt8](repeating: 0, count: outWidth * h * 3)
        let half: Int32 = 1 << (precisionBits - 1)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                c.weights.withUnsafeBufferPointer { kk in
                    c.first.withUnsafeBufferPointer { first in
                        c.taps.withUnsafeBufferPointer { taps in
                            for y in 0..<h {
                                let row = y * inWidth * 3
                                let outRow = y * outWidth * 3
                                for x in 0..<outWidth {
                                    var s0 = half, s1 = half, s2 = half
                                    var p = row + first[x] * 3
                                    let k = x * c.stride
                                    for t in 0..<taps[x] {
                                        let w = kk[k + t]
                                        s0 &+= Int32(src[p]) &* w
                                        s1 &+= Int32(src[p + 1]) &* w
                                        s2 &+= Int32(src[p + 2]) &* w
                                        p += 3
                                    }
                                    let o = outRow + x * 3
                                    dst[o] = clip8(s0)
                                    dst[o + 1] = clip8(s1)
                                    dst[o + 2] = clip8(s2)
                                }
                            }
                        }
                    }
                }
            }
        }
        return Image8(width: outWidth, height: h, channelOrder: image.channelOrder, pixels: out)
    }

    private static func verticalPass(_ image: Image8, height outHeight: Int) -> Image8 {
        let c = coefficients(inSize: image.height, outSize: outHeight)
        let rowLength = image.width * 3
        var out = [UInt8](repeating: 0, count: rowLength * outHeight)
        var acc = [Int32](repeating: 0, count: rowLength)
        let half: Int32 = 1 << (precisionBits - 1)
        image.pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                acc.withUnsafeMutableBufferPointer { acc in
                    for y in 0..<outHeight {
                        // Accumulate whole rows: the same sums as Pillow's per-pixel loop, in
                        // the same tap order, but reading memory contiguously.
                        for i in 0..<rowLength { acc[i] = half }
                        let k = y * c.stride
                        for t in 0..<c.taps[y] {
                            let w = c.weights[k + t]
                            let row = (c.first[y] + t) * rowLength
                            for i in 0..<rowLength { acc[i] &+= Int32(src[row + i]) &* w }
                        }
                        let o = y * rowLength
                        for i in 0..<rowLength { dst[o + i] = clip8(acc[i]) }
                    }
                }
            }
        }
        return Image8(width: image.width, height: outHeight, channelOrder: image.channelOrder, pixels: out)
    }
}

/// Pooling and upsampling on `[N, C, H, W]` float32 tensors, following PyTorch's semantics.
public enum Resampling {
    /// `F.max_pool2d(x, kernel, stride, padding)` (padding counts as -infinity, floor mode).
    public static func maxPool2d(_ x: Tensor, kernel: Int, stride: Int, padding: Int) -> Tensor {
        precondition(x.rank == 4, "maxPool2d needs [N, C, H, W], got \(x.shape)")
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1
        var out = [Float](repeating: 0, count: n * c * max(oh, 0) * max(ow, 0))
        guard oh > 0, ow > 0 else { return Tensor(shape: [n, c, max(oh, 0), max(ow, 0)], scalars: out) }
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let sb = src.baseAddress, let db = dst.baseAddress else { return }
                for plane in 0..<(n * c) {
                    let s = sb + plane * h * w
                    let d = db + plane * oh * ow
                    for oy in 0..<oh {
                        let y0 = max(oy * stride - padding, 0), y1 = min(oy * stride - padding + kernel, h)
                        for ox in 0..<ow {
                            let x0 = max(ox * stride - padding, 0), x1 = min(ox * stride - padding + kernel, w)
                            var m = -Float.infinity
                            for yy in y0..<y1 { for xx in x0..<x1 { let v = s[yy * w + xx]; if v > m || v.isNaN { m = v } } }
                            d[oy * ow + ox] = m
                        }
                    }
                }
            }
        }
        return Tensor(shape: [n, c, oh, ow], scalars: out)
    }

    /// `F.interpolate(x, scale_factor=2, mode="nearest")`.
    public static func upsampleNearest2x(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "upsampleNearest2x needs [N, C, H, W], got \(x.shape)")
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
        var out = [Float](repeating: 0, count: planes * 4 * h * w)
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let sb = src.baseAddress, let db = dst.baseAddress else { return }
                for p in 0..<planes {
                    let s = sb + p * h * w
                    let d = db + p * 4 * h * w
                    for y in 0..<(2 * h) {
                        let row = s + (y / 2) * w, drow = d + y * 2 * w
                        for xx in 0..<(2 * w) { drow[xx] = row[xx / 2] }
                    }
                }
            }
        }
        return Tensor(shape: [x.shape[0], x.shape[1], 2 * h, 2 * w], scalars: out)
    }

    /// `F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)`: source coordinate
    /// `(dst + 0.5) / 2 - 0.5` clamped at 0, neighbours clamped at the border.
    public static func upsampleBilinear2x(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "upsampleBilinear2x needs [N, C, H, W], got \(x.shape)")
        let planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3]
        let oh = 2 * h, ow = 2 * w
        func taps(_ size: Int, _ outSize: Int) -> [(Int, Int, Float)] {
            (0..<outSize).map { o in
                let src = max((Float(o) + 0.5) * 0.5 - 0.5, 0)
                let i0 = min(Int(src), size - 1)
                let i1 = min(i0 + 1, size - 1)
                return (i0, i1, src - Float(i0))
            }
        }
        let ty = taps(h, oh), tx = taps(w, ow)
        var out = [Float](repeating: 0, count: planes * oh * ow)
        guard h > 0, w > 0 else { return Tensor(shape: [x.shape[0], x.shape[1], oh, ow], scalars: out) }
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                guard let sb = src.baseAddress, let db = dst.baseAddress else { return }
                for p in 0..<planes {
                    let s = sb + p * h * w
                    let d = db + p * oh * ow
                    for oy in 0..<oh {
                        let (y0, y1, ly) = ty[oy]
                        let hy = 1 - ly
                        for ox in 0..<ow {
                            let (x0, x1, lx) = tx[ox]
                            let hx = 1 - lx
                            d[oy * ow + ox] = hy * (hx * s[y0 * w + x0] + lx * s[y0 * w + x1])
                                + ly * (hx * s[y1 * w + x0] + lx * s[y1 * w + x1])
                        }
                    }
                }
            }
        }
        return Tensor(shape: [x.shape[0], x.shape[1], oh, ow], scalars: out)
    }
}

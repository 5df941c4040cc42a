@testable import ZooKit

/// A small deterministic generator (SplitMix64) for random test inputs.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-scale, scale).
    mutating func uniform(_ scale: Float = 1) -> Float {
        (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale
    }
    mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in uniform(scale) })
    }
}


/// `max|a - b| / max|b|`, the fixtures README's relative error.
func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "shapes differ: \(a.shape) vs \(b.shape)")
    var diff: Float = 0, ref: Float = 0
    for i in 0..<a.count {
        diff = max(diff, abs(a.scalars[i] - b.scalars[i]))
        ref = max(ref, abs(b.scalars[i]))
    }
    return ref == 0 ? diff : diff / ref
}

/// Textbook implementations the engine's ops are checked against (double accumulation).
enum NaiveOps {
    static func conv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int, padding: Int, groups: Int = 1) -> Tensor {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3]
        let o = w.shape[0], cg = w.shape[1], kh = w.shape[2], kw = w.shape[3]
        let oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1
        let og = o / groups
        precondition(cg * groups == c)
        var out = Tensor(shape: [n, o, oh, ow])
        for ni in 0..<n { for oc in 0..<o { let g = oc / og
            for oy in 0..<oh { for ox in 0..<ow {
                var s = Double(b?.scalars[oc] ?? 0)
                for ic in 0..<cg { for ky in 0..<kh { for kx in 0..<kw {
                    let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                    guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                    s += Double(x.scalars[((ni * c + g * cg + ic) * h + iy) * wd + ix])
                        * Double(w.scalars[((oc * cg + ic) * kh + ky) * kw + kx])
                } } }
                out.scalars[((ni * o + oc) * oh + oy) * ow + ox] = Float(s)
            } }
        } }
        return out
    }

    /// PyTorch ConvTranspose2d: weight `[in, out, kh, kw]`; scatter each input pixel.
    static func convTranspose2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: Int, padding: Int) -> Tensor {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3]
        let o = w.shape[1], kh = w.shape[2], kw = w.shape[3]
        let oh = (h - 1) * stride - 2 * padding + kh, ow = (wd - 1) * stride - 2 * padding + kw
        var acc = [Double](repeating: 0, count: n * o * oh * ow)
        for ni in 0..<n { for ic in 0..<c { for iy in 0..<h { for ix in 0..<wd {
            let v = Double(x.scalars[((ni * c + ic) * h + iy) * wd + ix])
            for oc in 0..<o { for ky in 0..<kh { for kx in 0..<kw {
                let oy = iy * stride - padding + ky, ox = ix * stride - padding + kx
                guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
                acc[((ni * o + oc) * oh + oy) * ow + ox] += v * Double(w.scalars[((ic * o + oc) * kh + ky) * kw + kx])
            } } }
        } } } }
        var out = Tensor(shape: [n, o, oh, ow])
        for i in 0..<acc.count { out.scalars[i] = Float(acc[i] + Double(b?.scalars[(i / (oh * ow)) % o] ?? 0)) }
        return out
    }

    static func linear(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
        let r = x.shape[0], k = w.shape[1], o = w.shape[0]
        var out = Tensor(shape: [r, o])
        for i in 0..<r { for j in 0..<o {
            var s = Double(b.scalars[j])
            for q in 0..<k { s += Double(x.scalars[i * k + q]) * Double(w.scalars[j * k + q]) }
            out.scalars[i * o + j] = Float(s)
        } }
        return out
    }

    static func relu(_ x: Tensor) -> Tensor { Tensor(shape: x.shape, scalars: x.scalars.map { max($0, 0) }) }

    static func add(_ a: Tensor, _ b: Tensor) -> Tensor { Tensor(shape: a.shape, scalars: zip(a.scalars, b.scalars).map { $0 + $1 }) }

    /// FrozenBatchNorm2d on `[N, C, H, W]`.
    static func frozenBN(_ x: Tensor, weight: Tensor, bias: Tensor, mean: Tensor, variance: Tensor) -> Tensor {
        var y = x
        let c = x.shape[1], plane = x.shape[2] * x.shape[3]
        for i in 0..<x.count {
            let ch = (i / plane) % c
            let scale = Double(weight.scalars[ch]) / (Double(variance.scalars[ch]) + 1e-5).squareRoot()
            y.scalars[i] = Float((Double(x.scalars[i]) - Double(mean.scalars[ch])) * scale + Double(bias.scalars[ch]))
        }
        return y
    }

    static func maxPool(_ x: Tensor, kernel: Int, stride: Int, padding: Int) -> Tensor {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1
        var out = Tensor(shape: [n, c, oh, ow])
        for p in 0..<(n * c) { for oy in 0..<oh { for ox in 0..<ow {
            var m = -Float.infinity
            for ky in 0..<kernel { for kx in 0..<kernel {
                let y = oy * stride - padding + ky, xx = ox * stride - padding + kx
                if y >= 0, y < h, xx >= 0, xx < w { m = max(m, x.scalars[(p * h + y) * w + xx]) }
            } }
            out.scalars[(p * oh + oy) * ow + ox] = m
        } } }
        return out
    }

    /// PyTorch bilinear interpolation, align_corners=False, output size `oh x ow` (scale = in/out).
    static func bilinear(_ x: Tensor, oh: Int, ow: Int) -> Tensor {
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        var out = Tensor(shape: [n, c, oh, ow])
        func src(_ o: Int, _ inSize: Int, _ outSize: Int) -> (Int, Int, Double) {
            let s = max((Double(o) + 0.5) * Double(inSize) / Double(outSize) - 0.5, 0)
            let i0 = Int(s.rounded(.down))
            let i1 = i0 < inSize - 1 ? i0 + 1 : i0
            return (i0, i1, s - Double(i0))
        }
        for p in 0..<(n * c) { for oy in 0..<oh { for ox in 0..<ow {
            let (y0, y1, ly) = src(oy, h, oh), (x0, x1, lx) = src(ox, w, ow)
            func at(_ y: Int, _ xx: Int) -> Double { Double(x.scalars[(p * h + y) * w + xx]) }
            let v = (1 - ly) * ((1 - lx) * at(y0, x0) + lx * at(y0, x1)) + ly * ((1 - lx) * at(y1, x0) + lx * at(y1, x1))
            out.scalars[(p * oh + oy) * ow + ox] = Float(v)
        } } }
        return out
    }
}

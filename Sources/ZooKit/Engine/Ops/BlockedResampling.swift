import Foundation

/// `Resampling`'s max-pool and nearest upsampling on `nChw16c` activations (same arithmetic as
/// the plain versions, 16 channels at a time), split over the cores by channel block.
enum BlockedResampling {
    /// `F.max_pool2d(x, kernel, stride, padding)` (padding counts as -infinity, floor mode).
    static func maxPool2d(_ x: DNNLTensor, kernel: Int, stride: Int, padding: Int) throws -> DNNLTensor {
        let x = try x.blocked(context: "maxPool2d input \(x.shape)")
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1
        let out = try DNNLTensor(blockedShape: [n, c, max(oh, 0), max(ow, 0)], context: "maxPool2d output")
        guard oh > 0, ow > 0, let src = x.pointer, let dst = out.pointer else { return out }
        let lanes = DNNLTensor.lanes
        precondition(lanes == 16, "maxPool2d's SIMD loop assumes 16 lanes")
        let blocks = n * ((c + lanes - 1) / lanes)
        let source = UnsafePointer(src)
        parallelFor(blocks) { b in
            let s = source + b * h * w * lanes
            let d = dst + b * oh * ow * lanes
            for oy in 0..<oh {
                let y0 = max(oy * stride - padding, 0), y1 = min(oy * stride - padding + kernel, h)
                for ox in 0..<ow {
                    let x0 = max(ox * stride - padding, 0), x1 = min(ox * stride - padding + kernel, w)
                    // 16 channels at once: a lane takes v where v > max or v is NaN, as the scalar loop.
                    var m = SIMD16<Float>(repeating: -Float.infinity)
                    for yy in y0..<y1 {
                        for xx in x0..<x1 {
                            let v = UnsafeRawPointer(s + (yy * w + xx) * lanes).loadUnaligned(as: SIMD16<Float>.self)
                            m.replace(with: v, where: (v .> m) .| (v .!= v))
                        }
                    }
                    UnsafeMutableRawPointer(d + (oy * ow + ox) * lanes).storeBytes(of: m, as: SIMD16<Float>.self)
                }
            }
        }
        return out
    }

    /// `F.interpolate(x, scale_factor=2, mode="nearest")`.
    static func upsampleNearest2x(_ x: DNNLTensor) throws -> DNNLTensor {
        let x = try x.blocked(context: "upsampleNearest2x input \(x.shape)")
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let out = try DNNLTensor(blockedShape: [n, c, 2 * h, 2 * w], context: "upsampleNearest2x output")
        guard h > 0, w > 0, let src = x.pointer, let dst = out.pointer else { return out }
        let lanes = DNNLTensor.lanes
        let blocks = n * ((c + lanes - 1) / lanes)
        let source = UnsafePointer(src)
        let pixel = lanes * MemoryLayout<Float>.stride
        parallelFor(blocks) { b in
            let s = source + b * h * w * lanes
            let d = dst + b * 4 * h * w * lanes
            for y in 0..<(2 * h) {
                let row = s + (y / 2) * w * lanes, drow = d + y * 2 * w * lanes
                for xx in 0..<(2 * w) {
                    UnsafeMutableRawPointer(drow + xx * lanes).copyMemory(from: row + (xx / 2) * lanes, byteCount: pixel)
                }
            }
        }
        return out
    }

    /// Runs `body(0..<count)` split over the machine's cores.
    static func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, count)
        guard workers > 1 else {
            for i in 0..<count { body(i) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var i = worker
            while i < count {
                body(i)
                i += workers
            }
        }
    }
}

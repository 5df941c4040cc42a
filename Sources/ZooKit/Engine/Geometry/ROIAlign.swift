import Dispatch

/// torchvision's `roi_align` (CPU kernel `roi_align_forward_kernel_impl`), as detectron2's
/// `ROIAlign` calls it: `aligned = false` for the `ROIAlign` pooler type, `true` for `ROIAlignV2`.
public struct ROIAlign: Sendable, Equatable {
    /// Output side P (pooled maps are `P x P`).
    public var outputSize: Int
    /// Feature-map pixels per input pixel (`1 / stride`).
    public var spatialScale: Float
    /// Samples per bin side; `0` = adaptive, `ceil(roi_size / P)`.
    public var samplingRatio: Int
    /// Shift box coordinates by -0.5 pixel and drop the min-size-1 clamp (`ROIAlignV2`).
    public var aligned: Bool

    public init(outputSize: Int, spatialScale: Double, samplingRatio: Int, aligned: Bool) {
        precondition(outputSize > 0, "ROIAlign: output size \(outputSize) must be positive")
        precondition(samplingRatio >= 0, "ROIAlign: sampling ratio \(samplingRatio) must be >= 0")
        self.outputSize = outputSize
        self.spatialScale = Float(spatialScale)
        self.samplingRatio = samplingRatio
        self.aligned = aligned
    }

    /// Pools `boxes` (absolute XYXY input pixels) from `features` `[N, C, H, W]`; box `i` reads
    /// image `batchIndices[i]` (all 0 when nil). Returns `[R, C, P, P]` float32.
    public func callAsFunction(_ features: Tensor, boxes: [Box], batchIndices: [Int]? = nil) -> Tensor {
        // Channels-last pays for its transpose once a few RoIs share the map.
        forward(features, boxes: boxes, batchIndices: batchIndices, channelsLast: boxes.count >= 8)
    }

    /// `callAsFunction` with the memory layout chosen by the caller: `channelsLast` transposes the
    /// map to `[N, H, W, C]` first so each sample reads C contiguous values. Both layouts do the same
    /// float operations in the same order, so they give identical results.
    func forward(_ features: Tensor, boxes: [Box], batchIndices: [Int]?, channelsLast: Bool) -> Tensor {
        precondition(features.rank == 4, "ROIAlign: features must be [N, C, H, W], got \(features.shape)")
        precondition(batchIndices == nil || batchIndices?.count == boxes.count,
                     "ROIAlign: \(batchIndices?.count ?? 0) batch indices for \(boxes.count) boxes")
        let n = features.shape[0], c = features.shape[1], h = features.shape[2], w = features.shape[3]
        let p = outputSize
        if let batchIndices {
            for b in batchIndices { precondition(b >= 0 && b < n, "ROIAlign: batch index \(b) outside \(n) images") }
        }
        guard !boxes.isEmpty, c > 0, h > 0, w > 0 else { return Tensor(shape: [boxes.count, c, p, p]) }
        return pool(channelsLast ? Self.channelsLast(features) : features, n: n, c: c, h: h, w: w, boxes: boxes,
                    batchIndices: batchIndices, channelsLast: channelsLast)
    }

    /// Pools one box (of image 0) from a `[N, H, W, C]` map into `output` (`C * P * P` values,
    /// `[C, P, P]`), as `forward(_:boxes:batchIndices:channelsLast: true)` does for each box.
    func poolOne(channelsLastFeatures features: Tensor, box: Box, into output: UnsafeMutablePointer<Float>) {
        let h = features.shape[1], w = features.shape[2], c = features.shape[3], bins = outputSize * outputSize
        guard h > 0, w > 0, c > 0 else {
            output.initialize(repeating: 0, count: c * bins)
            return
        }
        let taps = samplingTaps(box: box, height: h, width: w)
        features.withUnsafeBufferPointer { input in
            guard let base = input.baseAddress else { return }
            Self.poolChannelsLast(base, channels: c, taps: taps, output: output, bins: bins)
        }
    }

    /// Pools one box from a `[1, C, H, W]` map in oneDNN's `nChw16c` layout (`base` is channel
    /// block 0, pixel (0, 0)) into `output` (`[C, P, P]`): the channels-last loop with the channels
    /// read in blocks of 16, the same sums in the same order.
    func poolOne(blocked base: UnsafePointer<Float>, channels c: Int, height h: Int, width w: Int, box: Box,
                 into output: UnsafeMutablePointer<Float>) {
        let bins = outputSize * outputSize
        guard h > 0, w > 0, c > 0 else {
            output.initialize(repeating: 0, count: c * bins)
            return
        }
        let taps = samplingTaps(box: box, height: h, width: w)
        let lanes = 16, blocks = (c + lanes - 1) / lanes, blockStride = h * w * lanes
        let acc = UnsafeMutablePointer<Float>.allocate(capacity: blocks * lanes)
        defer { acc.deallocate() }
        taps.taps.withUnsafeBufferPointer { tp in
            var t = 0
            for bin in 0..<bins {
                acc.initialize(repeating: 0, count: blocks * lanes)
                for _ in 0..<taps.samplesPerBin {
                    let k = tp[t]
                    let w1 = k.w1, w2 = k.w2, w3 = k.w3, w4 = k.w4
                    for b in 0..<blocks {
                        let block = UnsafeRawPointer(base + b * blockStride)
                        let v1 = block.loadUnaligned(fromByteOffset: k.p1 * lanes * 4, as: SIMD16<Float>.self)
                        let v2 = block.loadUnaligned(fromByteOffset: k.p2 * lanes * 4, as: SIMD16<Float>.self)
                        let v3 = block.loadUnaligned(fromByteOffset: k.p3 * lanes * 4, as: SIMD16<Float>.self)
                        let v4 = block.loadUnaligned(fromByteOffset: k.p4 * lanes * 4, as: SIMD16<Float>.self)
                        let a = UnsafeMutableRawPointer(acc + b * lanes)
                        // Per lane the same operations, in the same order, as the channels-last loop.
                        let sum = a.loadUnaligned(as: SIMD16<Float>.self) + (w1 * v1 + w2 * v2 + w3 * v3 + w4 * v4)
                        a.storeBytes(of: sum, as: SIMD16<Float>.self)
                    }
                    t += 1
                }
                for ch in 0..<c { output[ch * bins + bin] = acc[ch] / taps.count }
            }
        }
    }

    /// The pooling loops over `source` (`[N, C, H, W]`, or `[N, H, W, C]` when `channelsLast`).
    private func pool(_ source: Tensor, n: Int, c: Int, h: Int, w: Int, boxes: [Box], batchIndices: [Int]?,
                      channelsLast: Bool) -> Tensor {
        let p = outputSize
        var output = Tensor(shape: [boxes.count, c, p, p])
        output.withUnsafeMutableBufferPointer { out in
            guard let outBase = out.baseAddress else { return }
            source.withUnsafeBufferPointer { input in
                guard let inBase = input.baseAddress else { return }
                let perRoI = { (r: Int) in
                    let b = batchIndices?[r] ?? 0
                    let taps = self.samplingTaps(box: boxes[r], height: h, width: w)
                    let dst = outBase + r * c * p * p
                    if channelsLast {
                        Self.poolChannelsLast(inBase + b * h * w * c, channels: c, taps: taps, output: dst, bins: p * p)
                    } else {
                        Self.poolPlanar(inBase + b * c * h * w, channels: c, plane: h * w, taps: taps, output: dst, bins: p * p)
                    }
                }
                // Each RoI writes its own slice of the output.
                if boxes.count >= 4 {
                    DispatchQueue.concurrentPerform(iterations: boxes.count, execute: perRoI)
                } else {
                    for r in boxes.indices { perRoI(r) }
                }
            }
        }
        return output
    }

    /// The four taps of one sampling point: flat pixel offsets and bilinear weights.
    struct Tap {
        var p1 = 0, p2 = 0, p3 = 0, p4 = 0
        var w1: Float = 0, w2: Float = 0, w3: Float = 0, w4: Float = 0
    }

    /// Taps of one RoI, bin-major then sample-major, and the divisor of each bin's sum.
    struct RoITaps {
        var taps: [Tap]
        var samplesPerBin: Int
        var count: Float
    }

    /// torchvision's `pre_calc_for_bilinear_interpolate` for one box, float32 arithmetic in its order.
    func samplingTaps(box: Box, height: Int, width: Int) -> RoITaps {
        let pooled = outputSize
        let offset: Float = aligned ? 0.5 : 0
        let roiStartW = box.x0 * spatialScale - offset
        let roiStartH = box.y0 * spatialScale - offset
        let roiEndW = box.x1 * spatialScale - offset
        let roiEndH = box.y1 * spatialScale - offset
        var roiWidth = roiEndW - roiStartW
        var roiHeight = roiEndH - roiStartH
        if !aligned {
            roiWidth = max(roiWidth, 1)
            roiHeight = max(roiHeight, 1)
        }
        let binSizeH = roiHeight / Float(pooled)
        let binSizeW = roiWidth / Float(pooled)
        // Adaptive grids are bounded so a corrupt box cannot ask for billions of samples.
        let gridH = samplingRatio > 0 ? samplingRatio : Self.adaptiveGrid(roiHeight / Float(pooled))
        let gridW = samplingRatio > 0 ? samplingRatio : Self.adaptiveGrid(roiWidth / Float(pooled))
        let count = Float(max(gridH * gridW, 1))

        var taps = [Tap](repeating: Tap(), count: pooled * pooled * gridH * gridW)
        var t = 0
        for ph in 0..<pooled {
            for pw in 0..<pooled {
                for iy in 0..<gridH {
                    let yy = roiStartH + Float(ph) * binSizeH + (Float(iy) + 0.5) * binSizeH / Float(gridH)
                    for ix in 0..<gridW {
                        let xx = roiStartW + Float(pw) * binSizeW + (Float(ix) + 0.5) * binSizeW / Float(gridW)
                        defer { t += 1 }
                        var y = yy, x = xx
                        // Outside the map (or NaN): the sample contributes 0.
                        guard y >= -1 && y <= Float(height) && x >= -1 && x <= Float(width) else { continue }
                        if y <= 0 { y = 0 }
                        if x <= 0 { x = 0 }
                        var yLow = Int(y), xLow = Int(x)
                        let yHigh: Int, xHigh: Int
                        if yLow >= height - 1 { yLow = height - 1; yHigh = yLow; y = Float(yLow) } else { yHigh = yLow + 1 }
                        if xLow >= width - 1 { xLow = width - 1; xHigh = xLow; x = Float(xLow) } else { xHigh = xLow + 1 }
                        let ly = y - Float(yLow), lx = x - Float(xLow)
                        let hy = 1 - ly, hx = 1 - lx
                        taps[t] = Tap(p1: yLow * width + xLow, p2: yLow * width + xHigh,
                                      p3: yHigh * width + xLow, p4: yHigh * width + xHigh,
                                      w1: hy * hx, w2: hy * lx, w3: ly * hx, w4: ly * lx)
                    }
                }
            }
        }
        return RoITaps(taps: taps, samplesPerBin: gridH * gridW, count: count)
    }

    /// `ceil(roi_size / pooled)` samples, clamped to [0, 64] (64 x 64 samples per bin is already far
    /// beyond any box ROIPooler sends to a level; torchvision has no bound).
    private static func adaptiveGrid(_ binSize: Float) -> Int {
        let g = binSize.rounded(.up)
        guard g.isFinite else { return 0 }
        return Int(min(max(g, 0), 64))
    }

    /// torchvision's loop: per channel, per bin, the samples' weighted taps summed, then divided.
    static func poolPlanar(_ image: UnsafePointer<Float>, channels: Int, plane: Int, taps: RoITaps,
                           output: UnsafeMutablePointer<Float>, bins: Int) {
        taps.taps.withUnsafeBufferPointer { tp in
            for ch in 0..<channels {
                let src = image + ch * plane
                var t = 0
                for bin in 0..<bins {
                    var value: Float = 0
                    for _ in 0..<taps.samplesPerBin {
                        let k = tp[t]
                        value += k.w1 * src[k.p1] + k.w2 * src[k.p2] + k.w3 * src[k.p3] + k.w4 * src[k.p4]
                        t += 1
                    }
                    output[ch * bins + bin] = value / taps.count
                }
            }
        }
    }

    /// The same sums over a `[H, W, C]` map: each tap reads C contiguous values, accumulated for all
    /// channels at once (per channel, the additions happen in torchvision's order).
    static func poolChannelsLast(_ image: UnsafePointer<Float>, channels: Int, taps: RoITaps,
                                 output: UnsafeMutablePointer<Float>, bins: Int) {
        let acc = UnsafeMutablePointer<Float>.allocate(capacity: channels)
        defer { acc.deallocate() }
        taps.taps.withUnsafeBufferPointer { tp in
            var t = 0
            for bin in 0..<bins {
                acc.initialize(repeating: 0, count: channels)
                for _ in 0..<taps.samplesPerBin {
                    let k = tp[t]
                    let v1 = image + k.p1 * channels, v2 = image + k.p2 * channels
                    let v3 = image + k.p3 * channels, v4 = image + k.p4 * channels
                    let w1 = k.w1, w2 = k.w2, w3 = k.w3, w4 = k.w4
                    for ch in 0..<channels {
                        acc[ch] += w1 * v1[ch] + w2 * v2[ch] + w3 * v3[ch] + w4 * v4[ch]
                    }
                    t += 1
                }
                for ch in 0..<channels { output[ch * bins + bin] = acc[ch] / taps.count }
            }
        }
    }

    /// `[N, C, H, W]` -> `[N, H, W, C]`.
    static func channelsLast(_ t: Tensor) -> Tensor {
        let n = t.shape[0], c = t.shape[1], h = t.shape[2], w = t.shape[3]
        var out = Tensor(shape: [n, h, w, c])
        out.withUnsafeMutableBufferPointer { dst in
            guard let d = dst.baseAddress else { return }
            t.withUnsafeBufferPointer { src in
                guard let s = src.baseAddress else { return }
                DispatchQueue.concurrentPerform(iterations: n * h) { row in
                    let b = row / h, y = row % h
                    let from = s + (b * c * h + y) * w
                    let to = d + row * w * c
                    // Tiles of 16 columns: each channel's row segment is read contiguously and the
                    // destination tile (16 x C) is written contiguously.
                    var x0 = 0
                    while x0 < w {
                        let x1 = min(x0 + 16, w)
                        for ch in 0..<c {
                            let src = from + ch * h * w
                            for x in x0..<x1 { to[x * c + ch] = src[x] }
                        }
                        x0 = x1
                    }
                }
            }
        }
        return out
    }
}

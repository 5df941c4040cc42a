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
        precondition(features.rank == 4, "ROIAlign: features must be [N, C, H, W], got \(features.shape)")
        precondition(batchIndices == nil || batchIndices?.count == boxes.count,
                     "ROIAlign: \(batchIndices?.count ?? 0) batch indices for \(boxes.count) boxes")
        let c = features.shape[1], p = outputSize
        var output = Tensor(shape: [boxes.count, c, p, p])
        guard !boxes.isEmpty else { return output }
        output.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress
            features.withUnsafeBufferPointer { input in
                let perRoI = { (r: Int) in
                    guard let outBase else { return }
                    let b = batchIndices?[r] ?? 0
                    precondition(b >= 0 && b < features.shape[0], "ROIAlign: batch index \(b) outside \(features.shape[0]) images")
                    self.pool(input: input, features: features.shape, box: boxes[r], batch: b,
                              output: UnsafeMutableBufferPointer(start: outBase + r * c * p * p, count: c * p * p))
                }
                // Each RoI writes its own slice; threads pay off once there is real work per call.
                if boxes.count >= 4 && c * p * p >= 1024 {
                    DispatchQueue.concurrentPerform(iterations: boxes.count, execute: perRoI)
                } else {
                    for r in boxes.indices { perRoI(r) }
                }
            }
        }
        return output
    }

    /// One RoI: precomputes the 4 taps and weights of every sample, then sums them per channel.
    private func pool(input: UnsafeBufferPointer<Float>, features shape: [Int], box: Box, batch: Int,
                      output: UnsafeMutableBufferPointer<Float>) {
        let channels = shape[1], height = shape[2], width = shape[3]
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
        let gridH = samplingRatio > 0 ? samplingRatio : Int((roiHeight / Float(pooled)).rounded(.up))
        let gridW = samplingRatio > 0 ? samplingRatio : Int((roiWidth / Float(pooled)).rounded(.up))
        let count = Float(max(gridH * gridW, 1))

        // pre_calc_for_bilinear_interpolate
        let taps = pooled * pooled * gridH * gridW
        var pos = [Int32](repeating: 0, count: taps * 4)
        var wts = [Float](repeating: 0, count: taps * 4)
        var t = 0
        for ph in 0..<pooled {
            for pw in 0..<pooled {
                for iy in 0..<gridH {
                    let yy = roiStartH + Float(ph) * binSizeH + (Float(iy) + 0.5) * binSizeH / Float(gridH)
                    for ix in 0..<gridW {
                        let xx = roiStartW + Float(pw) * binSizeW + (Float(ix) + 0.5) * binSizeW / Float(gridW)
                        defer { t += 1 }
                        var y = yy, x = xx
                        if y < -1 || y > Float(height) || x < -1 || x > Float(width) { continue }
                        if y <= 0 { y = 0 }
                        if x <= 0 { x = 0 }
                        var yLow = Int(y), xLow = Int(x)
                        let yHigh: Int, xHigh: Int
                        if yLow >= height - 1 { yLow = height - 1; yHigh = yLow; y = Float(yLow) } else { yHigh = yLow + 1 }
                        if xLow >= width - 1 { xLow = width - 1; xHigh = xLow; x = Float(xLow) } else { xHigh = xLow + 1 }
                        let ly = y - Float(yLow), lx = x - Float(xLow)
                        let hy = 1 - ly, hx = 1 - lx
                        let o = t * 4
                        pos[o] = Int32(yLow * width + xLow); pos[o + 1] = Int32(yLow * width + xHigh)
                        pos[o + 2] = Int32(yHigh * width + xLow); pos[o + 3] = Int32(yHigh * width + xHigh)
                        wts[o] = hy * hx; wts[o + 1] = hy * lx; wts[o + 2] = ly * hx; wts[o + 3] = ly * lx
                    }
                }
            }
        }
        let samplesPerBin = gridH * gridW
        let plane = height * width
        pos.withUnsafeBufferPointer { pos in
            wts.withUnsafeBufferPointer { wts in
                for ch in 0..<channels {
                    let src = input.baseAddress.map { $0 + (batch * channels + ch) * plane }
                    guard let src else { return }
                    var tap = 0
                    for bin in 0..<(pooled * pooled) {
                        var value: Float = 0
                        for _ in 0..<samplesPerBin {
                            let o = tap * 4
                            value += wts[o] * src[Int(pos[o])] + wts[o + 1] * src[Int(pos[o + 1])]
                                + wts[o + 2] * src[Int(pos[o + 2])] + wts[o + 3] * src[Int(pos[o + 3])]
                            tap += 1
                        }
                        output[ch * pooled * pooled + bin] = value / count
                    }
                }
            }
        }
    }
}

import Foundation
import Dispatch

/// detectron2's `heatmaps_to_keypoints`: decodes `[R, K, S, S]` keypoint heatmap logits
/// (`pred_keypoint_heatmaps`, S = 56) against the R boxes they were predicted for.
///
/// Per box: `w = max(x1 - x0, 1)`, the maps are resized to `ceil(h) x ceil(w)` with PyTorch's bicubic
/// `interpolate` (a = -0.75, `align_corners=False`, border-clamped taps); the first maximum of each
/// map gives `x = (xi + 0.5) * (w / ceil(w)) + x0` (same for y), `logit` = the resized map there and
/// `score = exp(logit - max) / sum(exp(heatmap - max))` over the S x S map.
///
/// - Parameter boxes: the boxes in the **resized input's** coordinates (before postprocess).
/// - Returns: per box, K keypoints in those same coordinates (`DetectorPostprocess.scaledKeypoints`
///   maps them to the input image).
public func heatmapsToKeypoints(_ heatmaps: Tensor, boxes: [Box]) -> [[Keypoint]] {
    precondition(heatmaps.rank == 4 && heatmaps.shape[0] == boxes.count,
                 "heatmapsToKeypoints: heatmaps must be [\(boxes.count), K, S, S], got \(heatmaps.shape)")
    let k = heatmaps.shape[1], sh = heatmaps.shape[2], sw = heatmaps.shape[3]
    guard k > 0, sh > 0, sw > 0 else { return boxes.map { _ in [] } }
    var flat = [Keypoint](repeating: Keypoint(x: 0, y: 0, score: 0, logit: 0), count: boxes.count * k)
    heatmaps.withUnsafeBufferPointer { maps in
        flat.withUnsafeMutableBufferPointer { results in
            guard let base = maps.baseAddress, let out = results.baseAddress else { return }
            // One task per box: its K maps share the resize taps.
            let decodeBox = { (r: Int) in
                let box = boxes[r]
                guard box.isFinite else { return }
                let width = max(box.x1 - box.x0, 1), height = max(box.y1 - box.y0, 1)
                let widthCeil = width.rounded(.up), heightCeil = height.rounded(.up)
                // A box larger than any image (corrupt input) is not resized to billions of pixels.
                guard widthCeil <= 65536, heightCeil <= 65536 else { return }
                let outW = Int(widthCeil), outH = Int(heightCeil)
                let widthCorrection = width / widthCeil, heightCorrection = height / heightCeil
                let xTaps = BicubicTaps(inputSize: sw, outputSize: outW)
                let yTaps = BicubicTaps(inputSize: sh, outputSize: outH)
                var rows = [Float](repeating: 0, count: sh * outW)
                var resized: [Float] = []
                for j in 0..<k {
                    let map = UnsafeBufferPointer(start: base + (r * k + j) * sh * sw, count: sh * sw)
                    // argmax: the first maximum in row-major order
                    var found = rows.withUnsafeMutableBufferPointer { scratch in
                        bicubicArgmax(map, width: sw, xTaps: xTaps, yTaps: yTaps, scratch: scratch)
                    }
                    if found == nil {
                        // Non-finite logits: the whole map, compared as detectron2 does.
                        if resized.isEmpty { resized = [Float](repeating: 0, count: outH * outW) }
                        resized.withUnsafeMutableBufferPointer { o in
                            rows.withUnsafeMutableBufferPointer { scratch in
                                bicubicResize(map, width: sw, xTaps: xTaps, yTaps: yTaps, scratch: scratch, into: o)
                            }
                        }
                        var first = (index: 0, value: resized[0])
                        for i in 1..<resized.count where resized[i] > first.value { first = (i, resized[i]) }
                        found = first
                    }
                    let best = found?.index ?? 0, maxValue = found?.value ?? 0
                    // roi_map_scores at the argmax: exp(0) / sum(exp(heatmap - max))
                    var poolSum: Float = 0
                    for v in map { poolSum += Foundation.exp(v - maxValue) }
                    let score = Foundation.exp(maxValue - maxValue) / poolSum
                    let xi = best % outW, yi = best / outW
                    let x = (Float(xi) + 0.5) * widthCorrection + box.x0
                    let y = (Float(yi) + 0.5) * heightCorrection + box.y0
                    out[r * k + j] = Keypoint(x: x, y: y, score: score, logit: maxValue)
                }
            }
            if boxes.count >= 2 {
                DispatchQueue.concurrentPerform(iterations: boxes.count, execute: decodeBox)
            } else {
                for r in boxes.indices { decodeBox(r) }
            }
        }
    }
    return boxes.indices.map { Array(flat[($0 * k)..<(($0 + 1) * k)]) }
}

/// Source taps and cubic weights along one axis for PyTorch's `upsample_bicubic2d`
/// (`HelperInterpCubic`, `align_corners=False`).
struct BicubicTaps {
    /// Per output index, 4 clamped source indices.
    var indices: [Int]
    /// Per output index, 4 weights.
    var weights: [Float]

    init(inputSize: Int, outputSize: Int) {
        let a: Float = -0.75
        let scale = Float(inputSize) / Float(outputSize)
        indices = []
        weights = []
        indices.reserveCapacity(outputSize * 4)
        weights.reserveCapacity(outputSize * 4)
        for o in 0..<outputSize {
            // area_pixel_compute_source_index(cubic: true): no clamp at 0
            let real = scale * (Float(o) + 0.5) - 0.5
            // guard_index_and_lambda
            let index = min(Int(real.rounded(.down)), inputSize - 1)
            let t = min(max(real - Float(index), 0), 1)
            // get_cubic_upsample_coefficients
            let x1 = t
            let x2 = 1 - t
            weights.append(((a * (x1 + 1) - 5 * a) * (x1 + 1) + 8 * a) * (x1 + 1) - 4 * a)
            weights.append(((a + 2) * x1 - (a + 3)) * x1 * x1 + 1)
            weights.append(((a + 2) * x2 - (a + 3)) * x2 * x2 + 1)
            weights.append(((a * (x2 + 1) - 5 * a) * (x2 + 1) + 8 * a) * (x2 + 1) - 4 * a)
            for j in 0..<4 { indices.append(min(max(index - 1 + j, 0), inputSize - 1)) }
        }
    }
}

/// The first maximum, in row-major order, of `bicubicResize`'s output (its index and value,
/// bit-equal to resizing then scanning), computing only the output rows that can hold it: the
/// horizontal pass is done in full into `scratch`, and an output row is skipped when the bound
/// `sum_i wy_i * (wy_i >= 0 ? max : min)(row_i)`, widened by far more than float rounding, is
/// below the best value found. Keypoint heatmaps have one peak, so most rows of a box's
/// hundreds are skipped. Nil when the map holds a non-finite value (no bound holds then).
func bicubicArgmax(_ input: UnsafeBufferPointer<Float>, width: Int, xTaps: BicubicTaps, yTaps: BicubicTaps,
                   scratch: UnsafeMutableBufferPointer<Float>) -> (index: Int, value: Float)? {
    let outW = xTaps.indices.count / 4, outH = yTaps.indices.count / 4
    let sh = input.count / width
    precondition(scratch.count >= sh * outW, "bicubicArgmax: scratch too small")
    guard outW > 0, outH > 0 else { return nil }
    bicubicRows(input, width: width, xTaps: xTaps, into: scratch)
    var rowMax = [Float](repeating: 0, count: sh), rowMin = [Float](repeating: 0, count: sh)
    for sy in 0..<sh {
        var high = -Float.infinity, low = Float.infinity
        for t in scratch[(sy * outW)..<((sy + 1) * outW)] {
            guard t.isFinite else { return nil }
            if t > high { high = t }
            if t < low { low = t }
        }
        rowMax[sy] = high
        rowMin[sy] = low
    }
    return yTaps.indices.withUnsafeBufferPointer { yi in yTaps.weights.withUnsafeBufferPointer { yw in
        // The bound of each output row, in double, widened by 1e-5 of its terms' magnitude (the
        // float sum's rounding is below 1e-6 of it).
        var bounds = [Double](repeating: 0, count: outH)
        for oy in 0..<outH {
            var bound = 0.0, magnitude = 0.0
            for i in 0..<4 {
                let w = Double(yw[oy * 4 + i]), row = yi[oy * 4 + i]
                bound += w >= 0 ? w * Double(rowMax[row]) : w * Double(rowMin[row])
                magnitude += abs(w) * max(abs(Double(rowMax[row])), abs(Double(rowMin[row])))
            }
            bounds[oy] = bound + 1e-5 * magnitude + 1e-30
        }
        var best = (index: 0, value: -Float.infinity)
        func scan(_ oy: Int) {
            for ox in 0..<outW {
                let value = bicubicColumn(UnsafeBufferPointer(scratch), outW: outW, yi: yi, yw: yw, oy: oy, ox: ox)
                let index = oy * outW + ox
                if value > best.value || (value == best.value && index < best.index) { best = (index, value) }
            }
        }
        // The most promising row first, so that the bound prunes from the start.
        var first = 0
        for oy in 1..<outH where bounds[oy] > bounds[first] { first = oy }
        scan(first)
        for oy in 0..<outH where oy != first && bounds[oy] >= Double(best.value) { scan(oy) }
        return best
    }}
}

/// Bicubic resize of one `[sh, width]` map: for each output pixel
/// `sum_i wy_i * (sum_j wx_j * in[y_i, x_j])`, accumulated in PyTorch's order. The inner sums are
/// computed once per source row into `scratch` (`[sh, outW]`), which gives the same values.
func bicubicResize(_ input: UnsafeBufferPointer<Float>, width: Int, xTaps: BicubicTaps, yTaps: BicubicTaps,
                   scratch: UnsafeMutableBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
    let outW = xTaps.indices.count / 4, outH = yTaps.indices.count / 4
    let sh = input.count / width
    precondition(scratch.count >= sh * outW && output.count >= outH * outW, "bicubicResize: buffers too small")
    bicubicRows(input, width: width, xTaps: xTaps, into: scratch)
    yTaps.indices.withUnsafeBufferPointer { yi in yTaps.weights.withUnsafeBufferPointer { yw in
        for oy in 0..<outH {
            for ox in 0..<outW {
                output[oy * outW + ox] = bicubicColumn(UnsafeBufferPointer(scratch), outW: outW, yi: yi, yw: yw, oy: oy, ox: ox)
            }
        }
    }}
}

/// The horizontal pass: every source row of the `[sh, width]` map resized to the output width,
/// `scratch[sy * outW + ox] = sum_j wx_j * in[sy, x_j]` in PyTorch's order.
func bicubicRows(_ input: UnsafeBufferPointer<Float>, width: Int, xTaps: BicubicTaps,
                 into scratch: UnsafeMutableBufferPointer<Float>) {
    let outW = xTaps.indices.count / 4, sh = input.count / width
    xTaps.indices.withUnsafeBufferPointer { xi in xTaps.weights.withUnsafeBufferPointer { xw in
        for sy in 0..<sh {
            let row = sy * width
            for ox in 0..<outW {
                let o = ox * 4
                var t = input[row + xi[o]] * xw[o]
                t += input[row + xi[o + 1]] * xw[o + 1]
                t += input[row + xi[o + 2]] * xw[o + 2]
                t += input[row + xi[o + 3]] * xw[o + 3]
                scratch[sy * outW + ox] = t
            }
        }
    }}
}

/// The vertical pass at output pixel `(oy, ox)`: `sum_i wy_i * rows[y_i, ox]` in PyTorch's order.
@inline(__always)
func bicubicColumn(_ rows: UnsafeBufferPointer<Float>, outW: Int, yi: UnsafeBufferPointer<Int>,
                   yw: UnsafeBufferPointer<Float>, oy: Int, ox: Int) -> Float {
    let o = oy * 4
    var value = rows[yi[o] * outW + ox] * yw[o]
    value += rows[yi[o + 1] * outW + ox] * yw[o + 1]
    value += rows[yi[o + 2] * outW + ox] * yw[o + 2]
    value += rows[yi[o + 3] * outW + ox] * yw[o + 3]
    return value
}

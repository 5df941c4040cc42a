import Foundation

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
    var result = [[Keypoint]](repeating: [], count: boxes.count)
    heatmaps.withUnsafeBufferPointer { maps in
        guard let base = maps.baseAddress else { return }
        for (r, box) in boxes.enumerated() {
            let width = max(box.x1 - box.x0, 1), height = max(box.y1 - box.y0, 1)
            let widthCeil = width.rounded(.up), heightCeil = height.rounded(.up)
            let outW = Int(widthCeil), outH = Int(heightCeil)
            let widthCorrection = width / widthCeil, heightCorrection = height / heightCeil
            let xTaps = BicubicTaps(inputSize: sw, outputSize: outW)
            let yTaps = BicubicTaps(inputSize: sh, outputSize: outH)
            var resized = [Float](repeating: 0, count: outH * outW)
            var keypoints: [Keypoint] = []
            for j in 0..<k {
                let map = UnsafeBufferPointer(start: base + (r * k + j) * sh * sw, count: sh * sw)
                resized.withUnsafeMutableBufferPointer { out in
                    bicubicResize(map, width: sw, xTaps: xTaps, yTaps: yTaps, into: out)
                }
                var best = 0
                var maxValue = resized[0]
                for i in 1..<resized.count where resized[i] > maxValue {
                    maxValue = resized[i]
                    best = i
                }
                var poolSum: Float = 0
                for v in map { poolSum += Foundation.exp(v - maxValue) }
                let score = Foundation.exp(maxValue - maxValue) / poolSum
                let xi = best % outW, yi = best / outW
                let x = (Float(xi) + 0.5) * widthCorrection + box.x0
                let y = (Float(yi) + 0.5) * heightCorrection + box.y0
                keypoints.append(Keypoint(x: x, y: y, score: score, logit: maxValue))
            }
            result[r] = keypoints
        }
    }
    return result
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

/// Separable bicubic resize of one `[sh, width]` map: for each output pixel,
/// `sum_i wy_i * (sum_j wx_j * in[y_i, x_j])`, accumulated in PyTorch's order.
func bicubicResize(_ input: UnsafeBufferPointer<Float>, width: Int, xTaps: BicubicTaps, yTaps: BicubicTaps,
                   into output: UnsafeMutableBufferPointer<Float>) {
    let outW = xTaps.indices.count / 4, outH = yTaps.indices.count / 4
    xTaps.indices.withUnsafeBufferPointer { xi in xTaps.weights.withUnsafeBufferPointer { xw in
    yTaps.indices.withUnsafeBufferPointer { yi in yTaps.weights.withUnsafeBufferPointer { yw in
        for oy in 0..<outH {
            for ox in 0..<outW {
                var value: Float = 0
                for i in 0..<4 {
                    let row = yi[oy * 4 + i] * width
                    var t = input[row + xi[ox * 4]] * xw[ox * 4]
                    for j in 1..<4 { t += input[row + xi[ox * 4 + j]] * xw[ox * 4 + j] }
                    if i == 0 { value = t * yw[oy * 4] } else { value += t * yw[oy * 4 + i] }
                }
                output[oy * outW + ox] = value
            }
        }
    }}}}
}

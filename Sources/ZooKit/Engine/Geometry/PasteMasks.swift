import Dispatch
import Foundation

/// `sigmoid` of mask logits, as `mask_rcnn_inference` applies it to the predicted class's channel.
/// Same shape as `logits` (e.g. `[N, 28, 28]`).
public func maskProbabilities(fromLogits logits: Tensor) -> Tensor {
    Tensor(shape: logits.shape, scalars: logits.scalars.map { 1 / (1 + Foundation.exp(-$0)) })
}

/// detectron2's `paste_masks_in_image` on CPU (one `_do_paste_mask` per mask, `skip_empty`): each
/// `M x M` probability map is sampled with `grid_sample` (bilinear, `align_corners=False`, zero
/// padding) at the centres of the image pixels within its box +- 1 pixel, and thresholded
/// (`prob >= threshold`).
///
/// - Parameters:
///   - masks: `[N, M, M]` (or `[N, 1, M, M]`) probabilities.
///   - boxes: N boxes in the **input image's** pixels (after `detector_postprocess` scaling).
///   - imageHeight, imageWidth: the input image's size.
/// - Returns: N masks of `imageHeight x imageWidth`.
public func pasteMasksInImage(_ masks: Tensor, boxes: [Box], imageHeight: Int, imageWidth: Int,
                              threshold: Float = 0.5) -> [BitMask] {
    precondition(masks.rank == 3 || (masks.rank == 4 && masks.shape[1] == 1),
                 "pasteMasksInImage: masks must be [N, M, M], got \(masks.shape)")
    let n = masks.shape[0]
    let mh = masks.shape[masks.rank - 2], mw = masks.shape[masks.rank - 1]
    precondition(n == boxes.count, "pasteMasksInImage: \(n) masks for \(boxes.count) boxes")
    var result = [BitMask](repeating: BitMask(width: imageWidth, height: imageHeight,
                                              bits: [UInt8](repeating: 0, count: imageWidth * imageHeight)), count: n)
    guard n > 0, imageHeight > 0, imageWidth > 0 else { return result }
    let lock = NSLock()
    masks.withUnsafeBufferPointer { all in
        let paste = { (i: Int) in
            guard let base = all.baseAddress else { return }
            let bits = pasteOne(UnsafeBufferPointer(start: base + i * mh * mw, count: mh * mw), height: mh, width: mw,
                                box: boxes[i], imageHeight: imageHeight, imageWidth: imageWidth, threshold: threshold)
            lock.lock()
            result[i].bits = bits
            lock.unlock()
        }
        if n >= 2 {
            DispatchQueue.concurrentPerform(iterations: n, execute: paste)
        } else {
            paste(0)
        }
    }
    return result
}

/// `_do_paste_mask(skip_empty=True)` for one mask, then the threshold.
private func pasteOne(_ mask: UnsafeBufferPointer<Float>, height mh: Int, width mw: Int, box: Box,
                      imageHeight: Int, imageWidth: Int, threshold: Float) -> [UInt8] {
    var bits = [UInt8](repeating: 0, count: imageHeight * imageWidth)
    // x0_int, y0_int = clamp(floor(box[:2]) - 1, min=0); x1_int = clamp(ceil(x1) + 1, max=img_w)
    let x0Int = Int(max(box.x0.rounded(.down) - 1, 0))
    let y0Int = Int(max(box.y0.rounded(.down) - 1, 0))
    let x1Int = Int(min(box.x1.rounded(.up) + 1, Float(imageWidth)))
    let y1Int = Int(min(box.y1.rounded(.up) + 1, Float(imageHeight)))
    let boxW = box.x1 - box.x0, boxH = box.y1 - box.y0
    guard x1Int > x0Int, y1Int > y0Int, boxW > 0, boxH > 0 else { return bits }
    // grid_sample's unnormalize for align_corners=False: (g + 1) * (size / 2) - 0.5
    let halfW = Float(mw) / 2, halfH = Float(mh) / 2
    let xs: [Float] = (x0Int..<x1Int).map { px in
        let g = (Float(px) + 0.5 - box.x0) / boxW * 2 - 1
        return (g + 1) * halfW - 0.5
    }
    bits.withUnsafeMutableBufferPointer { out in
        for py in y0Int..<y1Int {
            let g = (Float(py) + 0.5 - box.y0) / boxH * 2 - 1
            let y = (g + 1) * halfH - 0.5
            // Outside (-1, M) every tap is zero padding (and huge values must not reach Int()).
            guard y > -1 && y < Float(mh) else { continue }
            let yN = y.rounded(.down)
            let n = y - yN, s = 1 - n
            let iyN = Int(yN), iyS = iyN + 1
            let northIn = iyN > -1 && iyN < mh, southIn = iyS > -1 && iyS < mh
            for (k, x) in xs.enumerated() where x > -1 && x < Float(mw) {
                let xW = x.rounded(.down)
                let w = x - xW, e = 1 - w
                let ixW = Int(xW), ixE = ixW + 1
                let westIn = ixW > -1 && ixW < mw, eastIn = ixE > -1 && ixE < mw
                let nwV: Float = northIn && westIn ? mask[iyN * mw + ixW] : 0
                let neV: Float = northIn && eastIn ? mask[iyN * mw + ixE] : 0
                let swV: Float = southIn && westIn ? mask[iyS * mw + ixW] : 0
                let seV: Float = southIn && eastIn ? mask[iyS * mw + ixE] : 0
                let value = nwV * (s * e) + neV * (s * w) + swV * (n * e) + seV * (n * w)
                if value >= threshold { out[py * imageWidth + x0Int + k] = 1 }
            }
        }
    }
    return bits
}

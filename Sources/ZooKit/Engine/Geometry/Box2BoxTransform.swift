import Foundation

/// detectron2's `Box2BoxTransform`: decodes `(dx, dy, dw, dh)` deltas relative to reference boxes.
///
/// Arithmetic follows `Box2BoxTransform.apply_deltas` in float32, operation by operation.
public struct Box2BoxTransform: Sendable, Equatable {
    /// `(wx, wy, ww, wh)`: deltas are divided by these (RPN `(1, 1, 1, 1)`, box head `(10, 10, 5, 5)`).
    public var weights: [Float]
    /// Upper clamp of `dw`, `dh` before `exp` (detectron2's `_DEFAULT_SCALE_CLAMP = log(1000 / 16)`).
    public var scaleClamp: Float

    /// detectron2's default scale clamp, `log(1000 / 16)`.
    public static let defaultScaleClamp: Double = Foundation.log(1000.0 / 16)

    /// A transform with `weights` `(wx, wy, ww, wh)`.
    public init(weights: [Double], scaleClamp: Double = Box2BoxTransform.defaultScaleClamp) {
        precondition(weights.count == 4, "Box2BoxTransform needs 4 weights, got \(weights.count)")
        self.weights = weights.map { Float($0) }
        self.scaleClamp = Float(scaleClamp)
    }

    /// Decodes one delta `(dx, dy, dw, dh)` against `box`.
    @inlinable
    public func apply(dx: Float, dy: Float, dw: Float, dh: Float, to box: Box) -> Box {
        let width = box.x1 - box.x0
        let height = box.y1 - box.y0
        let ctrX = box.x0 + 0.5 * width
        let ctrY = box.y0 + 0.5 * height
        let ddx = dx / weights[0]
        let ddy = dy / weights[1]
        let ddw = min(dw / weights[2], scaleClamp)
        let ddh = min(dh / weights[3], scaleClamp)
        let predCtrX = ddx * width + ctrX
        let predCtrY = ddy * height + ctrY
        let predW = Foundation.exp(ddw) * width
        let predH = Foundation.exp(ddh) * height
        return Box(x0: predCtrX - 0.5 * predW, y0: predCtrY - 0.5 * predH,
                   x1: predCtrX + 0.5 * predW, y1: predCtrY + 0.5 * predH)
    }

    /// `apply_deltas`: `deltas` is `[R, 4k]` row-major (k = 1 or the class count), `boxes` has R
    /// entries; returns `R * k` boxes, row-major (box `r * k + j` is row r, class j).
    public func applyDeltas(_ deltas: [Float], boxes: [Box]) -> [Box] {
        precondition(boxes.isEmpty ? deltas.isEmpty : deltas.count % (4 * boxes.count) == 0,
                     "Box2BoxTransform.applyDeltas: \(deltas.count) deltas for \(boxes.count) boxes")
        guard !boxes.isEmpty else { return [] }
        let k = deltas.count / (4 * boxes.count)
        var out: [Box] = []
        out.reserveCapacity(boxes.count * k)
        deltas.withUnsafeBufferPointer { d in
            for (r, box) in boxes.enumerated() {
                for j in 0..<k {
                    let o = (r * k + j) * 4
                    out.append(apply(dx: d[o], dy: d[o + 1], dw: d[o + 2], dh: d[o + 3], to: box))
                }
            }
        }
        return out
    }
}

extension Box {
    /// detectron2's `Boxes.clip`: each coordinate clamped to `[0, width]` / `[0, height]`.
    @inlinable
    public func clipped(height: Int, width: Int) -> Box {
        let w = Float(width), h = Float(height)
        return Box(x0: min(max(x0, 0), w), y0: min(max(y0, 0), h),
                   x1: min(max(x1, 0), w), y1: min(max(y1, 0), h))
    }

    /// detectron2's `Boxes.nonempty(threshold)`: width and height both strictly above `threshold`.
    @inlinable
    public func isNonempty(threshold: Float = 0) -> Bool {
        (x1 - x0) > threshold && (y1 - y0) > threshold
    }

    /// All four coordinates are finite.
    @inlinable
    public var isFinite: Bool { x0.isFinite && y0.isFinite && x1.isFinite && y1.isFinite }
}

import Foundation

/// detectron2's `ROIPooler`: assigns each box to an FPN level by its size and pools it from that
/// level with `ROIAlign`.
public struct ROIPooler: Sendable, Equatable {
    /// One `ROIAlign` per level, finest first.
    public var levelPoolers: [ROIAlign]
    /// Level index of the finest feature map (`-log2(scales[0])`, 2 for P2).
    public var minLevel: Int
    /// Level index of the coarsest feature map.
    public var maxLevel: Int
    /// `canonical_box_size` (224).
    public var canonicalBoxSize: Int
    /// `canonical_level` (4).
    public var canonicalLevel: Int

    /// A pooler over feature maps of the given `scales` (`1 / stride` each, finest first).
    /// `aligned: false` is detectron2's `ROIAlign` pooler type, `true` is `ROIAlignV2`.
    public init(outputSize: Int, scales: [Double], samplingRatio: Int, aligned: Bool,
                canonicalBoxSize: Int = 224, canonicalLevel: Int = 4) {
        precondition(!scales.isEmpty, "ROIPooler needs at least one feature scale")
        let minLevel = -Foundation.log2(scales[0])
        let maxLevel = -Foundation.log2(scales[scales.count - 1])
        precondition(minLevel == minLevel.rounded() && maxLevel == maxLevel.rounded()
                     && Int(maxLevel) - Int(minLevel) == scales.count - 1,
                     "ROIPooler: scales \(scales) must be consecutive powers of 1/2")
        self.levelPoolers = scales.map {
            ROIAlign(outputSize: outputSize, spatialScale: $0, samplingRatio: samplingRatio, aligned: aligned)
        }
        self.minLevel = Int(minLevel)
        self.maxLevel = Int(maxLevel)
        self.canonicalBoxSize = canonicalBoxSize
        self.canonicalLevel = canonicalLevel
    }

    /// detectron2's `assign_boxes_to_levels`:
    /// `clamp(floor(canonical_level + log2(sqrt(area) / canonical_box_size + 1e-8)), min, max) - min`,
    /// in float32. Returns 0-based indices into the pooler's levels.
    public static func assignBoxesToLevels(_ boxes: [Box], minLevel: Int, maxLevel: Int,
                                           canonicalBoxSize: Int, canonicalLevel: Int) -> [Int] {
        let eps: Float = 1e-8
        return boxes.map { box in
            let size = box.area.squareRoot()
            let level = (Float(canonicalLevel) + Foundation.log2(size / Float(canonicalBoxSize) + eps)).rounded(.down)
            let clamped = min(max(level, Float(minLevel)), Float(maxLevel))
            return Int(clamped) - minLevel
        }
    }

    /// Level (0-based) of each box.
    public func assignLevels(_ boxes: [Box]) -> [Int] {
        Self.assignBoxesToLevels(boxes, minLevel: minLevel, maxLevel: maxLevel,
                                 canonicalBoxSize: canonicalBoxSize, canonicalLevel: canonicalLevel)
    }

    /// `ROIPooler.forward` for one image: `features` are `[1, C, H_l, W_l]` per level (finest first),
    /// `boxes` absolute XYXY input pixels. Returns `[R, C, P, P]` in the order of `boxes`.
    public func callAsFunction(_ features: [Tensor], boxes: [Box]) -> Tensor {
        pool(features, channels: features.first?.shape[1] ?? 0, boxes: boxes) { $0($1, boxes: $2) }
    }

    /// The same from the FPN's levels as they come out of oneDNN (`[1, C, H_l, W_l]` in `nChw16c`),
    /// with no transposed copies; equal results. The output's values are written into `storage`'s
    /// memory, which the returned tensor takes over (`storage` is left empty, or untouched when
    /// there are no boxes): handing back an earlier image's output, once nothing else holds it,
    /// reuses its pages instead of faulting in fresh ones (50 MB for 1000 proposals). Memory still
    /// shared with another array is copied first, so no other holder sees it change.
    func callAsFunction(blockedFeatures features: [DNNLTensor], boxes: [Box], reusing storage: inout [Float]) throws -> Tensor {
        precondition(features.count == levelPoolers.count,
                     "ROIPooler: \(features.count) feature maps for \(levelPoolers.count) levels")
        let c = features.first?.shape[1] ?? 0
        var maps: [(pointer: UnsafePointer<Float>, height: Int, width: Int)] = []
        for f in features {
            guard f.isBlocked, f.shape[0] == 1, f.shape[1] == c, let pointer = f.pointer else {
                throw EngineError.inputShape(layer: "ROIPooler", expected: "[1, \(c), H, W] in nChw16c", actual: f.shape)
            }
            maps.append((UnsafePointer(pointer), f.shape[2], f.shape[3]))
        }
        return withExtendedLifetime(features) {
            poolByLevel(boxes, channels: c, reusing: &storage) { level, box, output in
                let map = maps[level]
                levelPoolers[level].poolOne(blocked: map.pointer, channels: c, height: map.height, width: map.width,
                                            box: box, into: output)
            }
        }
    }

    /// The same from maps already transposed to `[1, H_l, W_l, C]`; equal results.
    func callAsFunction(channelsLastFeatures features: [Tensor], boxes: [Box]) -> Tensor {
        precondition(features.count == levelPoolers.count,
                     "ROIPooler: \(features.count) feature maps for \(levelPoolers.count) levels")
        let c = features.first?.shape[3] ?? 0
        for f in features {
            precondition(f.rank == 4 && f.shape[0] >= 1 && f.shape[3] == c, "ROIPooler: levels must be [1, H, W, \(c)], got \(f.shape)")
        }
        var storage: [Float] = []
        return poolByLevel(boxes, channels: c, reusing: &storage) { level, box, output in
            levelPoolers[level].poolOne(channelsLastFeatures: features[level], box: box, into: output)
        }
    }

    /// `[R, C, P, P]`, each box pooled from its level by `poolBox(level, box, output)` into its own
    /// `[C, P, P]` slice. Every box belongs to exactly one level and writes only its slice, so the
    /// output needs no zero-filling and all levels' boxes are shared out to the cores together.
    /// The values go into `storage` (resized; new memory when it is empty or too small), which the
    /// returned tensor takes over.
    private func poolByLevel(_ boxes: [Box], channels c: Int, reusing storage: inout [Float],
                             _ poolBox: (Int, Box, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let p = levelPoolers[0].outputSize, slice = c * p * p
        guard !boxes.isEmpty, slice > 0 else { return Tensor(shape: [boxes.count, c, p, p]) }
        let levels = levelPoolers.count == 1 ? [Int](repeating: 0, count: boxes.count) : assignLevels(boxes)
        let count = boxes.count * slice
        var scalars = storage
        storage = []
        if scalars.capacity < count {
            // Float needs no initialization; every value is written below, before anyone reads it.
            scalars = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        } else if scalars.count > count {
            scalars.removeLast(scalars.count - count)
        } else if scalars.count < count {
            scalars.append(contentsOf: repeatElement(0, count: count - scalars.count))
        }
        scalars.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            DispatchQueue.concurrentPerform(iterations: boxes.count) { r in
                poolBox(levels[r], boxes[r], base + r * slice)
            }
        }
        return Tensor(shape: [boxes.count, c, p, p], scalars: scalars)
    }

    private func pool(_ features: [Tensor], channels c: Int, boxes: [Box],
                      _ align: (ROIAlign, Tensor, [Box]) -> Tensor) -> Tensor {
        precondition(features.count == levelPoolers.count,
                     "ROIPooler: \(features.count) feature maps for \(levelPoolers.count) levels")
        let p = levelPoolers[0].outputSize
        if levelPoolers.count == 1 { return align(levelPoolers[0], features[0], boxes) }
        let levels = assignLevels(boxes)
        var output = Tensor(shape: [boxes.count, c, p, p])
        let slice = c * p * p
        output.withUnsafeMutableBufferPointer { out in
            for level in levelPoolers.indices {
                let members = levels.indices.filter { levels[$0] == level }
                guard !members.isEmpty else { continue }
                let pooled = align(levelPoolers[level], features[level], members.map { boxes[$0] })
                pooled.withUnsafeBufferPointer { src in
                    for (k, r) in members.enumerated() {
                        for i in 0..<slice { out[r * slice + i] = src[k * slice + i] }
                    }
                }
            }
        }
        return output
    }
}

import Foundation

/// detectron2's `DefaultAnchorGenerator`: per feature level, a set of cell anchors (one per size and
/// aspect ratio) shifted to every grid position of that level.
public struct DefaultAnchorGenerator: Sendable, Equatable {
    /// Anchor sizes (sqrt of the area, in input pixels) per level.
    public var sizes: [[Double]]
    /// Aspect ratios (height / width) per level.
    public var aspectRatios: [[Double]]
    /// Stride of each level in input pixels (4, 8, 16, 32, 64 for P2..P6).
    public var strides: [Int]
    /// `ANCHOR_GENERATOR.OFFSET`: anchor centres sit at `(i + offset) * stride`.
    public var offset: Double

    /// An anchor generator; a `sizes` or `aspectRatios` list of one entry is broadcast to every level,
    /// as detectron2's `_broadcast_params` does.
    public init(sizes: [[Double]], aspectRatios: [[Double]], strides: [Int], offset: Double = 0) {
        precondition(!strides.isEmpty, "DefaultAnchorGenerator needs at least one stride")
        precondition(sizes.count == 1 || sizes.count == strides.count,
                     "DefaultAnchorGenerator: \(sizes.count) size lists for \(strides.count) levels")
        precondition(aspectRatios.count == 1 || aspectRatios.count == strides.count,
                     "DefaultAnchorGenerator: \(aspectRatios.count) aspect ratio lists for \(strides.count) levels")
        precondition(offset >= 0 && offset < 1, "DefaultAnchorGenerator: offset \(offset) must be in [0, 1)")
        self.sizes = sizes.count == 1 ? Array(repeating: sizes[0], count: strides.count) : sizes
        self.aspectRatios = aspectRatios.count == 1 ? Array(repeating: aspectRatios[0], count: strides.count) : aspectRatios
        self.strides = strides
        self.offset = offset
    }

    /// Number of anchors at each grid cell, per level (`num_cell_anchors`).
    public var numCellAnchors: [Int] {
        zip(sizes, aspectRatios).map { $0.count * $1.count }
    }

    /// detectron2's `generate_cell_anchors`: for each size, for each ratio, `w = sqrt(s^2 / r)`,
    /// `h = r * w`, box `(-w/2, -h/2, w/2, h/2)`; computed in double precision, stored as float32.
    public static func generateCellAnchors(sizes: [Double], aspectRatios: [Double]) -> [Box] {
        var anchors: [Box] = []
        anchors.reserveCapacity(sizes.count * aspectRatios.count)
        for size in sizes {
            let area = size * size
            for ratio in aspectRatios {
                let w = (area / ratio).squareRoot()
                let h = ratio * w
                anchors.append(Box(x0: Float(-w / 2), y0: Float(-h / 2), x1: Float(w / 2), y1: Float(h / 2)))
            }
        }
        return anchors
    }

    /// The cell anchors of `level` (0-based), centred at the origin.
    public func cellAnchors(level: Int) -> [Box] {
        Self.generateCellAnchors(sizes: sizes[level], aspectRatios: aspectRatios[level])
    }

    /// All anchors of `level` on a `height x width` feature grid, in detectron2's `_grid_anchors`
    /// order: `(y, x, anchor)` flattened, so anchor `(y * width + x) * A + a`. Absolute XYXY input pixels.
    public func gridAnchors(level: Int, height: Int, width: Int) -> [Box] {
        let cell = cellAnchors(level: level)
        let stride = strides[level]
        // torch.arange(offset * stride, size * stride, step=stride, dtype=float32)
        let start = offset * Double(stride)
        var anchors: [Box] = []
        anchors.reserveCapacity(height * width * cell.count)
        for y in 0..<height {
            let sy = Float(start + Double(y * stride))
            for x in 0..<width {
                let sx = Float(start + Double(x * stride))
                for c in cell {
                    anchors.append(Box(x0: sx + c.x0, y0: sy + c.y0, x1: sx + c.x1, y1: sy + c.y1))
                }
            }
        }
        return anchors
    }

    /// Anchors of every level for feature maps of the given `(height, width)` sizes.
    public func gridAnchors(featureSizes: [(height: Int, width: Int)]) -> [[Box]] {
        precondition(featureSizes.count == strides.count,
                     "DefaultAnchorGenerator: \(featureSizes.count) feature maps for \(strides.count) levels")
        return featureSizes.enumerated().map { gridAnchors(level: $0.offset, height: $0.element.height, width: $0.element.width) }
    }
}

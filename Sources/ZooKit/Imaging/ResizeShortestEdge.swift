/// detectron2's test-time `ResizeShortestEdge([S, S], max_size)`: scale so the short side is `S`
/// unless the long side would exceed `max_size`, then resize with Pillow's bilinear filter
/// (`ResizeTransform.apply_image` on uint8 data).
public struct ResizeShortestEdge: Sendable, Equatable {
    /// Target length of the short side (`INPUT.MIN_SIZE_TEST`); 0 disables resizing.
    public var shortEdgeLength: Int
    /// Upper bound for the long side (`INPUT.MAX_SIZE_TEST`).
    public var maxSize: Int

    /// A test-time resize to `shortEdgeLength` / `maxSize`.
    public init(shortEdgeLength: Int, maxSize: Int) {
        self.shortEdgeLength = shortEdgeLength
        self.maxSize = maxSize
    }

    /// `ResizeShortestEdge.get_output_shape`: the `(height, width)` an `oldHeight` x `oldWidth`
    /// image is resized to (double precision, rounded with `int(x + 0.5)`).
    public static func outputShape(oldHeight: Int, oldWidth: Int, shortEdgeLength: Int, maxSize: Int) -> (height: Int, width: Int) {
        let h = Double(oldHeight), w = Double(oldWidth)
        let size = Double(shortEdgeLength)
        let scale = size / min(h, w)
        var newh: Double, neww: Double
        if h < w {
            (newh, neww) = (size, scale * w)
        } else {
            (newh, neww) = (scale * h, size)
        }
        if max(newh, neww) > Double(maxSize) {
            let s = Double(maxSize) / max(newh, neww)
            newh *= s
            neww *= s
        }
        return (Int(newh + 0.5), Int(neww + 0.5))
    }

    /// The output `(height, width)` for `image` (its own size when `shortEdgeLength` is 0).
    public func outputShape(for image: Image8) -> (height: Int, width: Int) {
        if shortEdgeLength == 0 { return (image.height, image.width) }
        return Self.outputShape(oldHeight: image.height, oldWidth: image.width,
                                shortEdgeLength: shortEdgeLength, maxSize: maxSize)
    }

    /// `image` resized as detectron2's DefaultPredictor resizes it (an unchanged copy when the
    /// size does not change, as Pillow returns).
    public func apply(to image: Image8) -> Image8 {
        let (h, w) = outputShape(for: image)
        if shortEdgeLength == 0 || (h == image.height && w == image.width) { return image }
        return PillowResize.resize(image, width: w, height: h)
    }
}

extension Image8 {
    /// This image resized to `width` x `height` exactly as Pillow's
    /// `Image.resize((width, height), Image.BILINEAR)` does (antialiased when shrinking).
    public func resizedBilinear(width: Int, height: Int) -> Image8 {
        PillowResize.resize(self, width: width, height: height)
    }
}

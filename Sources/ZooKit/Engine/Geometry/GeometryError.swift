/// Errors from the geometry stage of the engine (proposals, pooling, masks, keypoints, RLE).
public enum GeometryError: Error, Equatable, CustomStringConvertible {
    /// A COCO RLE `counts` string could not be decoded.
    case malformedRLE(counts: String, offset: Int, reason: String)
    /// A COCO RLE's runs do not add up to `height * width` pixels.
    case rleSizeMismatch(height: Int, width: Int, pixels: Int)

    public var description: String {
        switch self {
        case let .malformedRLE(counts, offset, reason):
            let shown = counts.count > 40 ? String(counts.prefix(40)) + "..." : counts
            return "cannot decode COCO RLE counts \"\(shown)\" at character \(offset): \(reason); pass the string pycocotools wrote, unchanged"
        case let .rleSizeMismatch(height, width, pixels):
            return "COCO RLE runs cover \(pixels) pixels but its size \(height)x\(width) needs \(height * width); check the RLE's \"size\" field"
        }
    }
}

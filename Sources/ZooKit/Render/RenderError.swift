/// What went wrong while drawing results onto a picture or writing it out.
///
/// Each message is one line: what failed, where, and what to do.
public enum RenderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The RGB pixel buffer does not hold `width * height * 3` bytes.
    case imageSizeMismatch(width: Int, height: Int, byteCount: Int)
    /// The image or picture is empty, or a canvas was asked for more than cairo's 32767 pixels a
    /// side (`Visualizer` scales larger images down, so only a direct `CairoCanvas` meets this).
    case imageDimensions(width: Int, height: Int)
    /// A detection's mask is not at the image's size.
    case maskSizeMismatch(detection: Int, maskWidth: Int, maskHeight: Int, imageWidth: Int, imageHeight: Int)
    /// A cairo call failed; `call` names it, `status` is cairo's own description.
    case cairo(call: String, status: String)
    /// The PNG could not be written to `path`.
    case writeFailed(path: String, reason: String)
    /// The PNG at `path` could not be read back.
    case readFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case let .imageSizeMismatch(width, height, byteCount):
            return "render: an RGB image of \(width)x\(height) needs \(width * height * 3) bytes (HWC uint8) but got \(byteCount); pass the decoded image unchanged"
        case let .imageDimensions(width, height):
            return "render: cannot draw on a \(width)x\(height) image; width and height must be at least 1 pixel (and at most 32767 for a canvas; Visualizer scales larger images down)"
        case let .maskSizeMismatch(detection, maskWidth, maskHeight, imageWidth, imageHeight):
            return "render: the mask of detection \(detection) is \(maskWidth)x\(maskHeight) but the image is \(imageWidth)x\(imageHeight); paste masks at the input image's size before drawing"
        case let .cairo(call, status):
            return "render: \(call) failed: \(status); check that libcairo2 is installed and the image fits in memory"
        case let .writeFailed(path, reason):
            return "render: could not write PNG \(displayPath(path)): \(displayText(reason, limit: 2000)); check that the folder exists and is writable"
        case let .readFailed(path, reason):
            return "render: could not read PNG \(displayPath(path)): \(displayText(reason, limit: 2000)); check that the file exists and is a PNG"
        }
    }
}

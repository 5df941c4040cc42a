/// An 8-bit, 3-channel image: `height` rows of `width` pixels, row-major, channels interleaved
/// (HWC), in the order `channelOrder` says (detectron2's `INPUT.FORMAT`; BGR for the zoo models).
public struct Image8: Sendable, Equatable {
    /// Order of the three channels inside each pixel.
    public enum ChannelOrder: String, Sendable {
        /// Blue, green, red (OpenCV's and detectron2's default `INPUT.FORMAT`).
        case bgr = "BGR"
        /// Red, green, blue.
        case rgb = "RGB"

        /// Parses `INPUT.FORMAT` ("BGR" or "RGB").
        public init(format: String) throws {
            guard let order = ChannelOrder(rawValue: format) else { throw ImageError.unsupportedChannelOrder(format) }
            self = order
        }
    }

    /// Pixels per row.
    public var width: Int
    /// Number of rows.
    public var height: Int
    /// Channels per pixel; always 3.
    public var channels: Int { 3 }
    /// Channel order of `pixels`.
    public var channelOrder: ChannelOrder
    /// `height * width * 3` bytes, row-major, channels interleaved.
    public var pixels: [UInt8]

    /// An image holding `pixels` (`height * width * 3` bytes, HWC).
    public init(width: Int, height: Int, channelOrder: ChannelOrder, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "Image8 size \(width)x\(height) is negative")
        precondition(pixels.count == width * height * 3,
                     "Image8 \(width)x\(height) needs \(width * height * 3) bytes, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channelOrder = channelOrder
        self.pixels = pixels
    }

    /// The same pixels with the channels in `order` (a copy with B and R swapped if needed).
    public func converted(to order: ChannelOrder) -> Image8 {
        if order == channelOrder { return self }
        var out = pixels
        out.withUnsafeMutableBufferPointer { buf in
            var i = 0
            while i + 2 < buf.count {
                buf.swapAt(i, i + 2)
                i += 3
            }
        }
        return Image8(width: width, height: height, channelOrder: order, pixels: out)
    }

    /// The channels as planes, `[3][height][width]` bytes (CHW), in `channelOrder`.
    ///
    /// This is the layout of the goldens' `preprocess.resized_sha256` and of the intermediates'
    /// `input.image_bgr_u8`.
    public var planarBytes: [UInt8] {
        let plane = width * height
        var out = [UInt8](repeating: 0, count: plane * 3)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for p in 0..<plane {
                    dst[p] = src[3 * p]
                    dst[plane + p] = src[3 * p + 1]
                    dst[2 * plane + p] = src[3 * p + 2]
                }
            }
        }
        return out
    }
}

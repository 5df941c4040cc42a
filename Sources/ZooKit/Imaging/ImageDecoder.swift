import Foundation
internal import CZooJPEG
internal import CZooPNG

/// Reads PNG and JPEG files into `Image8`, the way detectron2's `read_image` does.
///
/// The format is recognised by its magic bytes, not the file name. JPEGs go through
/// libjpeg-turbo with its default settings (islow IDCT, fancy upsampling; PIL's and OpenCV's
/// settings), PNGs through libpng with OpenCV's `IMREAD_COLOR` conversions (see
/// `czoo_png_decode`: 16-bit samples keep their high byte, alpha and tRNS are dropped without
/// compositing, no gamma correction). Grayscale is replicated to three channels. The EXIF
/// orientation (JPEG APP1, PNG eXIf) is then applied as detectron2's `_apply_exif_orientation`
/// does.
///
/// Where PIL and OpenCV disagree, this follows OpenCV (the goldens' loader): a 16-bit
/// grayscale PNG keeps its high byte, whereas PIL's `I;16` -> `RGB` conversion clips the
/// 16-bit value to 255. For 8-bit files, palettes, RGBA and 16-bit RGB both agree with it.
/// CMYK, YCCK and other non-RGB JPEGs (e.g. 2 components) are refused (`ImageError.unsupported`),
/// as are JPEGs with more than `maxJPEGScans` scans (`ImageError.tooManyScans`).
public enum ImageDecoder {
    /// The container formats this decoder recognises.
    public enum Format: String, Sendable {
        case png = "PNG"
        case jpeg = "JPEG"
    }

    /// The most pixels an image may have: Pillow's `DecompressionBombError` threshold (twice
    /// `Image.MAX_IMAGE_PIXELS`), so what detectron2's reader refuses is refused here too, before
    /// any pixel memory is allocated.
    public static let maxPixels = 178_956_970

    /// The most scans a JPEG may have (TurboJPEG's scan limit). A progressive file is decoded
    /// whole before its first row comes out and every scan visits every block, so a small file
    /// with thousands of scans costs far more time than its size suggests; such a file is
    /// `ImageError.tooManyScans`. A JPEG whose data ends early is refused as soon as that is
    /// found, before its output is allocated.
    public static let maxJPEGScans = Int(CZOO_JPEG_MAX_SCANS)

    /// Decodes the image file at `url` to 3 channels in the order `format` names
    /// (`INPUT.FORMAT`: "BGR" or "RGB").
    public static func decode(contentsOf url: URL, format: String = "BGR") throws -> Image8 {
        let order = try Image8.ChannelOrder(format: format)
        let data: Data
        do {
            data = try ReadableFile.contents(of: url)
        } catch {
            throw ImageError.unreadable(file: url.path, reason: error.reason)
        }
        return try decode(data: data, name: url.path, channelOrder: order)
    }

    /// Decodes an in-memory PNG or JPEG; `name` is used in error messages. An image of more than
    /// `maxPixels` pixels is `ImageError.tooLarge`.
    public static func decode(data: Data, name: String, channelOrder: Image8.ChannelOrder,
                              maxPixels: Int = ImageDecoder.maxPixels) throws -> Image8 {
        let bytes = [UInt8](data)
        guard let format = sniff(bytes) else {
            let head = bytes.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
            throw ImageError.unknownFormat(file: name, firstBytes: head.isEmpty ? "none, the file is empty" : head)
        }
        switch format {
        case .jpeg:
            let image = try decodeJPEG(bytes, name: name, bgr: channelOrder == .bgr, maxPixels: maxPixels)
            return EXIFOrientation.fromJPEG(bytes).map { image.applying($0) } ?? image
        case .png:
            let (image, exif) = try decodePNG(bytes, name: name, bgr: channelOrder == .bgr, maxPixels: maxPixels)
            return exif.flatMap { EXIFOrientation.fromTIFF($0[...]) }.map { image.applying($0) } ?? image
        }
    }

    /// The format announced by the first bytes, or nil.
    public static func sniff(_ bytes: [UInt8]) -> Format? {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        if bytes.count >= 8, bytes.prefix(8).elementsEqual(png) { return .png }
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return .jpeg }
        return nil
    }

    private static let messageCapacity = 512

    private static func decodeJPEG(_ bytes: [UInt8], name: String, bgr: Bool, maxPixels: Int) throws -> Image8 {
        var pixels: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0, height: Int32 = 0
        var message = [CChar](repeating: 0, count: messageCapacity)
        let status = bytes.withUnsafeBufferPointer { buf in
            message.withUnsafeMutableBufferPointer { msg in
                czoo_jpeg_decode(buf.baseAddress, buf.count, bgr ? 1 : 0, max(maxPixels, 0), &pixels, &width, &height,
                                 msg.baseAddress, msg.count)
            }
        }
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch status {
        case CZOO_JPEG_OK: break
        case CZOO_JPEG_TRUNCATED: throw ImageError.truncated(file: name, format: "JPEG", reason: reason)
        case CZOO_JPEG_UNSUPPORTED: throw ImageError.unsupported(file: name, format: "JPEG", reason: reason)
        case CZOO_JPEG_TOO_LARGE:
            throw ImageError.tooLarge(file: name, format: "JPEG", width: Int(width), height: Int(height), limit: maxPixels)
        case CZOO_JPEG_NO_MEMORY: throw ImageError.unsupported(file: name, format: "JPEG", reason: "too large: \(reason)")
        case CZOO_JPEG_TOO_MANY_SCANS: throw ImageError.tooManyScans(file: name, limit: maxJPEGScans)
        default: throw ImageError.corrupt(file: name, format: "JPEG", reason: "libjpeg: \(reason)")
        }
        guard let pixels else { throw ImageError.corrupt(file: name, format: "JPEG", reason: "decoder returned no pixels") }
        defer { czoo_jpeg_free(pixels) }
        let count = Int(width) * Int(height) * 3
        return Image8(width: Int(width), height: Int(height), channelOrder: bgr ? .bgr : .rgb,
                      pixels: [UInt8](UnsafeBufferPointer(start: pixels, count: count)))
    }

    private static func decodePNG(_ bytes: [UInt8], name: String, bgr: Bool, maxPixels: Int) throws -> (Image8, [UInt8]?) {
        var pixels: UnsafeMutablePointer<UInt8>?
        var exif: UnsafeMutablePointer<UInt8>?
        var exifSize = 0
        var width: Int32 = 0, height: Int32 = 0
        var message = [CChar](repeating: 0, count: messageCapacity)
        let status = bytes.withUnsafeBufferPointer { buf in
            message.withUnsafeMutableBufferPointer { msg in
                czoo_png_decode(buf.baseAddress, buf.count, bgr ? 1 : 0, max(maxPixels, 0), &pixels, &width, &height,
                                &exif, &exifSize, msg.baseAddress, msg.count)
            }
        }
        let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        switch status {
        case CZOO_PNG_OK: break
        case CZOO_PNG_TRUNCATED: throw ImageError.truncated(file: name, format: "PNG", reason: reason)
        case CZOO_PNG_TOO_LARGE:
            throw ImageError.tooLarge(file: name, format: "PNG", width: Int(width), height: Int(height), limit: maxPixels)
        case CZOO_PNG_NO_MEMORY: throw ImageError.unsupported(file: name, format: "PNG", reason: "too large: \(reason)")
        default: throw ImageError.corrupt(file: name, format: "PNG", reason: "libpng: \(reason)")
        }
        defer { if let exif { czoo_png_free(exif) } }
        guard let pixels else { throw ImageError.corrupt(file: name, format: "PNG", reason: "decoder returned no pixels") }
        defer { czoo_png_free(pixels) }
        let count = Int(width) * Int(height) * 3
        let image = Image8(width: Int(width), height: Int(height), channelOrder: bgr ? .bgr : .rgb,
                           pixels: [UInt8](UnsafeBufferPointer(start: pixels, count: count)))
        let exifBytes = exif.map { [UInt8](UnsafeBufferPointer(start: $0, count: exifSize)) }
        return (image, exifBytes)
    }
}

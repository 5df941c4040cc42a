import Foundation
import Testing
@testable import ZooKit

@Suite("EXIF orientation")
struct EXIFOrientationTests {
    /// A 3 x 2 image whose pixel (x, y) holds (x, y, 7).
    private let sample: Image8 = {
        var p: [UInt8] = []
        for y in 0..<2 { for x in 0..<3 { p += [UInt8(x), UInt8(y), 7] } }
        return Image8(width: 3, height: 2, channelOrder: .bgr, pixels: p)
    }()

    /// Which source pixel (x, y) lands at output (x, y), from PIL's definitions of each method
    /// (source size w x h).
    private func source(of o: EXIFOrientation, x: Int, y: Int, w: Int, h: Int) -> (Int, Int) {
        switch o {
        case .up: return (x, y)
        case .flipLeftRight: return (w - 1 - x, y)
        case .flipTopBottom: return (x, h - 1 - y)
        case .rotate180: return (w - 1 - x, h - 1 - y)
        case .transpose: return (y, x)
        case .transverse: return (w - 1 - y, h - 1 - x)
        case .rotate90: return (w - 1 - y, x)  // counter-clockwise: the top-right corner goes to the top-left
        case .rotate270: return (y, h - 1 - x)  // clockwise: the bottom-left corner goes to the top-left
        }
    }

    @Test("transpositions follow PIL's methods", arguments: EXIFOrientation.allCases)
    func transposition(orientation: EXIFOrientation) {
        let out = sample.applying(orientation)
        let swapped = [.transpose, .transverse, .rotate90, .rotate270].contains(orientation)
        #expect(out.width == (swapped ? 2 : 3) && out.height == (swapped ? 3 : 2))
        for y in 0..<out.height {
            for x in 0..<out.width {
                let (sx, sy) = source(of: orientation, x: x, y: y, w: 3, h: 2)
                let i = (y * out.width + x) * 3
                #expect(out.pixels[i] == UInt8(sx) && out.pixels[i + 1] == UInt8(sy) && out.pixels[i + 2] == 7,
                        "\(orientation) at (\(x), \(y))")
            }
        }
    }

    /// The APP1 segment of a JPEG carrying orientation `value` (TIFF big- or little-endian).
    private func app1(orientation value: UInt16, littleEndian: Bool) -> [UInt8] {
        func u16(_ v: UInt16) -> [UInt8] { littleEndian ? [UInt8(v & 0xFF), UInt8(v >> 8)] : [UInt8(v >> 8), UInt8(v & 0xFF)] }
        func u32(_ v: UInt32) -> [UInt8] { littleEndian ? (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } : (0..<4).reversed().map { UInt8((v >> (8 * $0)) & 0xFF) } }
        var tiff: [UInt8] = littleEndian ? [0x49, 0x49] : [0x4D, 0x4D]
        tiff += u16(42) + u32(8) + u16(2)
        tiff += u16(0x010F) + u16(2) + u32(4) + Array("zoo\0".utf8)  // Make, inline ASCII
        tiff += u16(0x0112) + u16(3) + u32(1) + u16(value) + u16(0)  // Orientation
        tiff += u32(0)
        let payload = Array("Exif\0\0".utf8) + tiff
        let length = payload.count + 2
        return [0xFF, 0xE1, UInt8(length >> 8), UInt8(length & 0xFF)] + payload
    }

    @Test("a JPEG's APP1 orientation is applied after decoding", arguments: [(6, true), (8, false), (3, true), (1, false)])
    func jpegOrientation(value: Int, littleEndian: Bool) throws {
        let url = ImagingFixtures.imageURL("img2_457x333.jpg")
        let plain = [UInt8](try Data(contentsOf: url))
        // Insert the APP1 right after SOI, before the JFIF APP0 (any position before SOS is valid).
        let tagged = Array(plain.prefix(2)) + app1(orientation: UInt16(value), littleEndian: littleEndian) + Array(plain.dropFirst(2))
        #expect(EXIFOrientation.fromJPEG(tagged)?.rawValue == value)
        #expect(EXIFOrientation.fromJPEG(plain) == nil)
        let upright = try ImageDecoder.decode(data: Data(plain), name: "plain.jpg", channelOrder: .bgr)
        let decoded = try ImageDecoder.decode(data: Data(tagged), name: "tagged.jpg", channelOrder: .bgr)
        let orientation = try #require(EXIFOrientation(rawValue: value))
        #expect(decoded == upright.applying(orientation))
        if value == 6 { #expect(decoded.width == upright.height && decoded.height == upright.width) }
    }

    @Test("malformed or absent EXIF leaves the image alone")
    func malformed() {
        #expect(EXIFOrientation.fromTIFF([0x4D, 0x4D, 0, 42, 0, 0, 0, 200][...]) == nil)  // IFD beyond the end
        #expect(EXIFOrientation.fromTIFF([0x41, 0x41, 0, 42, 0, 0, 0, 8][...]) == nil)  // bad byte order
        let nine: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0]
        #expect(EXIFOrientation.fromTIFF(nine[...]) == nil)  // 9 is not an orientation
        var six = nine
        six[19] = 6
        #expect(EXIFOrientation.fromTIFF(six[...]) == .rotate270)
    }
}

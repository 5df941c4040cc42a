import Foundation
import Testing
@testable import ZooKit

@Suite("ImageDecoder errors")
struct ImageErrorTests {
    /// Writes `bytes` to a temporary file, decodes it, and returns the error thrown.
    private func error(decoding bytes: [UInt8], named name: String) throws -> ImageError? {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-imaging-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        do {
            _ = try ImageDecoder.decode(contentsOf: url)
            return nil
        } catch let e as ImageError {
            #expect(e.description.contains(url.path), "message must name the file: \(e)")
            #expect(!e.description.contains("\n"))
            return e
        }
    }

    private func fixture(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: ImagingFixtures.imageURL(name)))
    }

    /// CRC-32 (PNG's, zlib's polynomial) of `bytes`.
    private func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    @Test func pngHeaderAnnouncingABombIsRefusedBeforeDecoding() throws {
        var png = try fixture("img5_tiny_64x48.png")
        // IHDR: length at 8, type at 12, width at 16, height at 20, CRC over type + data at 29.
        #expect(Array(png[12..<16]) == Array("IHDR".utf8))
        for (offset, value) in [(16, UInt32(20_000)), (20, UInt32(20_000))] {
            withUnsafeBytes(of: value.bigEndian) { png.replaceSubrange(offset..<(offset + 4), with: $0) }
        }
        withUnsafeBytes(of: crc32(png[12..<29]).bigEndian) { png.replaceSubrange(29..<33, with: $0) }
        let e = try error(decoding: png, named: "bomb.png")
        #expect(e == .tooLarge(file: fileOf(e), format: "PNG", width: 20_000, height: 20_000, limit: ImageDecoder.maxPixels))
    }

    @Test func jpegHeaderAnnouncingABombIsRefusedBeforeDecoding() throws {
        var jpeg = try fixture("img2_457x333.jpg")
        // The start-of-frame segment: FF C0..C2, length, precision, height, width.
        let sof = try #require((2..<(jpeg.count - 9)).first { jpeg[$0] == 0xFF && (0xC0...0xC2).contains(jpeg[$0 + 1]) })
        #expect(Int(jpeg[sof + 5]) << 8 | Int(jpeg[sof + 6]) == 333)
        for offset in [sof + 5, sof + 7] {
            jpeg[offset] = 0xFF
            jpeg[offset + 1] = 0xDC                    // 65500, libjpeg's largest dimension
        }
        let e = try error(decoding: jpeg, named: "bomb.jpg")
        #expect(e == .tooLarge(file: fileOf(e), format: "JPEG", width: 65_500, height: 65_500, limit: ImageDecoder.maxPixels))
    }

    @Test func pixelLimitIsInclusive() throws {
        let data = Data(try fixture("img5_tiny_64x48.png"))
        let image = try ImageDecoder.decode(data: data, name: "tiny.png", channelOrder: .bgr, maxPixels: 64 * 48)
        #expect(image.width == 64 && image.height == 48)
        #expect(throws: ImageError.tooLarge(file: "tiny.png", format: "PNG", width: 64, height: 48, limit: 64 * 48 - 1)) {
            try ImageDecoder.decode(data: data, name: "tiny.png", channelOrder: .bgr, maxPixels: 64 * 48 - 1)
        }
        let jpeg = Data(try fixture("img2_457x333.jpg"))
        #expect(throws: ImageError.tooLarge(file: "x.jpg", format: "JPEG", width: 457, height: 333, limit: 1000)) {
            try ImageDecoder.decode(data: jpeg, name: "x.jpg", channelOrder: .bgr, maxPixels: 1000)
        }
    }

    /// The file an error names.
    private func fileOf(_ e: ImageError?) -> String {
        guard case let .tooLarge(file, _, _, _, _)? = e else { return "" }
        return file
    }

    @Test func aDeviceIsNotReadAsAnImage() {
        #expect(throws: ImageError.unreadable(file: "/dev/null", reason: "not a regular file (a device, socket or pipe)")) {
            try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: "/dev/null"))
        }
    }

    @Test func truncatedPNG() throws {
        let png = try fixture("img5_tiny_64x48.png")
        let e = try error(decoding: Array(png.prefix(png.count / 2)), named: "cut.png")
        guard case .truncated(_, "PNG", _)? = e else { Issue.record("expected truncated PNG, got \(String(describing: e))"); return }
    }

    @Test func corruptPNGData() throws {
        var png = try fixture("img5_tiny_64x48.png")
        // Flip bytes well inside the first IDAT: the CRC (or zlib) check fails.
        for i in 200..<240 { png[i] ^= 0x5A }
        let e = try error(decoding: png, named: "flipped.png")
        guard case .corrupt(_, "PNG", _)? = e else { Issue.record("expected corrupt PNG, got \(String(describing: e))"); return }
    }

    @Test func truncatedJPEG() throws {
        let jpeg = try fixture("img2_457x333.jpg")
        let e = try error(decoding: Array(jpeg.prefix(jpeg.count / 2)), named: "cut.jpg")
        guard case .truncated(_, "JPEG", _)? = e else { Issue.record("expected truncated JPEG, got \(String(describing: e))"); return }
    }

    @Test func jpegHeaderOnly() throws {
        let jpeg = try fixture("img6_wide_960x300.jpg")
        let e = try error(decoding: Array(jpeg.prefix(40)), named: "header.jpg")
        #expect(e != nil)
    }

    @Test func corruptJPEGHeader() throws {
        // SOI, then a frame header with zero height.
        let bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x00, 0x00, 0x10, 0x03,
                              0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9]
        let e = try error(decoding: bytes, named: "zero.jpg")
        guard case .corrupt(_, "JPEG", _)? = e else { Issue.record("expected corrupt JPEG, got \(String(describing: e))"); return }
    }

    @Test func notAnImage() throws {
        let e = try error(decoding: Array("MODEL:\n  WEIGHTS: x\n".utf8), named: "config.png")
        guard case .unknownFormat? = e else { Issue.record("expected unknownFormat, got \(String(describing: e))"); return }
        let empty = try error(decoding: [], named: "empty.jpg")
        guard case .unknownFormat? = empty else { Issue.record("expected unknownFormat, got \(String(describing: empty))"); return }
    }

    @Test func missingFileAndBadChannelOrder() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/zoo/none.png")
        #expect(throws: ImageError.self) { try ImageDecoder.decode(contentsOf: missing) }
        #expect(throws: ImageError.unsupportedChannelOrder("YUV-BT.601")) {
            try ImageDecoder.decode(contentsOf: ImagingFixtures.imageURL("img1_320x480.png"), format: "YUV-BT.601")
        }
    }
}

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

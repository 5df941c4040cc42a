import Foundation
import Testing
@testable import ZooKit

/// `zoo run --output`: a picture never costs an image its JSON record. An image wider than cairo's
/// 32767 pixels is drawn scaled down; a picture that cannot be written is one line while the record
/// is kept; file names with newlines or escapes stay on one line.
@Suite struct RunCommandPictureTests {
    let work: URL
    let environment: [String: String]
    static let models = TestSupport.fixtures.appendingPathComponent("models")
    static let images = TestSupport.fixtures.appendingPathComponent("images")
    static let model = ["run", models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.pkl").path,
                        "--config", models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.yaml").path]

    init() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-run-picture-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        environment = ["ZOO_CACHE": work.appendingPathComponent("cache").path, "ZOO_WINOGRAD_CACHE_MB": "0"]
    }

    func lines(_ url: URL) throws -> [Substring] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
    }

    @Test func imageWiderThanCairosLimitGetsItsRecordAndAScaledPicture() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let image = work.appendingPathComponent("pano.png")
        try TinyPNG.gray(width: 33000, height: 40) { x, y in UInt8(truncatingIfNeeded: x / 9 + y * 5) }.write(to: image)
        let out = work.appendingPathComponent("r.jsonl"), pictures = work.appendingPathComponent("out")
        let r = try TestSupport.runZoo(Self.model + [image.path, "--json", out.path, "--output", pictures.path, "--quiet"],
                                       environment: environment)
        #expect(r.status == 0, "\(r.stderr)")
        let records = try lines(out)
        #expect(records.count == 1, "the record was lost")
        let record = records.first.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(record?["image_width"] as? Int == 33000 && record?["image_height"] as? Int == 40)
        let picture = try CairoCanvas.readPNG(at: pictures.appendingPathComponent("pano.png"))
        #expect(picture.width == 32767 && picture.height == 40, "\(picture.width)x\(picture.height)")
    }

    @Test(arguments: [true, false])
    func pictureThatCannotBeWrittenIsOneLineAndTheRecordIsKept(json: Bool) throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let pictures = work.appendingPathComponent("out")
        // A folder where the picture should go: drawn, then the rename fails.
        let target = pictures.appendingPathComponent("img5_tiny_64x48.png")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let image = Self.images.appendingPathComponent("img5_tiny_64x48.png").path
        let out = work.appendingPathComponent("r.jsonl")
        let r = try TestSupport.runZoo(Self.model + [image, "--output", pictures.path, "--quiet"] + (json ? ["--json", out.path] : []),
                                       environment: environment)
        #expect(r.status == 1, "\(r.stderr)")
        let errors = r.stderr.split(separator: "\n")
        #expect(errors.count == 1, "\(r.stderr)")
        // With --json failures are reported by the batch runner (no "zoo: "), as for any image.
        let prefix = json ? "" : "zoo: "
        #expect(errors.first?.hasPrefix("\(prefix)\(image): picture \(target.path) not written") == true, "\(r.stderr)")
        if json {
            #expect(try lines(out).count == 1, "the record was lost")
            #expect(r.stderr.contains("JSON line was still written"), "\(r.stderr)")
        } else {
            // Without --json the summary line is the result: still printed, without a picture.
            let summary = r.stdout.split(separator: "\n")
            #expect(summary.count == 1 && summary.first?.hasPrefix("\(image): ") == true && !r.stdout.contains("->"), "\(r.stdout)")
        }
    }

    @Test(arguments: [true, false])
    func fileNameWithANewlineOrEscapeIsOneLine(json: Bool) throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let broken = work.appendingPathComponent("bro\nken\u{1b}[31m.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0]).write(to: broken)
        let out = work.appendingPathComponent("r.jsonl")
        let r = try TestSupport.runZoo(Self.model + [broken.path, "--quiet"] + (json ? ["--json", out.path] : []),
                                       environment: environment)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n", omittingEmptySubsequences: false).count == 2, "one line: \(r.stderr)")
        #expect(!r.stderr.contains("\u{1b}"), "\(r.stderr)")
        let shown = work.path + "/bro\\u{a}ken\\u{1b}[31m.png"
        #expect(r.stderr.hasPrefix((json ? "" : "zoo: ") + "\(shown): "), "\(r.stderr)")
        #expect(r.stderr.contains("image \(shown) is"), "the decoder's message shows it escaped too: \(r.stderr)")
    }
}

/// Minimal PNG files for tests: 8-bit grayscale, zlib "stored" (uncompressed) blocks.
enum TinyPNG {
    static func gray(width: Int, height: Int, pixel: (Int, Int) -> UInt8) -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity((width + 1) * height)
        for y in 0..<height {
            raw.append(0)  // filter: none
            for x in 0..<width { raw.append(pixel(x, y)) }
        }
        var zlib: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let count = min(65535, raw.count - offset)
            let final: UInt8 = offset + count == raw.count ? 1 : 0
            zlib += [final, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            zlib += raw[offset..<(offset + count)]
            offset += count
        } while offset < raw.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        zlib += bigEndian(b << 16 | a)

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 0, 0, 0, 0])
        png += chunk("IDAT", zlib)
        png += chunk("IEND", [])
        return Data(png)
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in body {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return bigEndian(UInt32(data.count)) + body + bigEndian(~crc)
    }
}

import Foundation
import Testing
@testable import ZooKit

/// Pictures of images with a side over cairo's 32767-pixel limit: drawn scaled down, not refused;
/// and render errors naming a path keep to one line.
@Suite("Visualizer: wide images")
struct WidePictureTests {
    static let background: UInt8 = 100

    @Test("picture sizes: the image's own up to 32767 a side, else scaled by one factor to a longer side of 32767")
    func pictureSizes() {
        #expect(Visualizer.pictureSize(width: 200, height: 150) == (200, 150))
        #expect(Visualizer.pictureSize(width: 32767, height: 32767) == (32767, 32767))
        #expect(Visualizer.pictureSize(width: 36000, height: 4000) == (32767, 3641))
        #expect(Visualizer.pictureSize(width: 4000, height: 36000) == (3641, 32767))
        #expect(Visualizer.pictureSize(width: 33000, height: 8) == (32767, 8))
        #expect(Visualizer.pictureSize(width: 100_000, height: 1) == (32767, 1))
        #expect(Visualizer.pictureSize(width: 0, height: 40000) == (0, 40000))
    }

    @Test("a 33000x8 image is drawn scaled to 32767x8, boxes where the scaled image has them, and written as a PNG")
    func wideImageIsDrawnScaled() throws {
        let width = 33000, height = 8
        let rgb = [UInt8](repeating: Self.background, count: width * height * 3)
        let box = Box(x0: 10000, y0: 1, x1: 20000, y1: 7)
        let detections = [Detection(classIndex: 0, score: 0.97, box: box, boxInput: box)]
        let drawn = try Visualizer().draw(detections, onRGB: rgb, width: width, height: height)
        let picture = Visualizer.pictureSize(width: width, height: height)
        #expect(drawn.count == picture.width * picture.height * 3)

        func pixel(_ x: Int, _ y: Int) -> [Int] {
            let i = (y * picture.width + x) * 3
            return [Int(drawn[i]), Int(drawn[i + 1]), Int(drawn[i + 2])]
        }
        let scale = Double(picture.width) / Double(width)
        let color = Colormap.color(forClass: 0)
        let edge = [color.red, color.green, color.blue].map { Int((0.5 * $0 * 255 + 0.5 * Double(Self.background)).rounded()) }
        let b = Int(Self.background)
        // The box's left edge lands at 10000 * scale in the picture; its inside and the far left are untouched.
        let left = Int((10000 * scale).rounded(.down))
        #expect(zip(pixel(left, 4), edge).allSatisfy { abs($0 - $1) <= 2 }, "edge \(pixel(left, 4)), expected \(edge)")
        #expect(pixel(left - 20, 4) == [b, b, b])
        #expect(pixel(Int(15000 * scale), 4) == [b, b, b])
        #expect(pixel(10, 4) == [b, b, b])

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-wide-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("wide.png")
        try Visualizer().writePNG(detections, onRGB: rgb, width: width, height: height, to: url)
        let read = try CairoCanvas.readPNG(at: url)
        #expect(read.width == picture.width && read.height == picture.height)
        #expect(read.rgb == drawn)
    }

    @Test("a tall image is scaled the same way")
    func tallImageIsDrawnScaled() throws {
        let width = 4, height = 40000
        let drawn = try Visualizer().draw([], onRGB: [UInt8](repeating: 7, count: width * height * 3), width: width, height: height)
        let picture = Visualizer.pictureSize(width: width, height: height)
        #expect(picture == (3, 32767))
        #expect(drawn == [UInt8](repeating: 7, count: picture.width * picture.height * 3))
    }

    @Test("a canvas itself still refuses a side over 32767, and an empty image is still an error")
    func limitsStay() {
        #expect(throws: RenderError.imageDimensions(width: 32768, height: 1)) {
            try CairoCanvas(rgb: [UInt8](repeating: 0, count: 32768 * 3), width: 32768, height: 1)
        }
        #expect(throws: RenderError.imageDimensions(width: 40000, height: 0)) {
            try Visualizer().draw([], onRGB: [], width: 40000, height: 0)
        }
        #expect(throws: RenderError.imageSizeMismatch(width: 40000, height: 1, byteCount: 5)) {
            try Visualizer().draw([], onRGB: [UInt8](repeating: 0, count: 5), width: 40000, height: 1)
        }
    }

    @Test("a picture path with a newline or an escape is shown escaped, on one line")
    func pathsInErrorsAreOneLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-render-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("no\nsuch\u{1b}[31m/out.png")
        let error = #expect(throws: RenderError.self) {
            try Visualizer().writePNG([], onRGB: [UInt8](repeating: 0, count: 12), width: 2, height: 2, to: missing)
        }
        let message = error.map { String(describing: $0) } ?? ""
        #expect(!message.contains("\n") && !message.contains("\u{1b}"), "\(message)")
        #expect(message.contains("no\\u{a}such\\u{1b}[31m/out.png"), "\(message)")
        let read = RenderError.readFailed(path: "a\nb.png", reason: "bad\rdata").description
        #expect(read.contains("a\\u{a}b.png") && read.contains("bad\\u{d}data"), "\(read)")
    }
}

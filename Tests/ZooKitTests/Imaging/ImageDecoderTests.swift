import Foundation
import Testing
@testable import ZooKit

@Suite("ImageDecoder")
struct ImageDecoderTests {
    @Test("PNG fixtures and decoded JPEG copies give the goldens' BGR pixels", arguments: ImagingFixtures.images)
    func fixturePixels(name: String) throws {
        let golden = try ImagingFixtures.golden(name)
        let image = try ImageDecoder.decode(contentsOf: ImagingFixtures.exactInputURL(name), format: "BGR")
        #expect(image.width == golden.image_width && image.height == golden.image_height)
        #expect(image.channelOrder == .bgr)
        #expect(ImagingFixtures.sha256Hex(image.pixels) == golden.decoded.sha256)
    }

    @Test("RGB order is the BGR decode with channels swapped")
    func rgbOrder() throws {
        let url = ImagingFixtures.imageURL("img1_320x480.png")
        let bgr = try ImageDecoder.decode(contentsOf: url, format: "BGR")
        let rgb = try ImageDecoder.decode(contentsOf: url, format: "RGB")
        #expect(rgb.channelOrder == .rgb)
        #expect(rgb.pixels != bgr.pixels)
        #expect(rgb.converted(to: .bgr) == bgr)
    }

    /// Debian's libjpeg-turbo 2.1.5 against OpenCV's bundled 3.1.2 (the goldens' decoder).
    @Test("JPEG fixtures decode to OpenCV's pixels", arguments: ["img2_457x333.jpg", "img6_wide_960x300.jpg"])
    func jpegAgainstOpenCV(name: String) throws {
        let golden = try ImagingFixtures.golden(name)
        let ours = try ImageDecoder.decode(contentsOf: ImagingFixtures.imageURL(name), format: "BGR")
        let opencv = try ImageDecoder.decode(contentsOf: ImagingFixtures.exactInputURL(name), format: "BGR")
        #expect(ours.width == opencv.width && ours.height == opencv.height)
        let maxDiff = zip(ours.pixels, opencv.pixels).map { abs(Int($0) - Int($1)) }.max() ?? -1
        #expect(maxDiff == 0, "max |diff| \(maxDiff) against OpenCV's decode")
        #expect(ImagingFixtures.sha256Hex(ours.pixels) == golden.decoded.sha256)
    }

    @Test("PNG colour types, bit depths, palette, interlace and eXIf",
          arguments: ["rgb8.png", "rgb16.png", "rgba8.png", "rgba16.png", "gray8.png", "gray16.png",
                      "gray_alpha8.png", "gray1.png", "gray4.png", "palette8_trns.png", "palette4.png",
                      "rgb8_gamma.png", "rgb8_interlaced.png", "rgb8_exif6.png"])
    func pngVariants(name: String) throws {
        let dir = TestSupport.fixtures.appendingPathComponent("images/png_variants")
        let expected = try JSONDecoder().decode(PNGVariants.self, from: Data(contentsOf: dir.appendingPathComponent("expected.json")))
        let image = try ImageDecoder.decode(contentsOf: dir.appendingPathComponent(name), format: "BGR")
        let rotated = name == "rgb8_exif6.png"
        #expect(image.width == (rotated ? expected.height : expected.width))
        #expect(image.height == (rotated ? expected.width : expected.height))
        #expect(ImagingFixtures.sha256Hex(image.pixels) == expected.sha256_bgr[name])
    }

    struct PNGVariants: Decodable {
        var width: Int
        var height: Int
        var sha256_bgr: [String: String]
    }

    @Test("The format comes from the magic bytes, not the extension")
    func sniffing() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-imaging-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let png = try Data(contentsOf: ImagingFixtures.imageURL("img5_tiny_64x48.png"))
        let renamed = dir.appendingPathComponent("actually_png.jpg")
        try png.write(to: renamed)
        let a = try ImageDecoder.decode(contentsOf: renamed)
        let b = try ImageDecoder.decode(contentsOf: ImagingFixtures.imageURL("img5_tiny_64x48.png"))
        #expect(a == b)
        #expect(ImageDecoder.sniff([UInt8](png)) == .png)
        #expect(ImageDecoder.sniff([0xFF, 0xD8, 0xFF, 0xE0]) == .jpeg)
        #expect(ImageDecoder.sniff([0x47, 0x49, 0x46, 0x38]) == nil)
    }
}

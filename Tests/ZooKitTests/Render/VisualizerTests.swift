import Foundation
import Testing
@testable import ZooKit

@Suite("Visualizer")
struct VisualizerTests {
    static let width = 200, height = 150
    static let background: UInt8 = 100

    static func plainImage(_ value: UInt8 = background) -> [UInt8] {
        [UInt8](repeating: value, count: width * height * 3)
    }

    static func pixel(_ rgb: [UInt8], _ x: Int, _ y: Int, width: Int = width) -> [Int] {
        let i = (y * width + x) * 3
        return [Int(rgb[i]), Int(rgb[i + 1]), Int(rgb[i + 2])]
    }

    /// `alpha * color + (1 - alpha) * background`, per channel, in bytes.
    static func blend(_ color: DrawColor, alpha: Double, over background: UInt8) -> [Int] {
        [color.red, color.green, color.blue].map { Int((alpha * $0 * 255 + (1 - alpha) * Double(background)).rounded()) }
    }

    static func isClose(_ a: [Int], _ b: [Int], tolerance: Int = 2) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }
    }

    static func detection(_ classIndex: Int, score: Float = 0.97, box: Box, mask: BitMask? = nil, keypoints: [Keypoint]? = nil) -> Detection {
        Detection(classIndex: classIndex, score: score, box: box, boxInput: box, mask: mask, keypoints: keypoints)
    }

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-render-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    // MARK: Boxes and labels

    @Test("a box's edge has the class colour at detectron2's 50% opacity, its inside is untouched")
    func boxEdgeHasClassColour() throws {
        let box = Box(x0: 40, y0: 30, x1: 160, y1: 120)
        let out = try Visualizer().draw([Self.detection(0, box: box)], onRGB: Self.plainImage(), width: Self.width, height: Self.height)
        let expected = Self.blend(Colormap.color(forClass: 0), alpha: 0.5, over: Self.background)
        for (x, y) in [(40, 80), (160, 80), (100, 120), (100, 30), (159, 60)] {
            #expect(Self.isClose(Self.pixel(out, x, y), expected), "edge pixel (\(x), \(y)) is \(Self.pixel(out, x, y)), expected \(expected)")
        }
        let b = Int(Self.background)
        #expect(Self.pixel(out, 100, 90) == [b, b, b])
        #expect(Self.pixel(out, 10, 10) == [b, b, b])
    }

    @Test("thing_colors override the colormap")
    func thingColorsAreUsed() throws {
        let metadata = VisualizationMetadata(classNames: ["a", "b"], classColors: [RGBColor(10, 20, 30), RGBColor(250, 40, 0)])
        let box = Box(x0: 40, y0: 30, x1: 160, y1: 120)
        let out = try Visualizer(metadata: metadata).draw([Self.detection(1, box: box)], onRGB: Self.plainImage(), width: Self.width, height: Self.height)
        let expected = Self.blend(DrawColor(RGBColor(250, 40, 0)), alpha: 0.5, over: Self.background)
        #expect(Self.isClose(Self.pixel(out, 40, 80), expected), "\(Self.pixel(out, 40, 80)) vs \(expected)")
    }

    @Test("the label sits on a dark box at the box's top-left corner, with lighter text on it")
    func labelRegionIsDrawn() throws {
        let box = Box(x0: 40, y0: 30, x1: 160, y1: 120)
        let metadata = VisualizationMetadata(classNames: ["dog"])
        let white = Self.plainImage(255)
        let out = try Visualizer(metadata: metadata).draw([Self.detection(0, box: box)], onRGB: white, width: Self.width, height: Self.height)
        // 90 px of 150x200 -> 2 * 0.5 * 10 pt = 10 pt = 13.9 px text: "dog 97%" is ~60 px wide.
        var dark = 0, light = 0, total = 0
        for y in 32..<44 {
            for x in 42..<95 {
                let p = Self.pixel(out, x, y)
                total += 1
                if p.allSatisfy({ $0 <= 70 }) { dark += 1 }  // black at 80% over white is 51
                if p.max() ?? 0 > 120 { light += 1 }
            }
        }
        #expect(dark > total / 2, "only \(dark) of \(total) label pixels are dark")
        #expect(light > 20, "only \(light) label pixels carry text")
        // The label ends: well right of the text the picture is white again.
        #expect(Self.pixel(out, 130, 38) == [255, 255, 255])
    }

    @Test("a small box gets its label below it")
    func smallBoxLabelGoesBelow() throws {
        let box = Box(x0: 60, y0: 40, x1: 80, y1: 60)  // area 400 < 1000
        let out = try Visualizer().draw([Self.detection(3, box: box)], onRGB: Self.plainImage(255), width: Self.width, height: Self.height)
        #expect(Self.pixel(out, 63, 64).allSatisfy { $0 <= 70 }, "no dark label under the box: \(Self.pixel(out, 63, 64))")
        #expect(Self.pixel(out, 70, 50) == [255, 255, 255])
    }

    @Test("label text follows detectron2: name and score rounded half to even, index without names")
    func labelText() {
        let box = Box(x0: 0, y0: 0, x1: 1, y1: 1)
        let named = Visualizer(metadata: VisualizationMetadata(classNames: ["cat", "dog"]))
        #expect(named.label(for: Self.detection(1, score: 0.97, box: box)) == "dog 97%")
        #expect(named.label(for: Self.detection(0, score: 0.125, box: box)) == "cat 12%")
        #expect(named.label(for: Self.detection(0, score: 0.375, box: box)) == "cat 38%")
        #expect(named.label(for: Self.detection(5, score: 0.5, box: box)) == "5 50%")
        #expect(Visualizer().label(for: Self.detection(16, score: 1, box: box)) == "16 100%")
    }

    @Test("font sizes grow with the image and the box as detectron2's do")
    func fontSizes() {
        #expect(Visualizer.defaultFontSize(width: 64, height: 48) == 10)
        #expect(Visualizer.defaultFontSize(width: 1920, height: 1080) == 16)
        #expect(Visualizer.defaultFontSize(width: 4000, height: 3000) == 38)
        #expect(Visualizer.labelFontSize(boxHeight: 1, width: 1920, height: 1080) == 1.2 * 0.5 * 16)
        #expect(Visualizer.labelFontSize(boxHeight: 1000, width: 1920, height: 1080) == 2 * 0.5 * 16)
        let middle = Visualizer.labelFontSize(boxHeight: 0.1 * 1440, width: 1920, height: 1080)
        #expect(abs(middle - 2 * 0.5 * 16) < 1e-9)
        let between = Visualizer.labelFontSize(boxHeight: 0.06 * 1440, width: 1920, height: 1080)
        #expect(abs(between - 1.5 * 0.5 * 16) < 1e-9)
    }

    // MARK: Masks

    @Test("a mask's inside is blended at 50%, its hole and the rest of the box are not")
    func maskIsBlended() throws {
        var bits = [UInt8](repeating: 0, count: Self.width * Self.height)
        for y in 40..<110 {
            for x in 50..<150 where !(80..<120 ~= x && 60..<90 ~= y) { bits[y * Self.width + x] = 1 }
        }
        let mask = BitMask(width: Self.width, height: Self.height, bits: bits)
        let box = Box(x0: 30, y0: 20, x1: 170, y1: 130)
        let out = try Visualizer().draw([Self.detection(2, box: box, mask: mask)], onRGB: Self.plainImage(), width: Self.width, height: Self.height)
        let color = Colormap.color(forClass: 2)
        let b = Int(Self.background)
        #expect(Self.isClose(Self.pixel(out, 60, 100), Self.blend(color, alpha: 0.5, over: Self.background)), "\(Self.pixel(out, 60, 100))")
        #expect(Self.pixel(out, 100, 75) == [b, b, b], "the hole was painted")
        #expect(Self.pixel(out, 40, 120) == [b, b, b], "outside the mask was painted")
        // The outline is opaque: its pixels are nearer the class colour than the translucent inside.
        let full = Self.blend(color, alpha: 1, over: 0)
        func distance(_ p: [Int]) -> Int { zip(p, full).map { abs($0 - $1) }.reduce(0, +) }
        #expect(distance(Self.pixel(out, 50, 100)) < distance(Self.pixel(out, 60, 100)))
        #expect(distance(Self.pixel(out, 80, 75)) < distance(Self.pixel(out, 60, 100)))
    }

    @Test("a mask of the wrong size is a RenderError, not a crash")
    func maskSizeMismatch() {
        let mask = BitMask(width: 10, height: 10, bits: [UInt8](repeating: 1, count: 100))
        let detection = Self.detection(0, box: Box(x0: 0, y0: 0, x1: 10, y1: 10), mask: mask)
        #expect(throws: RenderError.maskSizeMismatch(detection: 0, maskWidth: 10, maskHeight: 10, imageWidth: Self.width, imageHeight: Self.height)) {
            try Visualizer().draw([detection], onRGB: Self.plainImage(), width: Self.width, height: Self.height)
        }
    }

    // MARK: Keypoints

    @Test("keypoints above the threshold are red dots joined by the skeleton's lines")
    func keypointsAndSkeleton() throws {
        let metadata = VisualizationMetadata(
            classNames: ["person"], keypointNames: ["a", "b", "c"],
            keypointConnectionRules: [
                KeypointConnectionRule(from: "a", to: "b", color: RGBColor(0, 255, 0)),
                KeypointConnectionRule(from: "b", to: "c", color: RGBColor(0, 0, 255)),
            ])
        let keypoints = [
            Keypoint(x: 60.5, y: 100.5, score: 0.9, logit: 3),
            Keypoint(x: 140.5, y: 100.5, score: 0.06, logit: 1),
            Keypoint(x: 140.5, y: 40.5, score: 0.05, logit: 0.5),  // not above 0.05: hidden
        ]
        let box = Box(x0: 20, y0: 20, x1: 180, y1: 140)
        let out = try Visualizer(metadata: metadata).draw(
            [Self.detection(0, box: box, keypoints: keypoints)], onRGB: Self.plainImage(), width: Self.width, height: Self.height)
        let b = Int(Self.background)
        // The dot pokes out beyond the line's end, which is square-capped ~2.3 px past it.
        #expect(Self.pixel(out, 60, 97) == [255, 0, 0], "\(Self.pixel(out, 60, 97))")
        #expect(Self.pixel(out, 100, 100) == [0, 255, 0], "\(Self.pixel(out, 100, 100))")
        #expect(Self.pixel(out, 140, 40) == [b, b, b], "a hidden keypoint was drawn")
        #expect(Self.pixel(out, 140, 70) == [b, b, b], "a line to a hidden keypoint was drawn")
    }

    // MARK: Files

    @Test("writePNG writes a PNG that cairo reads back with the right size and the drawn pixels")
    func pngRoundTrip() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("out.png")
        let image = (0..<(Self.width * Self.height * 3)).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let detections = [Self.detection(4, box: Box(x0: 10, y0: 10, x1: 120, y1: 90))]
        let visualizer = Visualizer()
        try visualizer.writePNG(detections, onRGB: image, width: Self.width, height: Self.height, to: url)
        let drawn = try visualizer.draw(detections, onRGB: image, width: Self.width, height: Self.height)
        let read = try CairoCanvas.readPNG(at: url)
        #expect(read.width == Self.width && read.height == Self.height)
        #expect(read.rgb == drawn)
        #expect(drawn != image)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.png"])
    }

    @Test("an unwritable output path is a RenderError and leaves no temporary file")
    func unwritablePath() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("no-such-folder/out.png")
        let error = #expect(throws: RenderError.self) {
            try Visualizer().writePNG([], onRGB: Self.plainImage(), width: Self.width, height: Self.height, to: missing)
        }
        #expect(error.map { String(describing: $0).contains("no-such-folder/out.png") } == true)
        // A folder where the PNG should go: cairo writes the temporary file, the rename fails.
        let blocked = folder.appendingPathComponent("taken.png")
        try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: false)
        #expect(throws: RenderError.self) {
            try Visualizer().writePNG([], onRGB: Self.plainImage(), width: Self.width, height: Self.height, to: blocked)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["taken.png"])
    }

    @Test("reading a file that is not a PNG is a RenderError")
    func readingGarbage() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("bad.png")
        try Data("not a png".utf8).write(to: url)
        #expect(throws: RenderError.self) { try CairoCanvas.readPNG(at: url) }
    }

    @Test("an image buffer of the wrong length or size is a RenderError")
    func badImages() {
        #expect(throws: RenderError.imageSizeMismatch(width: 4, height: 4, byteCount: 47)) {
            try Visualizer().draw([], onRGB: [UInt8](repeating: 0, count: 47), width: 4, height: 4)
        }
        #expect(throws: RenderError.imageDimensions(width: 0, height: 4)) {
            try Visualizer().draw([], onRGB: [], width: 0, height: 4)
        }
    }

    // MARK: Colours

    @Test("brightness changes match Python's colorsys as detectron2 uses it")
    func brightness() {
        // Reference values from Python: colorsys.rgb_to_hls / hls_to_rgb with lightness * (1 + f).
        let lighter = DrawColor(0.0, 0.447, 0.741).changingBrightness(by: 0.7)
        #expect(abs(lighter.red - 0.2597) < 1e-9 && abs(lighter.green - 0.7062777327935224) < 1e-9 && abs(lighter.blue - 1.0) < 1e-9)
        let darker = DrawColor(0.85, 0.325, 0.098).changingBrightness(by: -0.7)
        #expect(abs(darker.red - 0.255) < 1e-9 && abs(darker.green - 0.0975) < 1e-9 && abs(darker.blue - 0.0294) < 1e-9)
        for color in Colormap.colors {
            let same = color.changingBrightness(by: 0)
            #expect(abs(same.red - color.red) < 1e-9 && abs(same.green - color.green) < 1e-9 && abs(same.blue - color.blue) < 1e-9)
        }
    }

    @Test("text colours on the dark label box stay readable")
    func readableText() {
        let text = DrawColor(0.1, 0.3, 0.05).readableOnBlack
        #expect(text == DrawColor(0.2, 0.8, 0.2))
        #expect(DrawColor(0.9, 0.95, 0.1).readableOnBlack == DrawColor(0.9, 0.95, 0.2))
        #expect(Colormap.colors.count == 74)
        #expect(Colormap.color(forClass: 74) == Colormap.color(forClass: 0))
    }
}

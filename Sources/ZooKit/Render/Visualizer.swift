import Foundation

/// Draws detections onto an RGB picture the way detectron2's
/// `Visualizer.draw_instance_predictions` does (`ColorMode.IMAGE`, `scale=1`): boxes, a label
/// "name 97%" on a dark box at each box's top-left corner, translucent masks with outlines,
/// keypoints with their skeleton lines.
///
/// Differences from detectron2, on purpose: colours come per class (`thing_colors`, else
/// detectron2's colormap by class index) instead of at random, so pictures are reproducible;
/// mask outlines follow the pixel edges exactly, holes included; and an image with a side over
/// cairo's limit of `maxPictureSide` pixels is drawn scaled down to fit (`pictureSize`), the whole
/// picture (image, lines, text) shrunk alike, where detectron2 would draw at full size.
public struct Visualizer: Sendable {
    /// Class names, colours and keypoint skeleton of the model's dataset.
    public var metadata: VisualizationMetadata
    /// Keypoints with a score at or below this are not drawn (detectron2's `_KEYPOINT_THRESHOLD`).
    public var keypointThreshold: Float = 0.05

    /// matplotlib, which detectron2 draws with, measures text and lines in points at 100 dpi.
    static let pixelsPerPoint = 100.0 / 72.0
    /// detectron2's `_SMALL_OBJECT_AREA_THRESH`: smaller boxes get their label outside.
    static let smallObjectArea = 1000.0
    /// The longest side a picture can have (cairo's limit); larger images are drawn scaled down.
    public static let maxPictureSide = CairoCanvas.maxSide

    public init(metadata: VisualizationMetadata = VisualizationMetadata()) {
        self.metadata = metadata
    }

    /// Draws `detections` onto `rgb` and returns the picture.
    ///
    /// - Parameters:
    ///   - rgb: the input image, `height * width * 3` bytes, row-major HWC, RGB.
    ///   - detections: boxes in input-image pixels; masks, if any, at the image's size.
    /// - Returns: the drawn picture in the same layout as `rgb`, at `pictureSize(width:height:)`:
    ///   the image's size unless a side is over `maxPictureSide`.
    public func draw(_ detections: [Detection], onRGB rgb: [UInt8], width: Int, height: Int) throws -> [UInt8] {
        let canvas = try Self.canvas(showing: rgb, width: width, height: height)
        try draw(detections, on: canvas)
        return try canvas.rgbPixels()
    }

    /// Draws `detections` onto `rgb` and writes the picture as a PNG at `url`, atomically
    /// (a temporary file in the same folder, then a rename). The PNG is
    /// `pictureSize(width:height:)`: an image with a side over `maxPictureSide` is drawn scaled down.
    public func writePNG(_ detections: [Detection], onRGB rgb: [UInt8], width: Int, height: Int, to url: URL) throws {
        let canvas = try Self.canvas(showing: rgb, width: width, height: height)
        try draw(detections, on: canvas)
        try canvas.writePNG(to: url)
    }

    /// The size of the picture of a `width` x `height` image: the image's own size, or, when a
    /// side is over `maxPictureSide`, both sides scaled by one factor so that the longer side is
    /// `maxPictureSide` (the shorter rounded to whole pixels, at least 1).
    public static func pictureSize(width: Int, height: Int) -> (width: Int, height: Int) {
        let longer = max(width, height)
        guard longer > maxPictureSide, min(width, height) > 0 else { return (width, height) }
        let scale = Double(maxPictureSide) / Double(longer)
        func scaled(_ side: Int) -> Int {
            side == longer ? maxPictureSide : min(max(Int((Double(side) * scale).rounded()), 1), maxPictureSide)
        }
        return (scaled(width), scaled(height))
    }

    /// A canvas showing `rgb` that takes image coordinates: the image itself, or, for an image
    /// over cairo's limit, the image resized (Pillow's bilinear filter) to `pictureSize` with
    /// drawing scaled to match.
    static func canvas(showing rgb: [UInt8], width: Int, height: Int) throws -> CairoCanvas {
        let picture = pictureSize(width: width, height: height)
        if picture == (width, height) { return try CairoCanvas(rgb: rgb, width: width, height: height) }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels.multipliedReportingOverflow(by: 3).overflow == false else {
            throw RenderError.imageDimensions(width: width, height: height)
        }
        guard rgb.count == pixels * 3 else {
            throw RenderError.imageSizeMismatch(width: width, height: height, byteCount: rgb.count)
        }
        let image = Image8(width: width, height: height, channelOrder: .rgb, pixels: rgb)
        let shown = PillowResize.resize(image, width: picture.width, height: picture.height)
        return try CairoCanvas(rgb: shown.pixels, width: width, height: height,
                               pixelWidth: picture.width, pixelHeight: picture.height)
    }

    // MARK: Sizes (detectron2's rules, in points; the canvas wants pixels)

    /// detectron2's `_default_font_size`: `max(sqrt(h * w) // 90, 10)` points.
    static func defaultFontSize(width: Int, height: Int) -> Double {
        max((Double(width * height).squareRoot() / 90).rounded(.down), 10)
    }

    /// The label's font size in points for a box of `boxHeight` pixels: between 0.6 and 1 times
    /// the default size, growing with the box's share of the image (detectron2's `overlay_instances`).
    static func labelFontSize(boxHeight: Double, width: Int, height: Int) -> Double {
        let heightRatio = boxHeight / Double(width * height).squareRoot()
        let factor = min(max((heightRatio - 0.02) / 0.08 + 1, 1.2), 2)
        return factor * 0.5 * defaultFontSize(width: width, height: height)
    }

    /// The label text: `"dog 97%"`, or `"16 97%"` without a name (detectron2's `_create_text_labels`).
    func label(for detection: Detection) -> String {
        let index = detection.classIndex
        let name = metadata.classNames.indices.contains(index) ? metadata.classNames[index] : String(index)
        // Python's "{:.0f}" of the float32 product: exact value, ties to even.
        let percent = Double(detection.score * 100)
        guard percent.isFinite else { return "\(name) \(percent)%" }
        return "\(name) \(Int(percent.rounded(.toNearestOrEven)))%"
    }

    /// The colour of a class: its `thing_colors` entry when given, else detectron2's colormap.
    func color(forClass index: Int) -> DrawColor {
        if let colors = metadata.classColors, colors.indices.contains(index) {
            return DrawColor(colors[index])
        }
        return Colormap.color(forClass: index)
    }

    // MARK: Drawing

    private func draw(_ detections: [Detection], on canvas: CairoCanvas) throws {
        let width = canvas.width, height = canvas.height
        for (i, detection) in detections.enumerated() {
            if let mask = detection.mask, mask.width != width || mask.height != height {
                throw RenderError.maskSizeMismatch(detection: i, maskWidth: mask.width, maskHeight: mask.height, imageWidth: width, imageHeight: height)
            }
        }
        let points = Visualizer.pixelsPerPoint
        let defaultFont = Visualizer.defaultFontSize(width: width, height: height)

        // Largest first, so small instances stay visible on top (detectron2 sorts by box area).
        let drawable = detections.filter { d in
            [d.box.x0, d.box.y0, d.box.x1, d.box.y1].allSatisfy(\.isFinite)
        }
        let order = drawable.indices.sorted { a, b in
            let areaA = drawable[a].box.area, areaB = drawable[b].box.area
            return areaA != areaB ? areaA > areaB : a < b
        }

        // matplotlib draws patches (boxes, masks, keypoint dots), then lines, then text.
        for i in order {
            let detection = drawable[i]
            let color = color(forClass: detection.classIndex)
            let box = detection.box
            canvas.strokeRectangle(
                x0: Double(box.x0), y0: Double(box.y0), x1: Double(box.x1), y1: Double(box.y1),
                color: color, alpha: 0.5, lineWidth: max(defaultFont / 4, 1) * points)
            if let mask = detection.mask {
                let outline = MaskOutline(tracing: mask)
                canvas.drawRegion(
                    outline.loops, fill: color, fillAlpha: 0.5, edge: color,
                    lineWidth: max((defaultFont / 15).rounded(.down), 1) * points)
            }
        }
        var skeletons: [[(from: (Double, Double), to: (Double, Double), color: DrawColor)]] = []
        for i in order {
            guard let keypoints = drawable[i].keypoints else { continue }
            skeletons.append(drawKeypoints(keypoints, on: canvas))
        }
        let lineWidth = max(defaultFont / 3, 1) * points
        for line in skeletons.joined() {
            canvas.strokeLine(x0: line.from.0, y0: line.from.1, x1: line.to.0, y1: line.to.1, color: line.color, lineWidth: lineWidth)
        }
        for i in order {
            drawLabel(for: drawable[i], on: canvas, defaultFont: defaultFont)
        }
    }

    /// Draws the visible keypoints as red dots and returns the skeleton lines between them
    /// (detectron2's `draw_and_connect_keypoints`).
    private func drawKeypoints(_ keypoints: [Keypoint], on canvas: CairoCanvas) -> [(from: (Double, Double), to: (Double, Double), color: DrawColor)] {
        var visible: [String: (Double, Double)] = [:]
        for (k, keypoint) in keypoints.enumerated() {
            guard keypoint.score > keypointThreshold, keypoint.x.isFinite, keypoint.y.isFinite else { continue }
            let point = (Double(keypoint.x), Double(keypoint.y))
            canvas.fillCircle(x: point.0, y: point.1, radius: 3, color: .red, edgeWidth: Visualizer.pixelsPerPoint)
            if metadata.keypointNames.indices.contains(k) {
                visible[metadata.keypointNames[k]] = point
            }
        }
        var lines: [(from: (Double, Double), to: (Double, Double), color: DrawColor)] = []
        for rule in metadata.keypointConnectionRules {
            if let a = visible[rule.from], let b = visible[rule.to] {
                lines.append((a, b, DrawColor(rule.color)))
            }
        }
        // detectron2 adds nose -> mid-shoulder -> mid-hip for COCO people; other skeletons lack these names.
        func midpoint(_ a: String, _ b: String) -> (Double, Double)? {
            guard let p = visible[a], let q = visible[b] else { return nil }
            return ((p.0 + q.0) / 2, (p.1 + q.1) / 2)
        }
        if let midShoulder = midpoint("left_shoulder", "right_shoulder") {
            if let nose = visible["nose"] { lines.append((nose, midShoulder, .red)) }
            if let midHip = midpoint("left_hip", "right_hip") { lines.append((midHip, midShoulder, .red)) }
        }
        return lines
    }

    /// The label at the box's top-left corner, inside the box; for small or flat boxes below it,
    /// or right of it at the image's bottom edge (detectron2's `overlay_instances`).
    private func drawLabel(for detection: Detection, on canvas: CairoCanvas, defaultFont: Double) {
        let width = canvas.width, height = canvas.height
        let x0 = Double(detection.box.x0), y0 = Double(detection.box.y0)
        let x1 = Double(detection.box.x1), y1 = Double(detection.box.y1)
        var position = (x0, y0)
        if (y1 - y0) * (x1 - x0) < Visualizer.smallObjectArea || y1 - y0 < 40 {
            position = y1 >= Double(height) - 5 ? (x1, y0) : (x0, y1)
        }
        let fontSize = Visualizer.labelFontSize(boxHeight: y1 - y0, width: width, height: height)
        let color = color(forClass: detection.classIndex).changingBrightness(by: 0.7).readableOnBlack
        canvas.drawLabel(
            label(for: detection), x: position.0, top: position.1,
            fontSize: fontSize * Visualizer.pixelsPerPoint, color: color,
            backgroundAlpha: 0.8, padding: 0.7 * Visualizer.pixelsPerPoint)
    }
}

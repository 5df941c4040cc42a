internal import CZooCairo
import Foundation

/// Fails with `RenderError.cairo` when a cairo call reports an error; `call` names it.
func cairoCheck(_ status: cairo_status_t, _ call: String) throws {
    guard status != CAIRO_STATUS_SUCCESS else { return }
    throw RenderError.cairo(call: call, status: cairoDescription(status))
}

private func cairoDescription(_ status: cairo_status_t) -> String {
    guard let text = cairo_status_to_string(status) else { return "cairo status \(status.rawValue)" }
    return String(cString: text)
}

/// An RGB picture being drawn on with cairo: owns a `CAIRO_FORMAT_RGB24` image surface and its
/// drawing context. Coordinates are image pixels, `(0, 0)` the top-left corner of the top-left pixel;
/// a canvas smaller than its image (`init(rgb:width:height:pixelWidth:pixelHeight:)`) scales them.
final class CairoCanvas {
    /// The size of the image whose coordinates drawing takes.
    let width: Int
    let height: Int
    /// The size of the picture: the image's, or smaller for an image over cairo's limit.
    let pixelWidth: Int
    let pixelHeight: Int
    private let surface: OpaquePointer
    private let context: OpaquePointer

    /// The longest side of a cairo image surface.
    static let maxSide = 32767

    /// The family labels are drawn in, from the `fonts-dejavu-core` package (also matplotlib's default).
    static let fontFamily = "DejaVu Sans"

    /// A canvas showing `rgb`: `height * width * 3` bytes, row-major HWC.
    convenience init(rgb: [UInt8], width: Int, height: Int) throws {
        try self.init(rgb: rgb, width: width, height: height, pixelWidth: width, pixelHeight: height)
    }

    /// A canvas of `pixelWidth` x `pixelHeight` pixels showing `rgb` (that many pixels, row-major
    /// HWC), on which drawing takes the coordinates of a `width` x `height` image: cairo scales
    /// them by `pixelWidth / width` across and `pixelHeight / height` down.
    init(rgb: [UInt8], width: Int, height: Int, pixelWidth: Int, pixelHeight: Int) throws {
        guard width > 0, height > 0 else { throw RenderError.imageDimensions(width: width, height: height) }
        guard (1...CairoCanvas.maxSide).contains(pixelWidth), (1...CairoCanvas.maxSide).contains(pixelHeight) else {
            throw RenderError.imageDimensions(width: pixelWidth, height: pixelHeight)
        }
        guard rgb.count == pixelWidth * pixelHeight * 3 else {
            throw RenderError.imageSizeMismatch(width: pixelWidth, height: pixelHeight, byteCount: rgb.count)
        }
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, Int32(pixelWidth), Int32(pixelHeight)) else {
            throw RenderError.cairo(call: "cairo_image_surface_create", status: "returned no surface")
        }
        do {
            try cairoCheck(cairo_surface_status(surface), "cairo_image_surface_create")
        } catch {
            cairo_surface_destroy(surface)
            throw error
        }
        guard let context = cairo_create(surface) else {
            cairo_surface_destroy(surface)
            throw RenderError.cairo(call: "cairo_create", status: "returned no context")
        }
        self.width = width
        self.height = height
        self.pixelWidth = pixelWidth
        self.pixelHeight = pixelHeight
        self.surface = surface
        self.context = context
        try cairoCheck(cairo_status(context), "cairo_create")
        try load(rgb)
        if pixelWidth != width || pixelHeight != height {
            cairo_scale(context, Double(pixelWidth) / Double(width), Double(pixelHeight) / Double(height))
        }
        cairo_select_font_face(context, CairoCanvas.fontFamily, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL)
    }

    deinit {
        cairo_destroy(context)
        cairo_surface_destroy(surface)
    }

    // MARK: Pixels

    private func load(_ rgb: [UInt8]) throws {
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else {
            throw RenderError.cairo(call: "cairo_image_surface_get_data", status: "returned no pixels")
        }
        let stride = Int(cairo_image_surface_get_stride(surface))
        let width = pixelWidth, height = pixelHeight
        rgb.withUnsafeBufferPointer { source in
            for y in 0..<height {
                // RGB24 pixels are native-endian 32-bit words 0x00RRGGBB.
                let row = UnsafeMutableRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
                var s = y * width * 3
                for x in 0..<width {
                    row[x] = UInt32(source[s]) << 16 | UInt32(source[s + 1]) << 8 | UInt32(source[s + 2])
                    s += 3
                }
            }
        }
        cairo_surface_mark_dirty(surface)
    }

    /// The picture as `pixelHeight * pixelWidth * 3` bytes, row-major HWC RGB.
    func rgbPixels() throws -> [UInt8] {
        try cairoCheck(cairo_status(context), "drawing")
        cairo_surface_flush(surface)
        guard let data = cairo_image_surface_get_data(surface) else {
            throw RenderError.cairo(call: "cairo_image_surface_get_data", status: "returned no pixels")
        }
        return CairoCanvas.unpackRGB(data: data, stride: Int(cairo_image_surface_get_stride(surface)),
                                     width: pixelWidth, height: pixelHeight)
    }

    private static func unpackRGB(data: UnsafeMutablePointer<UInt8>, stride: Int, width: Int, height: Int) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        rgb.withUnsafeMutableBufferPointer { out in
            for y in 0..<height {
                let row = UnsafeMutableRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
                var o = y * width * 3
                for x in 0..<width {
                    let pixel = row[x]
                    out[o] = UInt8(truncatingIfNeeded: pixel >> 16)
                    out[o + 1] = UInt8(truncatingIfNeeded: pixel >> 8)
                    out[o + 2] = UInt8(truncatingIfNeeded: pixel)
                    o += 3
                }
            }
        }
        return rgb
    }

    // MARK: Files

    /// Writes the picture as an RGB PNG at `url`: encoded in memory, then written to a temporary
    /// file in the same folder, flushed to disk and renamed over `url` (`MappedFile.writeAtomically`),
    /// so a failure or a crash never leaves a half-written picture.
    func writePNG(to url: URL) throws {
        let path = url.path
        let png = try encodePNG(path: path)
        do {
            try MappedFile.writeAtomically(to: url) { write in try png.withUnsafeBytes { try write($0) } }
        } catch let CheckpointError.io(_, detail) {
            throw RenderError.writeFailed(path: path, reason: detail)
        }
    }

    /// The picture's PNG bytes (`path` only names the picture in errors).
    private func encodePNG(path: String) throws -> [UInt8] {
        try cairoCheck(cairo_status(context), "drawing")
        cairo_surface_flush(surface)
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        let status = withExtendedLifetime(sink) { () -> cairo_status_t in
            cairo_surface_write_to_png_stream(surface, { closure, data, length in
                guard let closure else { return CAIRO_STATUS_WRITE_ERROR }
                let sink = Unmanaged<Sink>.fromOpaque(closure).takeUnretainedValue()
                if length > 0, let data { sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length))) }
                return CAIRO_STATUS_SUCCESS
            }, Unmanaged.passUnretained(sink).toOpaque())
        }
        guard status == CAIRO_STATUS_SUCCESS else {
            throw RenderError.writeFailed(path: path, reason: "cairo_surface_write_to_png_stream: \(cairoDescription(status))")
        }
        return sink.bytes
    }

    /// Reads a PNG with cairo; returns its size and its pixels as row-major HWC RGB bytes
    /// (any alpha channel is dropped).
    static func readPNG(at url: URL) throws -> (width: Int, height: Int, rgb: [UInt8]) {
        guard let surface = cairo_image_surface_create_from_png(url.path) else {
            throw RenderError.readFailed(path: url.path, reason: "cairo_image_surface_create_from_png returned no surface")
        }
        defer { cairo_surface_destroy(surface) }
        let status = cairo_surface_status(surface)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw RenderError.readFailed(path: url.path, reason: "cairo_image_surface_create_from_png: \(cairoDescription(status))")
        }
        let format = cairo_image_surface_get_format(surface)
        guard format == CAIRO_FORMAT_RGB24 || format == CAIRO_FORMAT_ARGB32 else {
            throw RenderError.readFailed(path: url.path, reason: "cairo decoded it to pixel format \(format.rawValue), not RGB24 or ARGB32")
        }
        cairo_surface_flush(surface)
        let width = Int(cairo_image_surface_get_width(surface)), height = Int(cairo_image_surface_get_height(surface))
        guard let data = cairo_image_surface_get_data(surface) else {
            throw RenderError.readFailed(path: url.path, reason: "cairo_image_surface_get_data returned no pixels")
        }
        let rgb = unpackRGB(data: data, stride: Int(cairo_image_surface_get_stride(surface)), width: width, height: height)
        return (width, height, rgb)
    }

    // MARK: Drawing

    private func setColor(_ color: DrawColor, alpha: Double = 1) {
        cairo_set_source_rgba(context, color.red, color.green, color.blue, alpha)
    }

    /// Strokes the outline of the rectangle `[x0, x1] x [y0, y1]`, the line centred on it.
    func strokeRectangle(x0: Double, y0: Double, x1: Double, y1: Double, color: DrawColor, alpha: Double, lineWidth: Double) {
        cairo_new_path(context)
        cairo_rectangle(context, x0, y0, x1 - x0, y1 - y0)
        setColor(color, alpha: alpha)
        cairo_set_line_width(context, lineWidth)
        cairo_set_line_join(context, CAIRO_LINE_JOIN_MITER)
        cairo_stroke(context)
    }

    /// Fills the region inside `loops` (even-odd rule, so holes stay open) translucently,
    /// then strokes the loops opaquely.
    func drawRegion(_ loops: [[MaskOutline.Vertex]], fill: DrawColor, fillAlpha: Double, edge: DrawColor, lineWidth: Double) {
        cairo_new_path(context)
        for loop in loops {
            guard let first = loop.first else { continue }
            cairo_move_to(context, Double(first.x), Double(first.y))
            for vertex in loop.dropFirst() { cairo_line_to(context, Double(vertex.x), Double(vertex.y)) }
            cairo_close_path(context)
        }
        cairo_set_fill_rule(context, CAIRO_FILL_RULE_EVEN_ODD)
        setColor(fill, alpha: fillAlpha)
        cairo_fill_preserve(context)
        setColor(edge)
        cairo_set_line_width(context, lineWidth)
        cairo_set_line_join(context, CAIRO_LINE_JOIN_MITER)
        cairo_stroke(context)
    }

    /// A filled disc with an outline of `edgeWidth` in the same colour (matplotlib's `Circle(color=)`).
    func fillCircle(x: Double, y: Double, radius: Double, color: DrawColor, edgeWidth: Double) {
        cairo_new_path(context)
        cairo_arc(context, x, y, radius, 0, 2 * Double.pi)
        setColor(color)
        cairo_fill_preserve(context)
        cairo_set_line_width(context, edgeWidth)
        cairo_stroke(context)
    }

    /// A straight opaque line with square caps (matplotlib's default `projecting` cap).
    func strokeLine(x0: Double, y0: Double, x1: Double, y1: Double, color: DrawColor, lineWidth: Double) {
        cairo_new_path(context)
        cairo_move_to(context, x0, y0)
        cairo_line_to(context, x1, y1)
        setColor(color)
        cairo_set_line_width(context, lineWidth)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_SQUARE)
        cairo_stroke(context)
        cairo_set_line_cap(context, CAIRO_LINE_CAP_BUTT)
    }

    /// Draws `text` with its top-left corner at `(x, top)` on a black box of opacity
    /// `backgroundAlpha` reaching `padding` pixels beyond the text, as detectron2's `draw_text`
    /// does with matplotlib (`verticalalignment="top"`, `horizontalalignment="left"`).
    /// The text's height is that of "lp" or of the text, whichever reaches further, as matplotlib
    /// measures it, so labels of one size line up.
    func drawLabel(_ text: String, x: Double, top: Double, fontSize: Double, color: DrawColor, backgroundAlpha: Double, padding: Double) {
        cairo_set_font_size(context, fontSize)
        var ink = cairo_text_extents_t()
        var reference = cairo_text_extents_t()
        cairo_text_extents(context, text, &ink)
        cairo_text_extents(context, "lp", &reference)
        let ascent = -min(ink.y_bearing, reference.y_bearing)
        let descent = max(ink.y_bearing + ink.height, reference.y_bearing + reference.height)
        let textWidth = max(ink.x_advance, ink.x_bearing + ink.width)

        cairo_new_path(context)
        cairo_rectangle(context, x - padding, top - padding, textWidth + 2 * padding, ascent + descent + 2 * padding)
        setColor(.black, alpha: backgroundAlpha)
        cairo_fill(context)

        cairo_new_path(context)
        cairo_move_to(context, x, top + ascent)
        setColor(color)
        cairo_show_text(context, text)
        cairo_new_path(context)
    }
}

/// A colour with channels in `[0, 1]`, the form cairo takes.
struct DrawColor: Sendable, Equatable {
    var red: Double
    var green: Double
    var blue: Double

    init(_ red: Double, _ green: Double, _ blue: Double) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    init(_ color: RGBColor) {
        self.init(Double(color.red) / 255, Double(color.green) / 255, Double(color.blue) / 255)
    }

    static let red = DrawColor(1, 0, 0)
    static let black = DrawColor(0, 0, 0)

    /// A lighter (`factor > 0`) or darker (`factor < 0`) colour: detectron2's
    /// `Visualizer._change_color_brightness`, which scales the HLS lightness by `1 + factor`.
    func changingBrightness(by factor: Double) -> DrawColor {
        precondition(factor >= -1 && factor <= 1, "brightness factor must be in [-1, 1], got \(factor)")
        let (h, l, s) = HLS.fromRGB(red, green, blue)
        let lightness = min(max(l + factor * l, 0), 1)
        let (r, g, b) = HLS.toRGB(h, lightness, s)
        return DrawColor(min(max(r, 0), 1), min(max(g, 0), 1), min(max(b, 0), 1))
    }

    /// The colour a label's text gets on its dark background: detectron2's `draw_text` raises
    /// every channel to at least 0.2 and the strongest one to at least 0.8.
    var readableOnBlack: DrawColor {
        var channels = [max(red, 0.2), max(green, 0.2), max(blue, 0.2)]
        // numpy's argmax: the first of equal maxima.
        var strongest = 0
        for i in 1..<3 where channels[i] > channels[strongest] { strongest = i }
        channels[strongest] = max(0.8, channels[strongest])
        return DrawColor(channels[0], channels[1], channels[2])
    }
}

/// detectron2's `detectron2/utils/colormap.py` table (Detectron's colours without the greys),
/// RGB in `[0, 1]`.
enum Colormap {
    static let colors: [DrawColor] = table.map { DrawColor($0.0, $0.1, $0.2) }

    /// The colormap entry for a class index, wrapping around after 74 classes.
    static func color(forClass classIndex: Int) -> DrawColor {
        let n = colors.count
        return colors[((classIndex % n) + n) % n]
    }

    private static let table: [(Double, Double, Double)] = [
        (0.000, 0.447, 0.741), (0.850, 0.325, 0.098), (0.929, 0.694, 0.125), (0.494, 0.184, 0.556),
        (0.466, 0.674, 0.188), (0.301, 0.745, 0.933), (0.635, 0.078, 0.184), (0.300, 0.300, 0.300),
        (0.600, 0.600, 0.600), (1.000, 0.000, 0.000), (1.000, 0.500, 0.000), (0.749, 0.749, 0.000),
        (0.000, 1.000, 0.000), (0.000, 0.000, 1.000), (0.667, 0.000, 1.000), (0.333, 0.333, 0.000),
        (0.333, 0.667, 0.000), (0.333, 1.000, 0.000), (0.667, 0.333, 0.000), (0.667, 0.667, 0.000),
        (0.667, 1.000, 0.000), (1.000, 0.333, 0.000), (1.000, 0.667, 0.000), (1.000, 1.000, 0.000),
        (0.000, 0.333, 0.500), (0.000, 0.667, 0.500), (0.000, 1.000, 0.500), (0.333, 0.000, 0.500),
        (0.333, 0.333, 0.500), (0.333, 0.667, 0.500), (0.333, 1.000, 0.500), (0.667, 0.000, 0.500),
        (0.667, 0.333, 0.500), (0.667, 0.667, 0.500), (0.667, 1.000, 0.500), (1.000, 0.000, 0.500),
        (1.000, 0.333, 0.500), (1.000, 0.667, 0.500), (1.000, 1.000, 0.500), (0.000, 0.333, 1.000),
        (0.000, 0.667, 1.000), (0.000, 1.000, 1.000), (0.333, 0.000, 1.000), (0.333, 0.333, 1.000),
        (0.333, 0.667, 1.000), (0.333, 1.000, 1.000), (0.667, 0.000, 1.000), (0.667, 0.333, 1.000),
        (0.667, 0.667, 1.000), (0.667, 1.000, 1.000), (1.000, 0.000, 1.000), (1.000, 0.333, 1.000),
        (1.000, 0.667, 1.000), (0.333, 0.000, 0.000), (0.500, 0.000, 0.000), (0.667, 0.000, 0.000),
        (0.833, 0.000, 0.000), (1.000, 0.000, 0.000), (0.000, 0.167, 0.000), (0.000, 0.333, 0.000),
        (0.000, 0.500, 0.000), (0.000, 0.667, 0.000), (0.000, 0.833, 0.000), (0.000, 1.000, 0.000),
        (0.000, 0.000, 0.167), (0.000, 0.000, 0.333), (0.000, 0.000, 0.500), (0.000, 0.000, 0.667),
        (0.000, 0.000, 0.833), (0.000, 0.000, 1.000), (0.000, 0.000, 0.000), (0.143, 0.143, 0.143),
        (0.857, 0.857, 0.857), (1.000, 1.000, 1.000),
    ]
}

/// Python's `colorsys` HLS conversions, which detectron2's brightness change goes through.
enum HLS {
    static func fromRGB(_ r: Double, _ g: Double, _ b: Double) -> (h: Double, l: Double, s: Double) {
        let maxc = max(r, g, b), minc = min(r, g, b)
        let sumc = maxc + minc, rangec = maxc - minc
        let l = sumc / 2
        if minc == maxc { return (0, l, 0) }
        let s = l <= 0.5 ? rangec / sumc : rangec / (2 - maxc - minc)
        let rc = (maxc - r) / rangec, gc = (maxc - g) / rangec, bc = (maxc - b) / rangec
        var h: Double
        if r == maxc {
            h = bc - gc
        } else if g == maxc {
            h = 2 + rc - bc
        } else {
            h = 4 + gc - rc
        }
        h = h / 6
        h -= h.rounded(.down)  // Python's `(h / 6.0) % 1.0`
        return (h, l, s)
    }

    static func toRGB(_ h: Double, _ l: Double, _ s: Double) -> (r: Double, g: Double, b: Double) {
        if s == 0 { return (l, l, l) }
        let m2 = l <= 0.5 ? l * (1 + s) : l + s - l * s
        let m1 = 2 * l - m2
        return (value(m1, m2, h + 1 / 3), value(m1, m2, h), value(m1, m2, h - 1 / 3))
    }

    private static func value(_ m1: Double, _ m2: Double, _ hue: Double) -> Double {
        var h = hue
        h -= h.rounded(.down)
        if h < 1 / 6 { return m1 + (m2 - m1) * h * 6 }
        if h < 0.5 { return m2 }
        if h < 2 / 3 { return m1 + (m2 - m1) * (2 / 3 - h) * 6 }
        return m1
    }
}

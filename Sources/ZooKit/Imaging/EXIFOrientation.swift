/// The EXIF orientation tag (0x0112) and the transposition detectron2 applies for it.
///
/// Follows detectron2's `_apply_exif_orientation` (detection_utils.py): values 2...8 map to
/// PIL's `Image.transpose` methods; a missing, unknown or unreadable tag leaves the image as is
/// (detectron2 swallows EXIF errors too).
public enum EXIFOrientation: Int, Sendable, CaseIterable {
    /// 1: stored upright.
    case up = 1
    /// 2: PIL `FLIP_LEFT_RIGHT`.
    case flipLeftRight = 2
    /// 3: PIL `ROTATE_180`.
    case rotate180 = 3
    /// 4: PIL `FLIP_TOP_BOTTOM`.
    case flipTopBottom = 4
    /// 5: PIL `TRANSPOSE` (mirror over the main diagonal).
    case transpose = 5
    /// 6: PIL `ROTATE_270` (90 degrees clockwise).
    case rotate270 = 6
    /// 7: PIL `TRANSVERSE` (mirror over the anti-diagonal).
    case transverse = 7
    /// 8: PIL `ROTATE_90` (90 degrees counter-clockwise).
    case rotate90 = 8

    /// The orientation stored in a JPEG's first `Exif` APP1 segment, or nil.
    static func fromJPEG(_ bytes: [UInt8]) -> EXIFOrientation? {
        guard let tiff = jpegEXIFPayload(bytes) else { return nil }
        return fromTIFF(tiff)
    }

    /// Walks the JPEG markers up to the first scan and returns the TIFF data of the first APP1
    /// segment that starts with `Exif\0\0` (the one PIL reads).
    static func jpegEXIFPayload(_ b: [UInt8]) -> ArraySlice<UInt8>? {
        guard b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var i = 2
        while i + 1 < b.count {
            guard b[i] == 0xFF else { return nil }
            var m = i + 1
            while m < b.count, b[m] == 0xFF { m += 1 }  // fill bytes
            guard m < b.count else { return nil }
            let marker = b[m]
            i = m + 1
            if marker == 0x01 || (0xD0...0xD8).contains(marker) { continue }  // standalone markers
            if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan / end of image
            guard i + 1 < b.count else { return nil }
            let length = Int(b[i]) << 8 | Int(b[i + 1])
            guard length >= 2, i + length <= b.count else { return nil }
            let payload = b[(i + 2)..<(i + length)]
            let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
            if marker == 0xE1, payload.count >= 6, payload.prefix(6).elementsEqual(exifHeader) {
                return payload.dropFirst(6)
            }
            i += length
        }
        return nil
    }

    /// The orientation tag of IFD0 in TIFF-structured EXIF data (JPEG APP1 after `Exif\0\0`,
    /// or a PNG eXIf chunk), or nil when absent, malformed or not a single value in 1...8.
    static func fromTIFF(_ data: ArraySlice<UInt8>) -> EXIFOrientation? {
        let t = Array(data)
        guard t.count >= 8 else { return nil }
        let little: Bool
        switch (t[0], t[1]) {
        case (0x49, 0x49): little = true  // "II"
        case (0x4D, 0x4D): little = false  // "MM"
        default: return nil
        }
        func u16(_ o: Int) -> Int? {
            guard o >= 0, o + 2 <= t.count else { return nil }
            return little ? Int(t[o]) | Int(t[o + 1]) << 8 : Int(t[o]) << 8 | Int(t[o + 1])
        }
        func u32(_ o: Int) -> Int? {
            guard let a = u16(o), let b = u16(o + 2) else { return nil }
            return little ? a | b << 16 : a << 16 | b
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return nil }
        for e in 0..<count {
            let entry = ifd + 2 + 12 * e
            guard let tag = u16(entry), let type = u16(entry + 2), let n = u32(entry + 4) else { return nil }
            guard tag == 0x0112 else { continue }
            guard n == 1 else { return nil }
            let value: Int?
            switch type {
            case 3: value = u16(entry + 8)  // SHORT
            case 4: value = u32(entry + 8)  // LONG
            default: value = nil
            }
            return value.flatMap { EXIFOrientation(rawValue: $0) }
        }
        return nil
    }
}

extension Image8 {
    /// The image transposed as PIL's `Image.transpose` does for `orientation`
    /// (detectron2's `_apply_exif_orientation`).
    public func applying(_ orientation: EXIFOrientation) -> Image8 {
        let w = width, h = height
        // Output pixel (r, c) reads input pixel base + r * dr + c * dc (pixel indices).
        let swapsAxes: Bool
        let base: Int, dr: Int, dc: Int
        switch orientation {
        case .up: return self
        case .flipLeftRight: (swapsAxes, base, dr, dc) = (false, w - 1, w, -1)
        case .rotate180: (swapsAxes, base, dr, dc) = (false, (h - 1) * w + w - 1, -w, -1)
        case .flipTopBottom: (swapsAxes, base, dr, dc) = (false, (h - 1) * w, -w, 1)
        case .transpose: (swapsAxes, base, dr, dc) = (true, 0, 1, w)
        case .rotate90: (swapsAxes, base, dr, dc) = (true, w - 1, -1, w)
        case .rotate270: (swapsAxes, base, dr, dc) = (true, (h - 1) * w, 1, -w)
        case .transverse: (swapsAxes, base, dr, dc) = (true, (h - 1) * w + w - 1, -1, -w)
        }
        let ow = swapsAxes ? h : w, oh = swapsAxes ? w : h
        var out = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                var o = 0
                for r in 0..<oh {
                    var p = base + r * dr
                    for _ in 0..<ow {
                        dst[o] = src[3 * p]
                        dst[o + 1] = src[3 * p + 1]
                        dst[o + 2] = src[3 * p + 2]
                        o += 3
                        p += dc
                    }
                }
            }
        }
        return Image8(width: ow, height: oh, channelOrder: channelOrder, pixels: out)
    }
}

/// COCO run-length encoding of a binary mask, as pycocotools writes it: runs over the pixels in
/// column-major order, alternating 0s and 1s and starting with a (possibly empty) run of 0s.
///
/// Encoded in JSON as `{"size": [h, w], "counts": "<compact string>"}` (`maskUtils.encode`).
public struct MaskRLE: Sendable, Equatable, Codable {
    /// Mask height in pixels.
    public var height: Int
    /// Mask width in pixels.
    public var width: Int
    /// Run lengths, column-major, first run counts 0s.
    public var counts: [UInt32]

    /// An RLE from explicit runs.
    public init(height: Int, width: Int, counts: [UInt32]) {
        self.height = height
        self.width = width
        self.counts = counts
    }

    /// pycocotools' `rleEncode` of `mask`.
    public init(mask: BitMask) {
        height = mask.height
        width = mask.width
        let h = mask.height, w = mask.width
        var runs = RunBuilder()
        mask.bits.withUnsafeBufferPointer { bits in
            // Only the rectangle holding set pixels is walked column-major (a strided, cache-hostile
            // walk); everything around it is zeros, added as whole runs.
            var minX = w, maxX = -1, minY = h, maxY = -1
            for y in 0..<h {
                let row = UnsafeBufferPointer(rebasing: bits[(y * w)..<((y + 1) * w)])
                guard let first = row.firstIndex(where: { $0 != 0 }) else { continue }
                let last = row.lastIndex(where: { $0 != 0 }) ?? first
                minX = min(minX, first); maxX = max(maxX, last)
                minY = min(minY, y); maxY = y
            }
            guard maxX >= 0 else {
                runs.add(0, count: h * w)
                return
            }
            runs.add(0, count: minX * h)
            for x in minX...maxX {
                runs.add(0, count: minY)
                for y in minY...maxY { runs.add(bits[y * w + x] != 0 ? 1 : 0, count: 1) }
                runs.add(0, count: h - 1 - maxY)
            }
            runs.add(0, count: (w - 1 - maxX) * h)
        }
        counts = runs.finish()
    }

    /// Accumulates alternating runs starting with 0s, as `rleEncode` emits them.
    private struct RunBuilder {
        var runs: [UInt32] = []
        var current: UInt8 = 0
        var run = 0

        mutating func add(_ bit: UInt8, count: Int) {
            guard count > 0 else { return }
            if bit != current {
                runs.append(UInt32(run))
                run = 0
                current = bit
            }
            run += count
        }

        mutating func finish() -> [UInt32] {
            runs.append(UInt32(run))
            return runs
        }
    }

    /// pycocotools' `rleFrString`: decodes the compact `counts` string.
    public init(height: Int, width: Int, compactCounts: String) throws {
        let bytes = Array(compactCounts.utf8)
        var runs: [UInt32] = []
        var p = 0
        while p < bytes.count {
            let start = p
            var x: Int64 = 0
            var k: Int64 = 0
            var more = true
            while more {
                guard p < bytes.count else {
                    throw GeometryError.malformedRLE(counts: compactCounts, offset: start, reason: "the string ends inside a run")
                }
                let c = Int64(bytes[p]) - 48
                guard c >= 0 && c < 64 else {
                    throw GeometryError.malformedRLE(counts: compactCounts, offset: p, reason: "character outside '0'...'o'")
                }
                guard k < 12 else {
                    throw GeometryError.malformedRLE(counts: compactCounts, offset: start, reason: "run length too long")
                }
                x |= (c & 0x1f) << (5 * k)
                more = (c & 0x20) != 0
                p += 1
                k += 1
                if !more && (c & 0x10) != 0 { x |= -1 << (5 * k) }
            }
            if runs.count > 2 { x += Int64(runs[runs.count - 2]) }
            guard x >= 0 && x <= Int64(UInt32.max) else {
                throw GeometryError.malformedRLE(counts: compactCounts, offset: start, reason: "negative or oversized run \(x)")
            }
            runs.append(UInt32(x))
        }
        let total = runs.reduce(0) { $0 + Int($1) }
        guard total == height * width else {
            throw GeometryError.rleSizeMismatch(height: height, width: width, pixels: total)
        }
        self.init(height: height, width: width, counts: runs)
    }

    /// pycocotools' `rleToString`: runs after the third are stored as differences to the run two
    /// before, each value as 5-bit groups (low first) with a continuation bit, offset by 48.
    public var compactCounts: String {
        var out: [UInt8] = []
        for (i, run) in counts.enumerated() {
            var x = Int64(run)
            if i > 2 { x -= Int64(counts[i - 2]) }
            var more = true
            while more {
                var c = UInt8(truncatingIfNeeded: x & 0x1f)
                x >>= 5
                more = (c & 0x10) != 0 ? x != -1 : x != 0
                if more { c |= 0x20 }
                out.append(c + 48)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Number of set pixels (pycocotools' `area`).
    public var area: Int {
        stride(from: 1, to: counts.count, by: 2).reduce(0) { $0 + Int(counts[$1]) }
    }

    /// The mask these runs describe (`rleDecode`), row-major.
    public func decoded() -> BitMask {
        var bits = [UInt8](repeating: 0, count: height * width)
        var pixel = 0
        var value: UInt8 = 0
        for run in counts {
            for _ in 0..<Int(run) where pixel < height * width {
                if value == 1 {
                    let x = pixel / height, y = pixel % height
                    bits[y * width + x] = 1
                }
                pixel += 1
            }
            value ^= 1
        }
        return BitMask(width: width, height: height, bits: bits)
    }

    private enum CodingKeys: String, CodingKey { case size, counts }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let size = try container.decode([Int].self, forKey: .size)
        guard size.count == 2, size[0] >= 0, size[1] >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .size, in: container,
                                                   debugDescription: "COCO RLE size must be [height, width], got \(size)")
        }
        let string = try container.decode(String.self, forKey: .counts)
        try self.init(height: size[0], width: size[1], compactCounts: string)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode([height, width], forKey: .size)
        try container.encode(compactCounts, forKey: .counts)
    }
}

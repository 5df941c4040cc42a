import Testing
@testable import ZooKit

@Suite("MaskOutline")
struct MaskOutlineTests {
    /// Naive reference: a pixel is inside when a ray from its centre to the right crosses the
    /// loops' vertical edges an odd number of times (the even-odd rule cairo fills with).
    static func rasterize(_ outline: MaskOutline, width: Int, height: Int) -> [UInt8] {
        var bits = [UInt8](repeating: 0, count: width * height)
        for y in 0..<height {
            let cy = Double(y) + 0.5
            for x in 0..<width {
                let cx = Double(x) + 0.5
                var crossings = 0
                for loop in outline.loops {
                    for (i, a) in loop.enumerated() {
                        let b = loop[(i + 1) % loop.count]
                        guard a.x == b.x, Double(a.x) > cx else { continue }
                        if (Double(a.y) < cy) != (Double(b.y) < cy) { crossings += 1 }
                    }
                }
                bits[y * width + x] = UInt8(crossings % 2)
            }
        }
        return bits
    }

    static func signedArea(_ loop: [MaskOutline.Vertex]) -> Int {
        var twice = 0
        for (i, a) in loop.enumerated() {
            let b = loop[(i + 1) % loop.count]
            twice += a.x * b.y - b.x * a.y
        }
        return twice / 2
    }

    static func mask(_ rows: [String]) -> BitMask {
        let width = rows.first?.count ?? 0
        return BitMask(width: width, height: rows.count, bits: rows.flatMap { $0.map { $0 == "#" ? UInt8(1) : 0 } })
    }

    @Test("every loop edge is axis-aligned and consecutive corners differ")
    func loopsAreRectilinear() {
        let outline = MaskOutline(tracing: Self.mask(["..##.", ".###.", "#.#..", "....#"]))
        #expect(!outline.loops.isEmpty)
        for loop in outline.loops {
            #expect(loop.count >= 4)
            for (i, a) in loop.enumerated() {
                let b = loop[(i + 1) % loop.count]
                #expect((a.x == b.x) != (a.y == b.y), "edge \(a) -> \(b) is not horizontal or vertical")
            }
        }
    }

    @Test("filling the loops even-odd gives back exactly the mask, on random masks")
    func fillReproducesRandomMasks() {
        var generator = SeededRandom(seed: 6)
        for trial in 0..<200 {
            let width = Int.random(in: 1...17, using: &generator)
            let height = Int.random(in: 1...13, using: &generator)
            let density = Double.random(in: 0.1...0.9, using: &generator)
            let bits = (0..<(width * height)).map { _ in Double.random(in: 0..<1, using: &generator) < density ? UInt8(1) : 0 }
            let mask = BitMask(width: width, height: height, bits: bits)
            let outline = MaskOutline(tracing: mask)
            #expect(Self.rasterize(outline, width: width, height: height) == bits, "trial \(trial): \(width)x\(height)")
        }
    }

    @Test("an empty mask has no loops; one pixel has one square loop")
    func emptyAndSinglePixel() {
        #expect(MaskOutline(tracing: Self.mask(["...", "..."])).loops.isEmpty)
        let single = MaskOutline(tracing: Self.mask(["...", ".#.", "..."]))
        #expect(single.loops.count == 1)
        #expect(single.loops.first.map { Set($0.map { [$0.x, $0.y] }) } == [[1, 1], [2, 1], [2, 2], [1, 2]])
    }

    @Test("a ring gives an outer loop and a hole loop of opposite orientation")
    func holeHasOppositeOrientation() {
        let outline = MaskOutline(tracing: Self.mask(["#####", "#...#", "#...#", "#####"]))
        #expect(outline.loops.count == 2)
        let areas = outline.loops.map(Self.signedArea).sorted()
        // y grows downwards, so the clockwise-on-screen outer loop has positive signed area.
        #expect(areas == [-6, 20])
    }

    @Test("pixels touching only at a corner are separate loops")
    func diagonalNeighboursAreSeparate() {
        let outline = MaskOutline(tracing: Self.mask(["#.", ".#"]))
        #expect(outline.loops.count == 2)
        #expect(outline.loops.allSatisfy { Self.signedArea($0) == 1 })
    }
}

/// SplitMix64, so random tests repeat.

import Foundation
import Testing
import ZooKit

/// Mask pasting, keypoint decoding and COCO RLE against naive references and the goldens.
@Suite("Masks, keypoints and RLE")
struct MaskKeypointTests {
    typealias F = GeometryFixtures

    /// The fixtures README's formula for one image pixel: sample the M x M map bilinearly (zero
    /// padding) at `u = (x + 0.5 - x0) / (x1 - x0) * M - 0.5`, in double precision.
    static func naivePaste(_ mask: [Float], m: Int, box: Box, height: Int, width: Int) -> [UInt8] {
        var bits = [UInt8](repeating: 0, count: height * width)
        func at(_ y: Int, _ x: Int) -> Double { y >= 0 && y < m && x >= 0 && x < m ? Double(mask[y * m + x]) : 0 }
        for py in 0..<height {
            let v = (Double(py) + 0.5 - Double(box.y0)) / (Double(box.y1) - Double(box.y0)) * Double(m) - 0.5
            for px in 0..<width {
                let u = (Double(px) + 0.5 - Double(box.x0)) / (Double(box.x1) - Double(box.x0)) * Double(m) - 0.5
                let x0 = Int(floor(u)), y0 = Int(floor(v))
                let fx = u - floor(u), fy = v - floor(v)
                let value = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1))
                if value >= 0.5 { bits[py * width + px] = 1 }
            }
        }
        return bits
    }

    @Test("pasteMasksInImage equals the README's grid_sample formula")
    func paste() {
        var rng = SeededRandom(seed: 21)
        let m = 28, n = 6, height = 70, width = 90
        // Smooth-ish maps: a random blob plus noise, so masks have interiors and borders.
        var values: [Float] = []
        for _ in 0..<n {
            let cx = Float.random(in: 5...23, using: &rng), cy = Float.random(in: 5...23, using: &rng)
            for y in 0..<m {
                for x in 0..<m {
                    let d = ((Float(x) - cx) * (Float(x) - cx) + (Float(y) - cy) * (Float(y) - cy)).squareRoot()
                    values.append(1 / (1 + exp((d - 8) / 2)) + Float.random(in: -0.1...0.1, using: &rng))
                }
            }
        }
        let boxes = [Box(x0: 3.3, y0: 4.7, x1: 40.2, y1: 60.1), Box(x0: 0, y0: 0, x1: 90, y1: 70),
                     Box(x0: 60.5, y0: 10.25, x1: 89.9, y1: 30.5), Box(x0: 20, y0: 30, x1: 22.5, y1: 33),
                     Box(x0: 44.4, y0: 0.1, x1: 80.8, y1: 69.9), Box(x0: 10, y0: 50, x1: 70, y1: 55)]
        let masks = pasteMasksInImage(Tensor(shape: [n, m, m], scalars: values), boxes: boxes, imageHeight: height, imageWidth: width)
        #expect(masks.count == n)
        for i in 0..<n {
            let ref = Self.naivePaste(Array(values[(i * m * m)..<((i + 1) * m * m)]), m: m, box: boxes[i], height: height, width: width)
            let differing = zip(masks[i].bits, ref).filter { $0 != $1 }.count
            // float32 vs double can only flip pixels whose value is within ~1e-6 of 0.5.
            #expect(differing <= 2, "mask \(i): \(differing) pixels differ from the reference")
            #expect(masks[i].area > 0)
        }
    }

    /// PyTorch's bicubic resize (a = -0.75, align_corners=False, border-clamped taps) written as a
    /// direct 4 x 4 sum per output pixel, in double precision.
    static func naiveBicubic(_ map: [Float], _ s: Int, outH: Int, outW: Int) -> [Double] {
        func cubic(_ x: Double) -> Double {
            let a = -0.75, x = abs(x)
            if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
            return 0
        }
        func taps(_ o: Int, _ out: Int) -> [(Int, Double)] {
            let real = Double(s) / Double(out) * (Double(o) + 0.5) - 0.5
            let i = min(Int(floor(real)), s - 1)
            let t = min(max(real - Double(i), 0), 1)
            return (0..<4).map { j in (min(max(i - 1 + j, 0), s - 1), cubic(t - Double(j - 1))) }
        }
        var out = [Double](repeating: 0, count: outH * outW)
        for oy in 0..<outH {
            let ty = taps(oy, outH)
            for ox in 0..<outW {
                let tx = taps(ox, outW)
                var v = 0.0
                for (yi, wy) in ty { for (xi, wx) in tx { v += wy * wx * Double(map[yi * s + xi]) } }
                out[oy * outW + ox] = v
            }
        }
        return out
    }

    @Test("heatmapsToKeypoints equals a direct bicubic / argmax / softmax reference")
    func keypoints() {
        var rng = SeededRandom(seed: 31)
        let s = 56, k = 3
        let boxes = [Box(x0: 10.2, y0: 20.7, x1: 73.9, y1: 120.3), Box(x0: 5, y0: 5, x1: 5.4, y1: 30),
                     Box(x0: 100, y0: 40, x1: 130.5, y1: 52.25), Box(x0: 0, y0: 0, x1: 200, y1: 180)]
        let values = (0..<(boxes.count * k * s * s)).map { _ in Float.random(in: -3...3, using: &rng) }
        let result = heatmapsToKeypoints(Tensor(shape: [boxes.count, k, s, s], scalars: values), boxes: boxes)
        #expect(result.count == boxes.count)
        for (r, box) in boxes.enumerated() {
            let w = max(Double(box.x1 - box.x0), 1), h = max(Double(box.y1 - box.y0), 1)
            let outW = Int(ceil(w)), outH = Int(ceil(h))
            for j in 0..<k {
                let map = Array(values[((r * k + j) * s * s)..<((r * k + j + 1) * s * s)])
                let resized = Self.naiveBicubic(map, s, outH: outH, outW: outW)
                let best = resized.indices.max { resized[$0] < resized[$1] || (resized[$0] == resized[$1] && $0 > $1) } ?? 0
                let m = resized[best]
                let score = 1 / map.reduce(0.0) { $0 + exp(Double($1) - m) }
                let x = (Double(best % outW) + 0.5) * w / Double(outW) + Double(box.x0)
                let y = (Double(best / outW) + 0.5) * h / Double(outH) + Double(box.y0)
                let kp = result[r][j]
                #expect(abs(Double(kp.x) - x) <= 1e-4 && abs(Double(kp.y) - y) <= 1e-4, "box \(r) keypoint \(j): (\(kp.x), \(kp.y)) vs (\(x), \(y))")
                #expect(abs(Double(kp.logit) - m) <= 1e-5 * max(abs(m), 1))
                #expect(abs(Double(kp.score) - score) <= 1e-5 * score)
            }
        }
    }

    static let maskGoldens = ["img1_320x480", "img2_457x333", "img3_640x427", "img4_gray_500x375", "img5_tiny_64x48", "img6_wide_960x300"]

    @Test("Golden mask_rle decodes and re-encodes to the identical string", arguments: maskGoldens)
    func goldenRLE(image: String) throws {
        let golden = try F.golden(F.maskModel, image)
        let instances = F.instances(golden)
        #expect(!instances.isEmpty)
        for inst in instances {
            let rle = inst["mask_rle"] as? [String: Any] ?? [:]
            let size = rle["size"] as? [Int] ?? []
            let counts = rle["counts"] as? String ?? ""
            let decoded = try MaskRLE(height: size[0], width: size[1], compactCounts: counts)
            let mask = decoded.decoded()
            #expect(mask.area == inst["mask_area"] as? Int)
            #expect(decoded.area == mask.area)
            let again = MaskRLE(mask: mask)
            #expect(again == decoded)
            #expect(again.compactCounts == counts)
            // And through Codable, as the JSON output will carry it.
            let json = try JSONEncoder().encode(again)
            let back = try JSONDecoder().decode(MaskRLE.self, from: json)
            #expect(back == decoded)
            let object = try JSONSerialization.jsonObject(with: json) as? [String: Any]
            #expect(object?["counts"] as? String == counts && object?["size"] as? [Int] == size)
        }
    }

    @Test("RLE round-trips random masks and counts column-major runs")
    func randomRLE() throws {
        var rng = SeededRandom(seed: 77)
        for (h, w) in [(1, 1), (7, 5), (40, 33), (3, 200)] {
            for density in [0.0, 0.05, 0.5, 0.97, 1.0] {
                let bits = (0..<(h * w)).map { _ in Double.random(in: 0..<1, using: &rng) < density ? UInt8(1) : 0 }
                let mask = BitMask(width: w, height: h, bits: bits)
                let rle = MaskRLE(mask: mask)
                // Reference runs: walk columns top to bottom, start counting zeros.
                var runs: [UInt32] = [], current: UInt8 = 0, run: UInt32 = 0
                for x in 0..<w { for y in 0..<h {
                    if bits[y * w + x] != current { runs.append(run); run = 0; current ^= 1 }
                    run += 1
                } }
                runs.append(run)
                #expect(rle.counts == runs)
                let parsed = try MaskRLE(height: h, width: w, compactCounts: rle.compactCounts)
                #expect(parsed.decoded() == mask)
                #expect(rle.area == mask.area)
            }
        }
        // pycocotools' string for a 2 x 2 mask with its last column set: runs [2, 2].
        #expect(MaskRLE(mask: BitMask(width: 2, height: 2, bits: [0, 1, 0, 1])).compactCounts == "22")
    }

    @Test("Malformed RLE strings are errors, not crashes")
    func malformedRLE() {
        #expect(throws: GeometryError.self) { try MaskRLE(height: 2, width: 2, compactCounts: "2") }
        #expect(throws: GeometryError.self) { try MaskRLE(height: 2, width: 2, compactCounts: "2\u{7f}") }
        #expect(throws: GeometryError.self) { try MaskRLE(height: 2, width: 2, compactCounts: "o") }
        #expect(throws: GeometryError.self) { try MaskRLE(height: 1, width: 1, compactCounts: "oooooooooooooo") }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(MaskRLE.self, from: Data(#"{"size":[2],"counts":"4"}"#.utf8)) }
    }
}

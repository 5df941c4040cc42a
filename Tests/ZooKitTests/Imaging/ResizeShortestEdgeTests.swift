import Foundation
import Testing
@testable import ZooKit

@Suite("ResizeShortestEdge and preprocess")
struct ResizeShortestEdgeTests {
    @Test("output size as detectron2's get_output_shape", arguments: ImagingFixtures.images)
    func outputShape(name: String) throws {
        let g = try ImagingFixtures.golden(name)
        let s = ResizeShortestEdge.outputShape(oldHeight: g.image_height, oldWidth: g.image_width,
                                               shortEdgeLength: g.preprocess.min_size_test, maxSize: g.preprocess.max_size_test)
        #expect(s.height == g.preprocess.resized_height && s.width == g.preprocess.resized_width)
    }

    @Test("output size at the zoo's 800/1333 and at rounding edges")
    func outputShapeCases() {
        // Values worked out by hand from the formula in the fixtures README, section 3.2.
        #expect(ResizeShortestEdge.outputShape(oldHeight: 480, oldWidth: 640, shortEdgeLength: 800, maxSize: 1333) == (800, 1067))
        #expect(ResizeShortestEdge.outputShape(oldHeight: 300, oldWidth: 960, shortEdgeLength: 800, maxSize: 1333) == (417, 1333))
        #expect(ResizeShortestEdge.outputShape(oldHeight: 3, oldWidth: 5, shortEdgeLength: 3, maxSize: 100) == (3, 5))
        #expect(ResizeShortestEdge.outputShape(oldHeight: 2, oldWidth: 3, shortEdgeLength: 3, maxSize: 100) == (3, 5))  // 4.5 rounds up
        #expect(ResizeShortestEdge.outputShape(oldHeight: 7, oldWidth: 7, shortEdgeLength: 10, maxSize: 8) == (8, 8))
    }

    @Test("resized pixels equal Pillow's (golden resized_sha256)", arguments: ImagingFixtures.images)
    func resizedPixels(name: String) throws {
        let g = try ImagingFixtures.golden(name)
        let image = try ImageDecoder.decode(contentsOf: ImagingFixtures.exactInputURL(name), format: "BGR")
        let resized = ResizeShortestEdge(shortEdgeLength: g.preprocess.min_size_test, maxSize: g.preprocess.max_size_test).apply(to: image)
        #expect(resized.height == g.preprocess.resized_height && resized.width == g.preprocess.resized_width)
        #expect(ImagingFixtures.sha256Hex(resized.planarBytes) == g.preprocess.resized_sha256)
    }

    @Test("resized pixels equal the intermediates' input.image_bgr_u8",
          arguments: [("tiny_mask_rcnn_R_50_FPN", "img6_wide_960x300.jpg"), ("tiny_keypoint_rcnn_R_50_FPN", "img3_640x427.png")])
    func intermediates(model: String, name: String) throws {
        let g = try ImagingFixtures.golden(name, model: model)
        let stem = (name as NSString).deletingPathExtension
        let url = TestSupport.fixtures.appendingPathComponent("intermediates/\(model)__\(stem).safetensors")
        let stored = try #require(try ImagingFixtures.safetensorsU8(url, name: "input.image_bgr_u8"))
        let image = try ImageDecoder.decode(contentsOf: ImagingFixtures.exactInputURL(name), format: "BGR")
        let resized = ResizeShortestEdge(shortEdgeLength: g.preprocess.min_size_test, maxSize: g.preprocess.max_size_test).apply(to: image)
        #expect(stored.shape == [3, resized.height, resized.width])
        #expect(stored.bytes == resized.planarBytes)
    }

    /// Pillow's filter written out directly from its definition (float weights per output
    /// sample, then fixed point), one axis at a time, for small random images.
    private func naiveAxis(_ input: [Int], inSize: Int, outSize: Int) -> [Int] {
        let scale = Double(inSize) / Double(outSize)
        let fs = max(scale, 1)
        return (0..<outSize).map { i in
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - fs + 0.5), 0), hi = min(Int(center + fs + 0.5), inSize)
            let w = (lo..<hi).map { j in max(0, 1 - abs((Double(j) - center + 0.5) / fs)) }
            let total = w.reduce(0, +)
            var acc = 1 << 21
            for (j, wj) in zip(lo..<hi, w) { acc += input[j] * Int((wj / total) * 4194304 + 0.5) }
            return min(max(acc >> 22, 0), 255)
        }
    }

    @Test("random images match a naive separable resampler", arguments: [(5, 9, 13, 4), (40, 31, 17, 29), (64, 48, 533, 400), (3, 3, 3, 3)])
    func randomAgainstNaive(w: Int, h: Int, ow: Int, oh: Int) {
        var rng = SystemRandomNumberGenerator()
        let pixels = (0..<(w * h * 3)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let image = Image8(width: w, height: h, channelOrder: .bgr, pixels: pixels)
        let out = image.resizedBilinear(width: ow, height: oh)
        // Horizontal first (skipped if the width is unchanged), then vertical.
        var mid = [[Int]](repeating: [], count: h * 3)
        for y in 0..<h { for c in 0..<3 {
            let row = (0..<w).map { Int(pixels[(y * w + $0) * 3 + c]) }
            mid[y * 3 + c] = ow == w ? row : naiveAxis(row, inSize: w, outSize: ow)
        } }
        for x in 0..<ow { for c in 0..<3 {
            let col = (0..<h).map { mid[$0 * 3 + c][x] }
            let res = oh == h ? col : naiveAxis(col, inSize: h, outSize: oh)
            for y in 0..<oh where Int(out.pixels[(y * ow + x) * 3 + c]) != res[y] {
                Issue.record("(\(x), \(y), \(c)): \(out.pixels[(y * ow + x) * 3 + c]) vs \(res[y])")
                return
            }
        } }
    }

    @Test("preprocess: normalised CHW float, zero padding after normalisation", arguments: ["img6_wide_960x300.jpg", "img4_gray_500x375.png"])
    func preprocessTensor(name: String) throws {
        let g = try ImagingFixtures.golden(name)
        let image = try ImageDecoder.decode(contentsOf: ImagingFixtures.exactInputURL(name), format: "BGR")
        let p = g.preprocess
        let out = preprocess(image: image, minSize: p.min_size_test, maxSize: p.max_size_test,
                             pixelMean: p.pixel_mean_bgr, pixelStd: [2, 4, 8], sizeDivisibility: 32)
        #expect(out.resizedHeight == p.resized_height && out.resizedWidth == p.resized_width)
        #expect(out.tensor.shape == [1, 3, p.padded_height, p.padded_width])
        let planes = ResizeShortestEdge(shortEdgeLength: p.min_size_test, maxSize: p.max_size_test).apply(to: image).planarBytes
        let (h, w, hp, wp) = (p.resized_height, p.resized_width, p.padded_height, p.padded_width)
        let std: [Float] = [2, 4, 8]
        var mismatches = 0
        for c in 0..<3 { for y in 0..<hp { for x in 0..<wp {
            let v = out.tensor.scalars[(c * hp + y) * wp + x]
            let want: Float = (y < h && x < w) ? (Float(planes[(c * h + y) * w + x]) - p.pixel_mean_bgr[c]) / std[c] : 0
            if v != want { mismatches += 1 }
        } } }
        #expect(mismatches == 0)
    }
}

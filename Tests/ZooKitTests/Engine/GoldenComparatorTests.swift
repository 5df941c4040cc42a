import Foundation
import Testing

/// The comparator must accept a golden against itself and reject real differences, or the
/// fixture tests that rely on it prove nothing.
@Suite struct GoldenComparatorTests {
    static func golden(_ name: String) throws -> [String: Any] {
        let url = TestSupport.fixtures.appendingPathComponent("golden/\(name).json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url))
        guard let dict = object as? [String: Any] else { throw GoldenComparator.ComparatorError("not an object: \(url.path)") }
        return dict
    }

    @Test(arguments: ["tiny_mask_rcnn_R_50_FPN__img3_640x427", "tiny_keypoint_rcnn_R_50_FPN__img3_640x427"])
    func goldenMatchesItself(name: String) throws {
        let g = try Self.golden(name)
        #expect(try GoldenComparator.compare(golden: g, candidate: g).isEmpty)
    }

    @Test func movedBoxAndScoreAreReported() throws {
        let g = try Self.golden("tiny_mask_rcnn_R_50_FPN__img3_640x427")
        var c = g
        var instances = try #require(c["instances"] as? [[String: Any]])
        var first = instances[0]
        first["score"] = (first["score"] as? Double ?? 0) - 0.01
        if var box = first["box_xyxy"] as? [Double] { box[0] += 1.0; first["box_xyxy"] = box }
        instances[0] = first
        c["instances"] = instances
        let errors = try GoldenComparator.compare(golden: g, candidate: c)
        #expect(errors.contains { $0.contains("dscore") })
        #expect(errors.contains { $0.contains("dbox") })
    }

    @Test func missingDetectionIsReported() throws {
        let g = try Self.golden("tiny_faster_rcnn_R_50_FPN__img1_320x480")
        var c = g
        var instances = try #require(c["instances"] as? [[String: Any]])
        instances.removeFirst()
        c["instances"] = instances
        #expect(try !GoldenComparator.compare(golden: g, candidate: c).isEmpty)
    }

    @Test func rleDecodeCoversTheImage() throws {
        let g = try Self.golden("tiny_mask_rcnn_R_50_FPN__img3_640x427")
        let instances = try #require(g["instances"] as? [[String: Any]])
        let first = try #require(instances.first)
        let rle = try #require(first["mask_rle"] as? [String: Any])
        let size = try #require(rle["size"] as? [Int])
        let mask = try GoldenComparator.decodeRLE(size: size, counts: try #require(rle["counts"] as? String))
        #expect(mask.filter { $0 }.count == first["mask_area"] as? Int)
    }
}

import Foundation
import Testing
import ZooKit

/// The geometry half of the engine against detectron2's own intermediates and goldens
/// (fixtures README 4-7): each stage is fed detectron2's inputs and must give its outputs.
@Suite("Geometry vs detectron2 fixtures")
struct GeometryFixtureTests {
    typealias F = GeometryFixtures

    static let cases: [(model: String, image: String)] = [(F.maskModel, F.maskImage), (F.keypointModel, F.keypointImage)]

    static let anchorGenerator = DefaultAnchorGenerator(
        sizes: [[32], [64], [128], [256], [512]], aspectRatios: [[0.5, 1, 2]], strides: [4, 8, 16, 32, 64])

    /// The model's box-head settings: pooler type per fixtures README 1.
    static func isKeypoint(_ model: String) -> Bool { model == F.keypointModel }

    static func proposals(_ i: F.Intermediates, resizedHeight: Int, resizedWidth: Int) throws -> RPNProposals {
        let (logits, deltas) = try F.rpnInputs(i)
        let anchors = anchorGenerator.gridAnchors(featureSizes: logits.map { ($0.shape[2], $0.shape[3]) })
        return findTopRPNProposals(
            objectnessLogits: logits, anchorDeltas: deltas, anchors: anchors,
            box2box: Box2BoxTransform(weights: [1, 1, 1, 1]), imageHeight: resizedHeight, imageWidth: resizedWidth,
            preNMSTopK: 1000, postNMSTopK: 1000, nmsThreshold: 0.7)
    }

    /// Box-head inference on detectron2's own proposals and predictor outputs.
    static func detections(_ i: F.Intermediates, resizedHeight: Int, resizedWidth: Int) throws -> FastRCNNDetections {
        fastRCNNInference(
            classLogits: try i.tensor("box.cls_logits"), boxDeltas: try i.tensor("box.deltas"),
            proposals: F.boxes(try i.tensor("rpn.proposals.boxes")),
            box2box: Box2BoxTransform(weights: [10, 10, 5, 5]), imageHeight: resizedHeight, imageWidth: resizedWidth,
            scoreThreshold: 0.05, nmsThreshold: 0.5, topK: 100)
    }

    static func pooler(_ model: String, outputSize: Int) -> ROIPooler {
        isKeypoint(model)
            ? ROIPooler(outputSize: outputSize, scales: [1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32], samplingRatio: 0, aligned: true)
            : ROIPooler(outputSize: outputSize, scales: [1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32], samplingRatio: 2, aligned: false)
    }

    @Test("RPN proposals equal rpn.proposals.*", arguments: cases)
    func rpnProposals(model: String, image: String) throws {
        let i = try F.intermediates(model, image)
        let golden = try F.golden(model, image)
        let pre = F.preprocess(golden)
        let got = try Self.proposals(i, resizedHeight: pre.resizedHeight, resizedWidth: pre.resizedWidth)
        let boxes = F.boxes(try i.tensor("rpn.proposals.boxes"))
        let logits = try i.tensor("rpn.proposals.objectness_logits").scalars
        #expect(got.boxes.count == boxes.count)
        #expect(got.boxes.count == golden["num_proposals"] as? Int)
        guard got.boxes.count == boxes.count else { return }
        let boxDiff = F.maxAbsDiff(got.boxes, boxes)
        let logitError = F.relativeError(got.objectnessLogits, logits)
        #expect(boxDiff <= 2e-4, "proposal boxes differ by up to \(boxDiff) px")
        #expect(logitError <= 1e-6, "proposal logits differ, relative error \(logitError)")
    }

    @Test("Box pooling equals box.pooled_first16", arguments: cases)
    func boxPooling(model: String, image: String) throws {
        let i = try F.intermediates(model, image)
        let features = try (2...5).map { try i.tensor("backbone.p\($0)") }
        let proposals = Array(F.boxes(try i.tensor("rpn.proposals.boxes")).prefix(16))
        let pooled = Self.pooler(model, outputSize: 7)(features, boxes: proposals)
        let expected = try i.tensor("box.pooled_first16")
        #expect(pooled.shape == expected.shape)
        let error = F.relativeError(pooled.scalars, expected.scalars)
        #expect(error <= 1e-6, "pooled features relative error \(error)")
    }

    @Test("Box inference equals det.* and the golden boxes", arguments: cases)
    func boxInference(model: String, image: String) throws {
        let i = try F.intermediates(model, image)
        let golden = try F.golden(model, image)
        let pre = F.preprocess(golden)
        let det = try Self.detections(i, resizedHeight: pre.resizedHeight, resizedWidth: pre.resizedWidth)
        let classes = try i.array("det.classes")
        let scores = try i.tensor("det.scores").scalars
        #expect(det.classes == classes)
        #expect(det.scores.count == scores.count)
        guard det.scores.count == scores.count else { return }
        let scoreError = zip(det.scores, scores).map { abs($0 - $1) }.max() ?? 0
        #expect(scoreError <= 1e-6, "scores differ by up to \(scoreError)")

        // det.boxes_input (and the goldens' box_xyxy_input) were saved after detector_postprocess had
        // scaled the shared box tensor in place, so they hold input-image boxes: compare after postprocess.
        let post = DetectorPostprocess(resizedHeight: pre.resizedHeight, resizedWidth: pre.resizedWidth,
                                       outputHeight: pre.height, outputWidth: pre.width)
        let (scaled, kept) = post(det.boxes)
        #expect(kept == Array(det.boxes.indices))
        let savedDiff = F.maxAbsDiff(scaled, F.boxes(try i.tensor("det.boxes_input")))
        #expect(savedDiff <= 1e-3, "postprocessed boxes differ from det.boxes_input by \(savedDiff) px")

        let instances = F.instances(golden)
        #expect(instances.count == det.boxes.count)
        for (k, inst) in instances.enumerated() where k < scaled.count {
            let b = F.floats(inst["box_xyxy"])
            let d = max(abs(b[0] - scaled[k].x0), abs(b[1] - scaled[k].y0), abs(b[2] - scaled[k].x1), abs(b[3] - scaled[k].y1))
            #expect(d <= 1e-3, "instance \(k): box differs by \(d) px")
            #expect(inst["class"] as? Int == det.classes[k])
            #expect(abs(F.floats([inst["score"] as Any])[0] - det.scores[k]) <= 1e-6)
        }
    }

    @Test("Mask pooling equals mask.pooled_first4")
    func maskPooling() throws {
        let i = try F.intermediates(F.maskModel, F.maskImage)
        let pre = F.preprocess(try F.golden(F.maskModel, F.maskImage))
        let det = try Self.detections(i, resizedHeight: pre.resizedHeight, resizedWidth: pre.resizedWidth)
        let features = try (2...5).map { try i.tensor("backbone.p\($0)") }
        let pooled = Self.pooler(F.maskModel, outputSize: 14)(features, boxes: Array(det.boxes.prefix(4)))
        let expected = try i.tensor("mask.pooled_first4")
        #expect(pooled.shape == expected.shape)
        let error = F.relativeError(pooled.scalars, expected.scalars)
        #expect(error <= 1e-6, "pooled features relative error \(error)")
    }

    @Test("Keypoint pooling equals keypoint.pooled_first4")
    func keypointPooling() throws {
        let i = try F.intermediates(F.keypointModel, F.keypointImage)
        let pre = F.preprocess(try F.golden(F.keypointModel, F.keypointImage))
        let det = try Self.detections(i, resizedHeight: pre.resizedHeight, resizedWidth: pre.resizedWidth)
        let features = try (2...5).map { try i.tensor("backbone.p\($0)") }
        let pooled = Self.pooler(F.keypointModel, outputSize: 14)(features, boxes: Array(det.boxes.prefix(4)))
        let expected = try i.tensor("keypoint.pooled_first4")
        #expect(pooled.shape == expected.shape)
        let error = F.relativeError(pooled.scalars, expected.scalars)
        #expect(error <= 1e-6, "pooled features relative error \(error)")
    }

    @Test("Pasted masks equal the golden mask_rle")
    func pastedMasks() throws {
        let i = try F.intermediates(F.maskModel, F.maskImage)
        let golden = try F.golden(F.maskModel, F.maskImage)
        let pre = F.preprocess(golden)
        let det = try Self.detections(i, resizedHeight: pre.resizedHeight, resizedWidth: pre.resizedWidth)
        let post = DetectorPostprocess(resizedHeight: pre.resizedHeight, resizedWidth: pre.resizedWidth,
                                       outputHeight: pre.height, outputWidth: pre.width)
        let masks = pasteMasksInImage(maskProbabilities(fromLogits: try i.tensor("mask.logits")),
                                      boxes: post(det.boxes).boxes, imageHeight: pre.height, imageWidth: pre.width)
        let instances = F.instances(golden)
        #expect(masks.count == instances.count)
        var differing = 0
        for (k, inst) in instances.enumerated() where k < masks.count {
            let rle = inst["mask_rle"] as? [String: Any]
            let size = rle?["size"] as? [Int] ?? []
            let expected = try MaskRLE(height: size.first ?? 0, width: size.last ?? 0, compactCounts: rle?["counts"] as? String ?? "")
            let want = expected.decoded()
            let xor = zip(masks[k].bits, want.bits).filter { $0 != $1 }.count
            let union = zip(masks[k].bits, want.bits).filter { $0 == 1 || $1 == 1 }.count
            let iou = union == 0 ? 1 : Double(union - xor) / Double(union)
            differing += xor
            #expect(iou >= 0.97 || (want.area < 400 && xor <= 16), "mask \(k): IoU \(iou), \(xor) pixels differ")
            #expect(masks[k].area == inst["mask_area"] as? Int, "mask \(k): area \(masks[k].area)")
            #expect(MaskRLE(mask: masks[k]).compactCounts == expected.compactCounts, "mask \(k): RLE string differs")
        }
        #expect(differing == 0, "\(differing) mask pixels differ in total")
    }

    @Test("Keypoints equal the golden keypoints")
    func keypoints() throws {
        let i = try F.intermediates(F.keypointModel, F.keypointImage)
        let golden = try F.golden(F.keypointModel, F.keypointImage)
        let pre = F.preprocess(golden)
        let det = try Self.detections(i, resizedHeight: pre.resizedHeight, resizedWidth: pre.resizedWidth)
        let decoded = heatmapsToKeypoints(try i.tensor("keypoint.heatmaps"), boxes: det.boxes)
        let results = detectorPostprocess(det, keypoints: decoded, resizedHeight: pre.resizedHeight,
                                          resizedWidth: pre.resizedWidth, outputHeight: pre.height, outputWidth: pre.width)
        let instances = F.instances(golden)
        #expect(results.count == instances.count)
        let stepX = Float(pre.width) / Float(pre.resizedWidth) + 0.01
        let stepY = Float(pre.height) / Float(pre.resizedHeight) + 0.01
        var total = 0, close = 0
        var maxDistance: Float = 0, maxScoreDiff: Float = 0
        for (k, inst) in instances.enumerated() where k < results.count {
            let want = (inst["keypoints"] as? [[Any]] ?? []).map { F.floats($0) }
            let got = results[k].keypoints ?? []
            #expect(got.count == want.count)
            for (j, kp) in got.enumerated() where j < want.count {
                let dx = abs(kp.x - want[j][0]), dy = abs(kp.y - want[j][1])
                #expect(dx <= stepX && dy <= stepY, "detection \(k) keypoint \(j): off by (\(dx), \(dy))")
                #expect(abs(kp.score - want[j][2]) <= 2e-3 + 0.02 * abs(want[j][2]), "detection \(k) keypoint \(j): score \(kp.score) vs \(want[j][2])")
                total += 1
                if dx <= 0.05 && dy <= 0.05 { close += 1 }
                maxDistance = max(maxDistance, dx, dy)
                maxScoreDiff = max(maxScoreDiff, abs(kp.score - want[j][2]) / max(abs(want[j][2]), 1e-12))
            }
        }
        #expect(total > 0 && close * 10 >= total * 9, "only \(close) of \(total) keypoints within 0.05 px")
        // Float noise only: same argmax everywhere, values to a few ulps.
        #expect(maxDistance <= 1e-3, "keypoints move by up to \(maxDistance) px")
        #expect(maxScoreDiff <= 1e-4, "keypoint scores differ by up to \(maxScoreDiff) (relative)")
    }

    /// The goldens' `keypoint_logits` were decoded (by the fixture tool) against the boxes after
    /// `detector_postprocess` had scaled them in place, i.e. at input-image size, not the resized-input
    /// boxes detectron2's `keypoint_rcnn_inference` uses. Decoding on those boxes must reproduce them:
    /// a check of the bicubic resize at a second set of output sizes.
    @Test("Keypoint logits decoded on input-image boxes equal the golden keypoint_logits")
    func keypointLogits() throws {
        let i = try F.intermediates(F.keypointModel, F.keypointImage)
        let golden = try F.golden(F.keypointModel, F.keypointImage)
        let instances = F.instances(golden)
        let boxes = instances.map { inst -> Box in
            let b = F.floats(inst["box_xyxy"])
            return Box(x0: b[0], y0: b[1], x1: b[2], y1: b[3])
        }
        let decoded = heatmapsToKeypoints(try i.tensor("keypoint.heatmaps"), boxes: boxes)
        var worst: Float = 0
        for (k, inst) in instances.enumerated() {
            let want = F.floats(inst["keypoint_logits"])
            #expect(decoded[k].count == want.count)
            for (kp, w) in zip(decoded[k], want) { worst = max(worst, abs(kp.logit - w) / max(abs(w), 1)) }
        }
        #expect(!instances.isEmpty)
        #expect(worst <= 1e-5, "keypoint logits differ by up to \(worst) (relative)")
    }
}

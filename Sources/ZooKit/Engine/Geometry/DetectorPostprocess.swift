/// detectron2's `detector_postprocess`: maps boxes from the resized input back to the input image.
public struct DetectorPostprocess: Sendable, Equatable {
    /// `output_width / resized_width`, as float32 (PyTorch multiplies float32 boxes by it).
    public var scaleX: Float
    /// `output_height / resized_height`.
    public var scaleY: Float
    /// The input image's size, that boxes are clipped to.
    public var outputHeight: Int
    public var outputWidth: Int

    /// A postprocess from a `resizedHeight x resizedWidth` network input to an
    /// `outputHeight x outputWidth` input image.
    public init(resizedHeight: Int, resizedWidth: Int, outputHeight: Int, outputWidth: Int) {
        precondition(resizedHeight > 0 && resizedWidth > 0, "DetectorPostprocess: empty resized size \(resizedHeight)x\(resizedWidth)")
        scaleX = Float(Double(outputWidth) / Double(resizedWidth))
        scaleY = Float(Double(outputHeight) / Double(resizedHeight))
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
    }

    /// `Boxes.scale(scale_x, scale_y)` then `Boxes.clip(output size)`.
    public func scaledBox(_ box: Box) -> Box {
        Box(x0: box.x0 * scaleX, y0: box.y0 * scaleY, x1: box.x1 * scaleX, y1: box.y1 * scaleY)
            .clipped(height: outputHeight, width: outputWidth)
    }

    /// Scaled and clipped boxes, and the indices of those kept (`Boxes.nonempty()`: detectron2 drops
    /// detections whose box became empty).
    public func callAsFunction(_ boxes: [Box]) -> (boxes: [Box], kept: [Int]) {
        var out: [Box] = [], kept: [Int] = []
        for (i, b) in boxes.enumerated() {
            let s = scaledBox(b)
            if s.isNonempty() { out.append(s); kept.append(i) }
        }
        return (out, kept)
    }

    /// Keypoints from `heatmapsToKeypoints` (resized coordinates) to the input image: x, y scaled.
    public func scaledKeypoints(_ keypoints: [Keypoint]) -> [Keypoint] {
        keypoints.map { Keypoint(x: $0.x * scaleX, y: $0.y * scaleY, score: $0.score, logit: $0.logit) }
    }
}

/// Builds detectron2's postprocessed `Instances` rows: boxes scaled and clipped to the input image,
/// empty ones dropped; `keypoints` (per detection, resized coordinates) scaled too. Masks are pasted
/// separately (`pasteMasksInImage`) on the returned `box`es.
public func detectorPostprocess(
    _ detections: FastRCNNDetections, keypoints: [[Keypoint]]? = nil,
    resizedHeight: Int, resizedWidth: Int, outputHeight: Int, outputWidth: Int
) -> [Detection] {
    precondition(keypoints == nil || keypoints?.count == detections.boxes.count,
                 "detectorPostprocess: \(keypoints?.count ?? 0) keypoint sets for \(detections.boxes.count) detections")
    let post = DetectorPostprocess(resizedHeight: resizedHeight, resizedWidth: resizedWidth,
                                   outputHeight: outputHeight, outputWidth: outputWidth)
    var result: [Detection] = []
    for i in detections.boxes.indices {
        let box = post.scaledBox(detections.boxes[i])
        guard box.isNonempty() else { continue }
        result.append(Detection(classIndex: detections.classes[i], score: detections.scores[i], box: box,
                                boxInput: detections.boxes[i],
                                keypoints: keypoints.map { post.scaledKeypoints($0[i]) }))
    }
    return result
}

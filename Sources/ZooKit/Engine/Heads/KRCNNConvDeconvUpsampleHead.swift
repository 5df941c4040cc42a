/// detectron2's `KRCNNConvDeconvUpsampleHead`: 3x3 convs + ReLU (`CONV_DIMS`), `score_lowres`
/// transposed conv 4x4/2 pad 1, then bilinear x2 (`align_corners=False`), all detections batched.
public final class KRCNNConvDeconvUpsampleHead {
    public let convs: [Conv2d]
    public let scoreLowres: ConvTranspose2d
    /// The most detections one call sees (`TEST.DETECTIONS_PER_IMAGE`), or nil. Given, smaller
    /// batches are padded with a few zero rows to a size whose Winograd weights layouts are this
    /// many rows' (or, under 16 rows, 2 rows'), so the convolutions run in at most two layouts
    /// whatever the images, the faster ones (see `ConvTower`); nil runs each batch at its own size.
    /// The padding changes no value.
    public let detectionsPerImage: Int?

    /// Loads `prefix.conv_fcn{i}` and `prefix.score_lowres`; `numKeypoints` is
    /// `ROI_KEYPOINT_HEAD.NUM_KEYPOINTS`, `detectionsPerImage` the property's value (detectron2's
    /// default 100; nil for no padding).
    public init(_ weights: StateDict, prefix: String = "roi_heads.keypoint_head", inChannels: Int, numKeypoints: Int,
                convDims: [Int] = Array(repeating: 512, count: 8), algorithm: ConvolutionAlgorithm = .direct,
                precision: ConvolutionPrecision = .float32, detectionsPerImage: Int? = 100) throws {
        self.detectionsPerImage = detectionsPerImage
        var c = inChannels
        var convs: [Conv2d] = []
        for (i, dim) in convDims.enumerated() {
            convs.append(try Conv2d(weights, "\(prefix).conv_fcn\(i + 1)", in: c, out: dim, kernel: 3, padding: 1,
                                    relu: true, algorithm: algorithm, precision: precision))
            c = dim
        }
        ConvTower.chainOutputTypes(convs)
        for conv in convs { conv.winogradWeightsPerRun = true }
        self.convs = convs
        scoreLowres = try ConvTranspose2d(weights, prefix + ".score_lowres", in: c, out: numKeypoints, kernel: 4,
                                          stride: 2, padding: 4 / 2 - 1)
    }

    /// `[N, C, 14, 14]` pooled features -> the `[N, K, 28, 28]` deconv output and the
    /// `[N, K, 56, 56]` heatmap logits (`pred_keypoint_heatmaps`).
    public func forwardWithLowres(_ pooled: Tensor) throws -> (lowres: Tensor, heatmaps: Tensor) {
        // The deconvolution reads the tower's blocked output one detection at a time (a plain
        // copy of all of it was 40 MB of new memory an image).
        let features = try ConvTower.forwardKeepingLayout(convs, pooled, name: "keypoint_head", layoutRows: detectionsPerImage)
        let low = try scoreLowres.forward(features)
        return (low, Resampling.upsampleBilinear2x(low))
    }

    /// `[N, C, 14, 14]` pooled features -> `[N, K, 56, 56]` heatmap logits.
    public func forward(_ pooled: Tensor) throws -> Tensor {
        try forwardWithLowres(pooled).heatmaps
    }
}

/// detectron2's `MaskRCNNConvUpsampleHead`: `NUM_CONV` 3x3 convs + ReLU, a 2x2/2 transposed conv
/// + ReLU, and a 1x1 predictor to one mask logit map per class, all detections batched.
public final class MaskRCNNConvUpsampleHead {
    public let convs: [Conv2d]
    public let deconv: ConvTranspose2d
    public let predictor: Conv2d
    /// The most detections one call sees (`TEST.DETECTIONS_PER_IMAGE`), or nil. Given, smaller
    /// batches are padded with a few zero rows to a size whose Winograd weights layouts are this
    /// many rows' (or, under 16 rows, 2 rows'), so the convolutions run in at most two layouts
    /// whatever the images, the faster ones (see `ConvTower`); nil runs each batch at its own size.
    /// The padding changes no value.
    public let detectionsPerImage: Int?

    /// Loads `prefix.mask_fcn{i}`, `prefix.deconv`, `prefix.predictor`; `detectionsPerImage` is
    /// the property's value (detectron2's default 100; nil for no padding).
    public init(_ weights: StateDict, prefix: String = "roi_heads.mask_head", inChannels: Int, numClasses: Int,
                numConv: Int = 4, convDim: Int = 256, convNorm: Bool = false, classAgnostic: Bool = false,
                algorithm: ConvolutionAlgorithm = .direct, precision: ConvolutionPrecision = .float32,
                detectionsPerImage: Int? = 100) throws {
        self.detectionsPerImage = detectionsPerImage
        var c = inChannels
        var convs: [Conv2d] = []
        for i in 0..<numConv {
            convs.append(try Conv2d(weights, "\(prefix).mask_fcn\(i + 1)", in: c, out: convDim, kernel: 3, padding: 1,
                                    norm: convNorm, bias: !convNorm, relu: true, algorithm: algorithm,
                                    precision: precision))
            c = convDim
        }
        ConvTower.chainOutputTypes(convs)
        for conv in convs { conv.winogradWeightsPerRun = true }
        self.convs = convs
        deconv = try ConvTranspose2d(weights, prefix + ".deconv", in: c, out: convDim, kernel: 2, stride: 2, relu: true)
        predictor = try Conv2d(weights, prefix + ".predictor", in: convDim, out: classAgnostic ? 1 : numClasses, kernel: 1)
    }

    /// `[N, C, 14, 14]` pooled features -> `[N, K, 28, 28]` mask logits.
    public func forward(_ pooled: Tensor) throws -> Tensor {
        return try predictor.forward(try deconv.forward(try ConvTower.forward(convs, pooled, name: "mask_head", layoutRows: detectionsPerImage)))
    }
}

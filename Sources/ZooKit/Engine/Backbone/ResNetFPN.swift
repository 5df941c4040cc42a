/// detectron2's `build_resnet_fpn_backbone`: a `ResNet` bottom-up path under `backbone.bottom_up`
/// and an `FPN` with `LastLevelMaxPool` under `backbone`.
public final class ResNetFPN {
    public let bottomUp: ResNet
    public let fpn: FPN
    /// The input's height and width must be multiples of this (`size_divisibility`).
    public let sizeDivisibility = 32

    /// Loads the backbone; parameters mirror `MODEL.RESNETS.*` and `MODEL.FPN.OUT_CHANNELS`.
    /// `algorithm: .winograd` uses Winograd for the 3x3 stride-1 convolutions where oneDNN has it.
    public init(_ weights: StateDict, depth: Int = 50, numGroups: Int = 1, widthPerGroup: Int = 64,
                strideInOneByOne: Bool = true, stemOutChannels: Int = 64, res2OutChannels: Int = 256,
                fpnOutChannels: Int = 256, algorithm: ConvolutionAlgorithm = .direct,
                precision: ConvolutionPrecision = .float32) throws {
        bottomUp = try ResNet(weights, depth: depth, numGroups: numGroups, widthPerGroup: widthPerGroup,
                              strideInOneByOne: strideInOneByOne, stemOutChannels: stemOutChannels,
                              res2OutChannels: res2OutChannels, algorithm: algorithm, precision: precision)
        fpn = try FPN(weights, inChannels: bottomUp.stageOutChannels, outChannels: fpnOutChannels, algorithm: algorithm,
                      precision: precision)
    }

    /// Normalised, padded `[N, 3, H, W]` image -> `["p2": ..., "p6": ...]`.
    public func forward(_ image: Tensor) throws -> [String: Tensor] {
        try forwardBlocked(image).mapValues { try $0.tensor(context: "ResNetFPN output") }
    }

    /// The same with the levels left in oneDNN's `nChw16c` layout.
    func forwardBlocked(_ image: Tensor) throws -> [String: DNNLTensor] {
        guard image.rank == 4, image.shape[2] % sizeDivisibility == 0, image.shape[3] % sizeDivisibility == 0 else {
            throw EngineError.inputShape(layer: "ResNetFPN", expected: "[N, 3, H, W] with H, W multiples of 32",
                                         actual: image.shape)
        }
        return try fpn.forward(try bottomUp.forward(DNNLTensor(plain: image, context: "ResNetFPN input")))
    }
}

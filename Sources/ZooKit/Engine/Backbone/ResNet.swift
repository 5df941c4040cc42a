/// detectron2's `ResNet` as `build_resnet_backbone` builds it: `BasicStem` then stages res2..res5
/// of `BottleneckBlock`s. Depth 50/101/152 and ResNeXt (`numGroups`, `widthPerGroup`) are parameters.
public final class ResNet {
    public let stem: BasicStem
    /// Blocks of res2, res3, res4, res5.
    public let stages: [[BottleneckBlock]]
    /// Output channels of res2..res5.
    public let stageOutChannels: [Int]

    /// Blocks per stage for `RESNETS.DEPTH` (bottleneck depths only).
    public static func blocksPerStage(depth: Int) -> [Int]? {
        switch depth {
        case 50: return [3, 4, 6, 3]
        case 101: return [3, 4, 23, 3]
        case 152: return [3, 8, 36, 3]
        default: return nil
        }
    }

    /// Loads a ResNet under `prefix` (`backbone.bottom_up`).
    ///
    /// - Parameters mirror `MODEL.RESNETS.*`: `DEPTH`, `NUM_GROUPS`, `WIDTH_PER_GROUP`,
    ///   `STRIDE_IN_1X1`, `STEM_OUT_CHANNELS`, `RES2_OUT_CHANNELS`.
    public init(_ weights: StateDict, prefix: String = "backbone.bottom_up", depth: Int = 50, numGroups: Int = 1,
                widthPerGroup: Int = 64, strideInOneByOne: Bool = true, stemOutChannels: Int = 64,
                res2OutChannels: Int = 256, algorithm: ConvolutionAlgorithm = .direct,
                precision: ConvolutionPrecision = .float32) throws {
        guard let counts = ResNet.blocksPerStage(depth: depth) else {
            throw EngineError.inputShape(layer: "ResNet", expected: "RESNETS.DEPTH 50, 101 or 152", actual: [depth])
        }
        stem = try BasicStem(weights, prefix: prefix + ".stem", outChannels: stemOutChannels)
        var inChannels = stemOutChannels, outChannels = res2OutChannels
        var bottleneck = numGroups * widthPerGroup
        var stages: [[BottleneckBlock]] = []
        var outs: [Int] = []
        for (index, count) in counts.enumerated() {
            var blocks: [BottleneckBlock] = []
            for b in 0..<count {
                blocks.append(try BottleneckBlock(
                    weights, prefix: "\(prefix).res\(index + 2).\(b)", inChannels: b == 0 ? inChannels : outChannels,
                    outChannels: outChannels, bottleneckChannels: bottleneck,
                    stride: (b == 0 && index > 0) ? 2 : 1, numGroups: numGroups,
                    strideInOneByOne: strideInOneByOne, algorithm: algorithm, precision: precision))
            }
            stages.append(blocks)
            outs.append(outChannels)
            inChannels = outChannels
            outChannels *= 2
            bottleneck *= 2
        }
        self.stages = stages
        stageOutChannels = outs
    }

    /// `[N, 3, H, W]` -> `["res2": [N, C2, H/4, W/4], ..., "res5": [N, C5, H/32, W/32]]`.
    public func forward(_ image: Tensor) throws -> [String: Tensor] {
        try forward(DNNLTensor(plain: image, context: "ResNet input")).mapValues { try $0.tensor(context: "ResNet output") }
    }

    /// The same on oneDNN memory: the plain image in, `nChw16c` stage outputs (bfloat16 in that
    /// precision; the stem, reading the image, computes in float32).
    func forward(_ image: DNNLTensor) throws -> [String: DNNLTensor] {
        var x = try stem.forward(image)
        // Converted once for res2's first block, whose conv1 and shortcut both read it.
        if let first = stages.first?.first { x = try x.blocked(first.conv1.computeType, context: "res2 input") }
        var out: [String: DNNLTensor] = [:]
        for (index, blocks) in stages.enumerated() {
            // A stage's input is the previous stage's output, kept in `out`: block 0 must not sum into it.
            for (b, block) in blocks.enumerated() { x = try block.forward(x, consumingInput: b > 0) }
            out["res\(index + 2)"] = x
        }
        return out
    }
}

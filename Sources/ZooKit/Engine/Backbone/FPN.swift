/// detectron2's `FPN` over res2..res5 with `LastLevelMaxPool`: 1x1 lateral convs, the top-down
/// path `prev = lateral(C) + nearest_x2(prev)` (the lateral sum, not the 3x3 output, feeds the next
/// level), 3x3 output convs, and `p6 = max_pool2d(p5, 1, stride 2)`.
public final class FPN {
    /// Lateral and output convs for levels 2..5 (index 0 = level 2).
    public let lateral: [Conv2d]
    public let output: [Conv2d]
    public let outChannels: Int

    /// Loads `prefix.fpn_lateral{2..5}` and `prefix.fpn_output{2..5}` (with bias, `FPN.NORM ""`).
    public init(_ weights: StateDict, prefix: String = "backbone", inChannels: [Int], outChannels: Int,
                algorithm: ConvolutionAlgorithm = .direct, precision: ConvolutionPrecision = .float32) throws {
        precondition(inChannels.count == 4, "FPN expects the channels of res2..res5")
        var lateral: [Conv2d] = [], output: [Conv2d] = []
        for (i, c) in inChannels.enumerated() {
            let level = i + 2
            // Every level but the top adds the upsampled coarser sum, fused into the lateral conv.
            lateral.append(try Conv2d(weights, "\(prefix).fpn_lateral\(level)", in: c, out: outChannels, kernel: 1,
                                      addsResidual: level != 5, precision: precision))
            output.append(try Conv2d(weights, "\(prefix).fpn_output\(level)", in: outChannels, out: outChannels,
                                     kernel: 3, padding: 1, algorithm: algorithm, precision: precision))
        }
        self.lateral = lateral
        self.output = output
        self.outChannels = outChannels
    }

    /// `["res2".."res5"]` -> `["p2".."p6"]`, each `[N, outChannels, H/2^k, W/2^k]`.
    public func forward(_ features: [String: Tensor]) throws -> [String: Tensor] {
        let blocked = try features.mapValues {
            try DNNLTensor(plain: $0, context: "FPN input").blocked(context: "FPN input")
        }
        return try forward(blocked).mapValues { try $0.tensor(context: "FPN output") }
    }

    /// The same on `nChw16c` memory. The features are consumed: each `res` map is released once
    /// its lateral conv has run, so its memory (back in `DNNLBufferPool`) can hold the same-size
    /// output of that level's 3x3 conv instead of fresh pages.
    func forward(_ features: consuming [String: DNNLTensor]) throws -> [String: DNNLTensor] {
        var remaining = features
        var out: [String: DNNLTensor] = [:]
        var prev: DNNLTensor?
        for level in stride(from: 5, through: 2, by: -1) {
            guard let c = remaining.removeValue(forKey: "res\(level)") else {
                throw EngineError.inputShape(layer: "FPN", expected: "feature res\(level)", actual: [])
            }
            let i = level - 2
            let upsampled = try prev.map { try BlockedResampling.upsampleNearest2x($0) }
            prev = nil
            let sum = try upsampled.map { try lateral[i].forward(c, accumulatingInto: $0) } ?? lateral[i].forward(c)
            _ = consume c
            out["p\(level)"] = try output[i].forward(sum)
            prev = sum
        }
        if let p5 = out["p5"] { out["p6"] = try BlockedResampling.maxPool2d(p5, kernel: 1, stride: 2, padding: 0) }
        return out
    }
}

/// detectron2's `FastRCNNConvFCHead`: `NUM_CONV` 3x3 convs + ReLU, flatten, then `NUM_FC` fully
/// connected layers + ReLU, all proposals batched.
public final class FastRCNNConvFCHead {
    public let convs: [Conv2d]
    public let fcs: [Linear]
    /// Size of the output features (`FC_DIM`, or the flattened input when there are no fcs).
    public let outputSize: Int

    /// Loads `prefix.conv{i}` (FrozenBN folded if `convNorm`) and `prefix.fc{i}`.
    ///
    /// - Parameters: `inputShape` is `[C, P, P]` of the pooled features (`P` = `POOLER_RESOLUTION`).
    public init(_ weights: StateDict, prefix: String = "roi_heads.box_head", inputShape: [Int], numConv: Int = 0,
                convDim: Int = 256, convNorm: Bool = false, numFC: Int = 2, fcDim: Int = 1024,
                precision: ConvolutionPrecision = .float32) throws {
        precondition(inputShape.count == 3, "FastRCNNConvFCHead inputShape is [C, P, P]")
        var c = inputShape[0]
        var convs: [Conv2d] = []
        for i in 0..<numConv {
            convs.append(try Conv2d(weights, "\(prefix).conv\(i + 1)", in: c, out: convDim, kernel: 3, padding: 1,
                                    norm: convNorm, bias: !convNorm, relu: true, precision: precision))
            c = convDim
        }
        var size = c * inputShape[1] * inputShape[2]
        var fcs: [Linear] = []
        for i in 0..<numFC {
            fcs.append(try Linear(weights, "\(prefix).fc\(i + 1)", in: size, out: fcDim, relu: true, precision: precision))
            size = fcDim
        }
        self.convs = convs
        self.fcs = fcs
        outputSize = size
    }

    /// `[R, C, P, P]` pooled features -> `[R, outputSize]`.
    public func forward(_ pooled: Tensor) throws -> Tensor {
        var x = pooled
        for conv in convs { x = try conv.forward(x) }
        if fcs.isEmpty { return Tensor(shape: [x.shape.first ?? 0, outputSize], scalars: x.scalars) }
        for fc in fcs { x = try fc.forward(x) }
        return x
    }
}

/// detectron2's `StandardRPNHead`: per FPN level, a shared 3x3 conv + ReLU, then 1x1 convs to
/// `A` objectness logits and `A * 4` anchor deltas (channel = anchor * 4 + (dx, dy, dw, dh)).
public final class StandardRPNHead {
    public let conv: Conv2d
    public let objectnessLogits: Conv2d
    public let anchorDeltas: Conv2d
    public var numAnchors: Int { objectnessLogits.outChannels }

    /// Loads `prefix.conv`, `prefix.objectness_logits`, `prefix.anchor_deltas`.
    public init(_ weights: StateDict, prefix: String = "proposal_generator.rpn_head", inChannels: Int,
                numAnchors: Int = 3, boxDim: Int = 4, algorithm: ConvolutionAlgorithm = .direct,
                precision: ConvolutionPrecision = .float32) throws {
        // The 1x1 convs have a few output channels: float32 (converting their input would cost more).
        conv = try Conv2d(weights, prefix + ".conv", in: inChannels, out: inChannels, kernel: 3, padding: 1,
                          relu: true, algorithm: algorithm, precision: precision)
        objectnessLogits = try Conv2d(weights, prefix + ".objectness_logits", in: inChannels, out: numAnchors, kernel: 1)
        anchorDeltas = try Conv2d(weights, prefix + ".anchor_deltas", in: inChannels, out: numAnchors * boxDim, kernel: 1)
    }

    /// Per level `[N, C, Hi, Wi]` -> objectness `[N, A, Hi, Wi]` and deltas `[N, A*4, Hi, Wi]`.
    public func forward(_ features: [Tensor]) throws -> (objectness: [Tensor], deltas: [Tensor]) {
        var objectness: [Tensor] = [], deltas: [Tensor] = []
        for f in features {
            let t = try conv.forward(f)
            objectness.append(try objectnessLogits.forward(t))
            deltas.append(try anchorDeltas.forward(t))
        }
        return (objectness, deltas)
    }

    /// The same on levels kept in oneDNN memory (`nChw16c` from the FPN): no reorders until the
    /// small objectness and delta maps come out as plain tensors.
    func forward(_ features: [DNNLTensor]) throws -> (objectness: [Tensor], deltas: [Tensor]) {
        var objectness: [Tensor] = [], deltas: [Tensor] = []
        for f in features {
            let t = try conv.forward(f)
            objectness.append(try objectnessLogits.forward(t).tensor(context: "RPN objectness_logits"))
            deltas.append(try anchorDeltas.forward(t).tensor(context: "RPN anchor_deltas"))
        }
        return (objectness, deltas)
    }
}

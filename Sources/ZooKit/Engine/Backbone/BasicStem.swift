/// detectron2's `BasicStem`: conv 7x7/2 pad 3 (FrozenBN folded) + ReLU, then max-pool 3x3/2 pad 1.
public final class BasicStem {
    public let conv1: Conv2d
    public var outChannels: Int { conv1.outChannels }

    /// Loads `prefix.conv1.weight` and `prefix.conv1.norm.*`.
    public init(_ weights: StateDict, prefix: String, inChannels: Int = 3, outChannels: Int) throws {
        conv1 = try Conv2d(weights, prefix + ".conv1", in: inChannels, out: outChannels, kernel: 7, stride: 2,
                           padding: 3, norm: true, bias: false, relu: true)
    }

    /// `[N, 3, H, W]` -> `[N, outChannels, H/4, W/4]`.
    public func forward(_ x: Tensor) throws -> Tensor {
        try forward(DNNLTensor(plain: x, context: "BasicStem input")).tensor(context: "BasicStem output")
    }

    /// The same on oneDNN memory: plain or blocked input, `nChw16c` output.
    func forward(_ x: DNNLTensor) throws -> DNNLTensor {
        try BlockedResampling.maxPool2d(try conv1.forward(x), kernel: 3, stride: 2, padding: 1)
    }
}

/// detectron2's `BottleneckBlock` with FrozenBN folded into each conv: conv1 1x1 + ReLU, conv2 3x3
/// (grouped for ResNeXt) + ReLU, conv3 1x1, plus the shortcut (1x1 conv when the channel count or
/// stride changes, identity otherwise), then ReLU. The residual sum and the final ReLU are fused
/// into conv3. In bfloat16 precision the block's output stays bfloat16 for the next block and the
/// FPN's lateral convs.
public final class BottleneckBlock {
    public let conv1: Conv2d
    public let conv2: Conv2d
    public let conv3: Conv2d
    public let shortcut: Conv2d?

    /// Loads `prefix.conv{1,2,3}.*` and, if `inChannels != outChannels`, `prefix.shortcut.*`.
    ///
    /// `strideInOneByOne` (`STRIDE_IN_1X1`) puts the stride in conv1 (MSRA) instead of conv2.
    public init(_ weights: StateDict, prefix: String, inChannels: Int, outChannels: Int, bottleneckChannels: Int,
                stride: Int, numGroups: Int, strideInOneByOne: Bool, dilation: Int = 1,
                algorithm: ConvolutionAlgorithm = .direct, precision: ConvolutionPrecision = .float32) throws {
        shortcut = inChannels == outChannels ? nil : try Conv2d(
            weights, prefix + ".shortcut", in: inChannels, out: outChannels, kernel: 1, stride: stride,
            norm: true, bias: false, precision: precision)
        let (stride1x1, stride3x3) = strideInOneByOne ? (stride, 1) : (1, stride)
        conv1 = try Conv2d(weights, prefix + ".conv1", in: inChannels, out: bottleneckChannels, kernel: 1,
                           stride: stride1x1, norm: true, bias: false, relu: true, precision: precision)
        precondition(dilation == 1, "BottleneckBlock: dilation other than 1 is not supported")
        conv2 = try Conv2d(weights, prefix + ".conv2", in: bottleneckChannels, out: bottleneckChannels, kernel: 3,
                           stride: stride3x3, padding: 1, groups: numGroups, norm: true, bias: false, relu: true,
                           algorithm: stride3x3 == 1 ? algorithm : .direct, precision: precision)
        conv3 = try Conv2d(weights, prefix + ".conv3", in: bottleneckChannels, out: outChannels, kernel: 1,
                           norm: true, bias: false, relu: true, addsResidual: true, precision: precision)
        // Each output in the type its reader computes in; the residual in conv3's output type.
        conv1.bfloat16Output = conv2.computesInBFloat16
        conv2.bfloat16Output = conv3.computesInBFloat16
        conv3.bfloat16Output = true
        shortcut?.bfloat16Output = conv3.computesInBFloat16
    }

    /// `relu(conv3(conv2(conv1(x))) + shortcut(x))`.
    public func forward(_ x: Tensor) throws -> Tensor {
        let input = try DNNLTensor(plain: x, context: "BottleneckBlock input").blocked(context: "BottleneckBlock input")
        return try forward(input, consumingInput: true).tensor(context: "BottleneckBlock output")
    }

    /// The same on `nChw16c` memory. With `consumingInput` and an identity shortcut the result is
    /// summed into `x`'s storage (the caller must not need `x` afterwards); else into a new tensor.
    func forward(_ x: DNNLTensor, consumingInput: Bool) throws -> DNNLTensor {
        let residual: DNNLTensor
        if let shortcut {
            residual = try shortcut.forward(x)
        } else if DNNLTensor.isBlocked(x.desc, shape: x.shape, type: conv3.outputType) {
            residual = consumingInput ? x : try x.copy(context: "BottleneckBlock residual")
        } else {
            residual = try x.blocked(conv3.outputType, context: "BottleneckBlock residual")
        }
        return try conv3.forward(try conv2.forward(try conv1.forward(x)), accumulatingInto: residual)
    }
}

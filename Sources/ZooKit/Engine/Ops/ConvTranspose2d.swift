import Foundation
internal import CZooDNNL

/// A 2-D transposed convolution (PyTorch `ConvTranspose2d`) on oneDNN's deconvolution, with an
/// optional fused ReLU.
///
/// Input and output are `[N, C, H, W]` float32; output size `(H - 1) * stride - 2 * padding + k`.
public final class ConvTranspose2d {
    /// Weight in PyTorch's layout `[inChannels, outChannels, kh, kw]`.
    public let weight: Tensor
    /// Bias `[outChannels]`.
    public let bias: Tensor
    public let stride: Int
    public let padding: Int
    public let relu: Bool
    public let name: String
    public var inChannels: Int { weight.shape[0] }
    public var outChannels: Int { weight.shape[1] }

    private var plans: [[Int]: DNNLConvPlan] = [:]
    private let lock = NSLock()

    /// A transposed convolution with the given parameters.
    public init(weight: Tensor, bias: Tensor?, stride: Int, padding: Int = 0, relu: Bool = false, name: String = "ConvTranspose2d") {
        precondition(weight.rank == 4, "ConvTranspose2d weight must be [I, O, kh, kw], got \(weight.shape)")
        self.weight = weight
        self.bias = bias ?? Tensor(shape: [weight.shape[1]])
        precondition(self.bias.shape == [weight.shape[1]], "ConvTranspose2d bias must be [\(weight.shape[1])]")
        self.stride = stride
        self.padding = padding
        self.relu = relu
        self.name = name
    }

    /// Loads `prefix.weight` (`[in, out, k, k]`) and `prefix.bias`.
    public convenience init(_ weights: StateDict, _ prefix: String, in inChannels: Int, out outChannels: Int,
                            kernel: Int, stride: Int, padding: Int = 0, relu: Bool = false) throws {
        let w = try weights.tensor(prefix + ".weight", shape: [inChannels, outChannels, kernel, kernel])
        let b = try weights.tensor(prefix + ".bias", shape: [outChannels])
        self.init(weight: w, bias: b, stride: stride, padding: padding, relu: relu, name: prefix)
    }

    /// Output shape for an `[N, C, H, W]` input.
    public func outputShape(_ input: [Int]) -> [Int] {
        [input[0], outChannels, (input[2] - 1) * stride - 2 * padding + weight.shape[2],
         (input[3] - 1) * stride - 2 * padding + weight.shape[3]]
    }

    /// Applies the transposed convolution (then ReLU if configured).
    public func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == inChannels else {
            throw EngineError.inputShape(layer: name, expected: "[N, \(inChannels), H, W]", actual: input.shape)
        }
        let ctx = try DNNLContext.get()
        var output = Tensor(shape: outputShape(input.shape))
        guard output.count > 0 else { return output }
        lock.lock()
        defer { lock.unlock() }
        let plan: DNNLConvPlan
        if let p = plans[input.shape] { plan = p } else {
            plan = try makePlan(input.shape, ctx)
            plans[input.shape] = plan
        }
        try input.withUnsafeBufferPointer { inBuf in
            try output.withUnsafeMutableBufferPointer { outBuf in
                try plan.run(input: inBuf, output: outBuf, sum: false, ctx: ctx)
            }
        }
        return output
    }

    private func makePlan(_ inputShape: [Int], _ ctx: DNNLContext) throws -> DNNLConvPlan {
        let strides = [dnnl_dim_t(stride), dnnl_dim_t(stride)]
        let pads = [dnnl_dim_t(padding), dnnl_dim_t(padding)]
        let context = "ConvTranspose2d \(name) on input \(inputShape)"
        // oneDNN's deconvolution weights are {out, in, kh, kw}; PyTorch stores {in, out, kh, kw} = iohw.
        return try DNNLConvPlan(
            context: context, ctx: ctx, inputShape: inputShape, outputShape: outputShape(inputShape),
            weightsDims: [outChannels, inChannels, weight.shape[2], weight.shape[3]], weightsTag: dnnl_iohw,
            weightValues: weight.scalars, biasValues: bias.scalars, sum: false, relu: relu
        ) { src, w, b, dst in
            let desc = UnsafeMutablePointer<dnnl_deconvolution_desc_t>.allocate(capacity: 1)
            let status = dnnl_deconvolution_forward_desc_init(desc, dnnl_forward_inference, dnnl_deconvolution_direct,
                                                              src, w, b, dst, strides, pads, pads)
            guard status == dnnl_success else {
                desc.deallocate()
                throw EngineError.dnnl(call: "dnnl_deconvolution_forward_desc_init", status: Int(status.rawValue), context: context)
            }
            return UnsafeMutableRawPointer(desc)
        }
    }
}

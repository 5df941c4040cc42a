import Foundation
internal import CZooDNNL

/// Zero rows a convolution adds above and below its input, when not its `padding`.
struct RowPadding: Hashable {
    var top: Int
    var bottom: Int
}

/// The weights a convolution plan reads: made once and kept, or transformed into a Winograd layout
/// at each run.
enum PlanWeights {
    case kept(DNNLMemory)
    case perRun(WinogradWeightTransform.Layout)
}

/// A convolution primitive for one input layout and shape whose output is `nChw16c`: weights
/// reordered once into the primitive's layout (or, for `Conv2d.winogradWeightsPerRun`,
/// transformed at each run), no activation reorders at run time.
final class DNNLBlockedConvPlan {
    let primitive: DNNLPrimitive
    let implementation: String
    let outputShape: [Int]
    let outputDesc: dnnl_memory_desc_t
    /// The weights' layout the primitive reads.
    let weightsDesc: dnnl_memory_desc_t
    /// The weights the primitive reads, kept for every run or made at each.
    private let weights: PlanWeights
    private let bias: DNNLMemory
    private let context: String

    /// `blockedOutput: false` lets oneDNN choose the output layout (for shapes it cannot write blocked).
    /// `weightsIn(layout)` gives the conv's weights reordered into `layout` (shared between the
    /// plans of one conv: a new input shape usually wants the same weights layout), or the
    /// Winograd layout to transform them into at each run.
    /// `rowPadding` replaces the conv's padding above and below (a band of rows of a larger input,
    /// `Conv2d.forwardInBands`).
    init(_ conv: Conv2d, input: DNNLTensor, algorithm: ConvolutionAlgorithm, blockedOutput: Bool = true,
         rowPadding: RowPadding? = nil, ctx: DNNLContext, weightsIn: (dnnl_memory_desc_t) throws -> PlanWeights) throws {
        let context = "Conv2d \(conv.name) on blocked input \(input.shape)"
        self.context = context
        var outShape = conv.outputShape(input.shape)
        if let rowPadding {
            outShape[2] = (input.shape[2] + rowPadding.top + rowPadding.bottom - conv.weight.shape[2]) / conv.stride + 1
        }
        outputShape = outShape
        let pd = try Self.primitiveDesc(conv, input: input.desc, outputShape: outShape, algorithm: algorithm,
                                        blockedOutput: blockedOutput, rowPadding: rowPadding, ctx: ctx, context: context)
        implementation = pd.implementation
        guard let wMD = pd.memoryDesc(dnnl_query_weights_md), let dstMD = pd.memoryDesc(dnnl_query_dst_md) else {
            throw EngineError.dnnl(call: "dnnl_primitive_desc_query_md", status: -1, context: context)
        }
        outputDesc = dstMD
        weightsDesc = wMD
        primitive = try DNNLPrimitive(pd, context: context)

        weights = try weightsIn(wMD)
        let bias = try DNNLMemory(DNNL.desc([conv.outChannels], dnnl_a, context: context), ctx, pointer: nil, context: context)
        conv.bias.withUnsafeBytes { b in
            if let base = b.baseAddress, let d = dnnlData(bias) { d.copyMemory(from: base, byteCount: b.count) }
        }
        self.bias = bias
    }

    /// The primitive descriptor oneDNN picks for `conv` on input `src` (output `outputShape`, in
    /// `nChw16c` when `blockedOutput`, else in the layout oneDNN prefers), the weights' layout left
    /// to oneDNN; fails with call `dnnl_primitive_desc_create` when it has no implementation.
    static func primitiveDesc(_ conv: Conv2d, input src: dnnl_memory_desc_t, outputShape: [Int], algorithm: ConvolutionAlgorithm,
                              blockedOutput: Bool, rowPadding: RowPadding? = nil, ctx: DNNLContext,
                              context: String) throws -> DNNLPrimitiveDesc {
        var src = src
        var dst = try DNNL.desc(outputShape, blockedOutput ? DNNLTensor.blockedTag : dnnl_format_tag_any, type: conv.outputType,
                                context: context)
        var wAny = try DNNL.desc(conv.userWeights.dims, dnnl_format_tag_any, type: conv.computeType, context: context)
        var biasMD = try DNNL.desc([conv.outChannels], dnnl_a, context: context)
        let strides = [dnnl_dim_t(conv.stride), dnnl_dim_t(conv.stride)]
        let padsBefore = [dnnl_dim_t(rowPadding?.top ?? conv.padding), dnnl_dim_t(conv.padding)]
        let padsAfter = [dnnl_dim_t(rowPadding?.bottom ?? conv.padding), dnnl_dim_t(conv.padding)]
        let alg = algorithm == .winograd && conv.asksForWinograd ? dnnl_convolution_winograd : dnnl_convolution_direct
        var opDesc = dnnl_convolution_desc_t()
        try dnnlCheck(dnnl_convolution_forward_desc_init(&opDesc, dnnl_forward_inference, alg, &src, &wAny, &biasMD, &dst,
                                                         strides, padsBefore, padsAfter),
                      "dnnl_convolution_forward_desc_init", context)
        let attr = try DNNL.attr(sum: conv.addsResidual, relu: conv.relu, context: context)
        defer { dnnl_primitive_attr_destroy(attr) }
        return try DNNL.primitiveDesc(&opDesc, attr: attr, ctx: ctx, context: context)
    }

    /// Runs `conv` on `input` into `output` (which holds the residual when the conv sums); weights
    /// made at each run are transformed into `WinogradWeightScratch`'s buffer.
    func run(_ conv: Conv2d, _ input: DNNLTensor, _ output: DNNLTensor, ctx: DNNLContext) throws {
        switch weights {
        case .kept(let memory):
            try run(input, output, weights: memory, ctx: ctx)
        case .perRun(let layout):
            let pointer = WinogradWeightScratch.shared.take(layout.size)
            defer { WinogradWeightScratch.shared.give(pointer) }
            WinogradWeightTransform.transform(conv.weight, scale: conv.weightScale, layout: layout, into: pointer)
            try run(input, output, weights: DNNLMemory(weightsDesc, ctx, pointer: pointer, context: context + " weights"), ctx: ctx)
        }
    }

    private func run(_ input: DNNLTensor, _ output: DNNLTensor, weights: DNNLMemory, ctx: DNNLContext) throws {
        try primitive.execute([
            dnnl_exec_arg_t(arg: DNNLArg.src, memory: input.memory.handle),
            dnnl_exec_arg_t(arg: DNNLArg.weights, memory: weights.handle),
            dnnl_exec_arg_t(arg: DNNLArg.bias, memory: bias.handle),
            dnnl_exec_arg_t(arg: DNNLArg.dst, memory: output.memory.handle),
        ], on: ctx, context: context)
    }
}

extension Tensor {
    /// The scalars' raw bytes.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
    }
}

extension Conv2d {
    /// `weight` in the layout `desc`, in new memory (`writeWeights`).
    func reorderWeights(into desc: dnnl_memory_desc_t, ctx: DNNLContext) throws -> DNNLMemory {
        let context = "Conv2d \(name) weights"
        let weights = try DNNLMemory(desc, ctx, pointer: nil, context: context)
        guard let data = dnnlData(weights) else {
            throw EngineError.dnnl(call: "dnnl_memory_get_data_handle", status: -1, context: context)
        }
        try writeWeights(into: desc, at: data, ctx: ctx)
        return weights
    }

    /// Writes `weight` (times `weightScale`) in the layout `desc` at `pointer`
    /// (`dnnl_memory_desc_get_size(desc)` bytes): oneDNN's f32 Winograd layouts by
    /// `WinogradWeightTransform`, any other by a oneDNN reorder from `oihw` / `goihw`.
    func writeWeights(into desc: dnnl_memory_desc_t, at pointer: UnsafeMutableRawPointer, ctx: DNNLContext) throws {
        if groups == 1, let layout = WinogradWeightTransform.Layout(desc, weightShape: weight.shape) {
            WinogradWeightTransform.transform(weight, scale: weightScale, layout: layout, into: pointer)
        } else {
            try oneDNNReorderWeights(into: desc, at: pointer, ctx: ctx)
        }
    }

    /// Writes `weight` (times `weightScale`) in the layout `desc` at `pointer` with a oneDNN reorder.
    func oneDNNReorderWeights(into desc: dnnl_memory_desc_t, at pointer: UnsafeMutableRawPointer, ctx: DNNLContext) throws {
        let context = "Conv2d \(name) weights"
        let (dims, tag) = userWeights
        let weights = try DNNLMemory(desc, ctx, pointer: pointer, context: context)
        try weight.withUnsafeBufferPointer {
            try DNNL.reorderWeights($0, dims: dims, tag: tag, scales: weightScale, into: weights, ctx, context: context)
        }
    }

    /// The oneDNN implementation the blocked path runs for an `nChw16c` input of `inputShape` in
    /// this layer's compute type (e.g. `jit_bf16_1x1:avx512_core_bf16`).
    func implementation(forBlocked inputShape: [Int]) throws -> String {
        let context = "Conv2d \(name) implementation query"
        let input = try DNNLTensor(shape: inputShape, desc: DNNL.desc(inputShape, DNNLTensor.blockedTag, type: computeType,
                                                                      context: context), context: context)
        return try blockedPlan(for: input, DNNLContext.get()).implementation
    }

    /// Applies the convolution to an activation kept in oneDNN's memory (any input layout, e.g.
    /// the plain image or `nChw16c`; converted first if its data type is not `computeType`),
    /// returning `nChw16c` in `outputType`. When the conv sums a residual, `residual` (`nChw16c`
    /// in `outputType`, the output's shape) receives the result and is returned: the caller hands it over.
    /// A large single image runs in bands of rows (`rowBands(for:)`), else the input runs whole
    /// (`forwardWhole`).
    func forward(_ input: DNNLTensor, accumulatingInto residual: DNNLTensor? = nil) throws -> DNNLTensor {
        guard input.shape.count == 4, input.shape[1] == inChannels, input.shape[2] + 2 * padding >= weight.shape[2],
              input.shape[3] + 2 * padding >= weight.shape[3] else {
            throw EngineError.inputShape(layer: name, expected: "[N, \(inChannels), H, W]", actual: input.shape)
        }
        precondition(addsResidual == (residual != nil), "Conv2d \(name): residual given iff addsResidual")
        if let bands = rowBands(for: input), let output = try forwardInBands(input, bands: bands) { return output }
        return try forwardWhole(input, accumulatingInto: residual)
    }

    /// `forward(_:accumulatingInto:)` on the whole input at once.
    func forwardWhole(_ input: DNNLTensor, accumulatingInto residual: DNNLTensor? = nil) throws -> DNNLTensor {
        let ctx = try DNNLContext.get()
        let input = input.dataType == computeType ? input : try input.blocked(computeType, context: "Conv2d \(name) input")
        let plan = try blockedPlan(for: input, ctx)
        let output: DNNLTensor
        if let residual {
            guard residual.shape == plan.outputShape, DNNL.equal(residual.desc, plan.outputDesc) else {
                throw EngineError.inputShape(layer: name + " (residual)", expected: "\(plan.outputShape) nChw16c",
                                             actual: residual.shape)
            }
            output = residual
        } else {
            output = try DNNLTensor(shape: plan.outputShape, desc: plan.outputDesc, context: "Conv2d \(name) output")
        }
        guard output.shape.reduce(1, *) > 0 else { return output }
        try LayerProfile.shared.measure("\(name) \(input.shape)") { try plan.run(self, input, output, ctx: ctx) }
        return output
    }
}

internal import CZooDNNL

/// One convolution-like oneDNN primitive ready to run on one input shape: weights already
/// reordered into the layout the primitive chose, plain NCHW user memories for input and output,
/// and internal (blocked) memories with reorders where the primitive prefers another layout.
final class DNNLConvPlan {
    let primitive: DNNLPrimitive
    let implementation: String
    let outputShape: [Int]
    private let userSrc: DNNLMemory
    private let userDst: DNNLMemory
    private let innerSrc: DNNLMemory?
    private let innerDst: DNNLMemory?
    private let srcIn: DNNLReorder?
    private let dstIn: DNNLReorder?
    private let dstOut: DNNLReorder?
    private let weights: DNNLMemory
    private let bias: DNNLMemory
    private let context: String

    /// Builds a plan.
    ///
    /// - Parameters:
    ///   - opDesc: fills a oneDNN operation descriptor given src, weights, bias, dst descriptors
    ///     (src/dst/weights in `dnnl_format_tag_any`), returning the status and the name of the call.
    ///   - weightsDims / weightsTag: the user layout of `weightValues`.
    ///   - weightScales: a factor per output channel the weights are multiplied by as they are
    ///     reordered (a folded FrozenBN), or nil.
    ///   - postOps: ReLU after the op, and whether the destination's prior content is added first.
    init(context: String, ctx: DNNLContext, inputShape: [Int], outputShape: [Int],
         weightsDims: [Int], weightsTag: dnnl_format_tag_t, weightValues: UnsafeBufferPointer<Float>, weightScales: [Float]? = nil, biasValues: [Float],
         sum: Bool, relu: Bool,
         opDesc: (UnsafePointer<dnnl_memory_desc_t>, UnsafePointer<dnnl_memory_desc_t>,
                  UnsafePointer<dnnl_memory_desc_t>, UnsafePointer<dnnl_memory_desc_t>) throws -> UnsafeMutableRawPointer) throws {
        self.context = context
        self.outputShape = outputShape
        var srcAny = try DNNL.desc(inputShape, dnnl_format_tag_any, context: context)
        var dstAny = try DNNL.desc(outputShape, dnnl_format_tag_any, context: context)
        var wAny = try DNNL.desc(weightsDims, dnnl_format_tag_any, context: context)
        var biasMD = try DNNL.desc([biasValues.count], dnnl_a, context: context)

        let opDescPointer = try opDesc(&srcAny, &wAny, &biasMD, &dstAny)
        defer { opDescPointer.deallocate() }

        let attr = try DNNL.attr(sum: sum, relu: relu, context: context)
        defer { dnnl_primitive_attr_destroy(attr) }

        let pd = try DNNL.primitiveDesc(UnsafeRawPointer(opDescPointer), attr: attr, ctx: ctx, context: context)
        implementation = pd.implementation
        primitive = try DNNLPrimitive(pd, context: context)

        guard let srcMD = pd.memoryDesc(dnnl_query_src_md), let dstMD = pd.memoryDesc(dnnl_query_dst_md),
              let wMD = pd.memoryDesc(dnnl_query_weights_md) else {
            throw EngineError.dnnl(call: "dnnl_primitive_desc_query_md", status: -1, context: context)
        }
        let plainTag = inputShape.count == 4 ? dnnl_nchw : dnnl_nc
        let userSrcMD = try DNNL.desc(inputShape, plainTag, context: context)
        let userDstMD = try DNNL.desc(outputShape, plainTag, context: context)
        let userSrc = try DNNLMemory(userSrcMD, ctx, pointer: nil, allocate: false, context: context)
        let userDst = try DNNLMemory(userDstMD, ctx, pointer: nil, allocate: false, context: context)
        self.userSrc = userSrc
        self.userDst = userDst
        let innerSrc = DNNL.equal(srcMD, userSrcMD) ? nil : try DNNLMemory(srcMD, ctx, pointer: nil, allocate: false, context: context)
        let innerDst = DNNL.equal(dstMD, userDstMD) ? nil : try DNNLMemory(dstMD, ctx, pointer: nil, allocate: false, context: context)
        self.innerSrc = innerSrc
        self.innerDst = innerDst
        srcIn = try innerSrc.map { try DNNLReorder(userSrc, $0, ctx, context: context + " (input reorder)") }
        dstIn = try innerDst.map { try DNNLReorder(userDst, $0, ctx, context: context + " (residual reorder)") }
        dstOut = try innerDst.map { try DNNLReorder($0, userDst, ctx, context: context + " (output reorder)") }

        // Weights: user layout -> the primitive's layout, once.
        let weights = try DNNLMemory(wMD, ctx, pointer: nil, context: context)
        self.weights = weights
        try DNNL.reorderWeights(weightValues, dims: weightsDims, tag: weightsTag, scales: weightScales, into: weights, ctx,
                                context: context + " (weights)")
        let bias = try DNNLMemory(biasMD, ctx, pointer: nil, context: context)
        self.bias = bias
        biasValues.withUnsafeBytes { src in
            if let base = src.baseAddress, let dst = dnnlData(bias) { dst.copyMemory(from: base, byteCount: src.count) }
        }
    }

    /// Runs the op: `input` NCHW values; `output` NCHW storage of `outputShape`, which must hold
    /// the residual when the plan sums.
    func run(input: UnsafeBufferPointer<Float>, output: UnsafeMutableBufferPointer<Float>, sum: Bool, ctx: DNNLContext) throws {
        guard let inBase = input.baseAddress, let outBase = output.baseAddress else { return }
        // The blocked copies live in buffers borrowed for this run (the caller serialises runs of one plan).
        let pool = DNNLScratchpadPool.shared
        let srcBuffer = innerSrc.map { pool.take($0.byteCount) }
        let dstBuffer = innerDst.map { pool.take($0.byteCount) }
        defer {
            if let srcBuffer { pool.give(srcBuffer) }
            if let dstBuffer { pool.give(dstBuffer) }
        }
        if let innerSrc, let srcBuffer { try innerSrc.setData(srcBuffer.pointer, context: context) }
        if let innerDst, let dstBuffer { try innerDst.setData(dstBuffer.pointer, context: context) }
        try userSrc.setData(UnsafeMutableRawPointer(mutating: inBase), context: context)
        try userDst.setData(UnsafeMutableRawPointer(outBase), context: context)
        let src = innerSrc ?? userSrc
        let dst = innerDst ?? userDst
        try srcIn?.run(ctx)
        if sum { try dstIn?.run(ctx) }
        try primitive.execute([
            dnnl_exec_arg_t(arg: DNNLArg.src, memory: src.handle),
            dnnl_exec_arg_t(arg: DNNLArg.weights, memory: weights.handle),
            dnnl_exec_arg_t(arg: DNNLArg.bias, memory: bias.handle),
            dnnl_exec_arg_t(arg: DNNLArg.dst, memory: dst.handle),
        ], on: ctx, context: context)
        try dstOut?.run(ctx)
    }
}

/// The data pointer of a oneDNN memory.
func dnnlData(_ memory: DNNLMemory) -> UnsafeMutableRawPointer? {
    var p: UnsafeMutableRawPointer?
    guard dnnl_memory_get_data_handle(memory.handle, &p) == dnnl_success else { return nil }
    return p
}

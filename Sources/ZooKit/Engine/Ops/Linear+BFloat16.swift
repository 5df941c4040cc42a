import Foundation
internal import CZooDNNL

/// A oneDNN inner product for one row count, computing in bfloat16 (inputs and weights) with
/// float32 accumulation, bias and output, ReLU fused.
final class DNNLInnerProductPlan {
    let primitive: DNNLPrimitive
    let implementation: String
    /// The bfloat16 `[rows, in]` input the primitive reads.
    let sourceDesc: dnnl_memory_desc_t
    let weightsDesc: dnnl_memory_desc_t
    let destinationDesc: dnnl_memory_desc_t

    init(rows: Int, inFeatures: Int, outFeatures: Int, relu: Bool, ctx: DNNLContext, context: String) throws {
        var src = try DNNL.desc([rows, inFeatures], dnnl_ab, type: dnnl_bf16, context: context)
        var weights = try DNNL.desc([outFeatures, inFeatures], dnnl_format_tag_any, type: dnnl_bf16, context: context)
        var bias = try DNNL.desc([outFeatures], dnnl_a, context: context)
        var dst = try DNNL.desc([rows, outFeatures], dnnl_ab, context: context)
        var opDesc = dnnl_inner_product_desc_t()
        try dnnlCheck(dnnl_inner_product_forward_desc_init(&opDesc, dnnl_forward_inference, &src, &weights, &bias, &dst),
                      "dnnl_inner_product_forward_desc_init", context)
        let attr = try DNNL.attr(relu: relu, context: context)
        defer { dnnl_primitive_attr_destroy(attr) }
        let pd = try DNNL.primitiveDesc(&opDesc, attr: attr, ctx: ctx, context: context)
        implementation = pd.implementation
        guard let wMD = pd.memoryDesc(dnnl_query_weights_md) else {
            throw EngineError.dnnl(call: "dnnl_primitive_desc_query_md", status: -1, context: context)
        }
        primitive = try DNNLPrimitive(pd, context: context)
        sourceDesc = src
        weightsDesc = wMD
        destinationDesc = dst
    }
}

extension Linear {
    /// `forward` in bfloat16 with `weight` (`[out, in]`): the input converted once (a oneDNN
    /// reorder), one inner product.
    func forwardBFloat16(_ input: Tensor, weight: Tensor) throws -> Tensor {
        let rows = input.shape.first ?? 0, n = outFeatures, k = inFeatures
        guard rows > 0, n > 0 else { return Tensor(shape: [rows, n]) }
        let context = "Linear \(name) on input \(input.shape)"
        let ctx = try DNNLContext.get()
        let (plan, weights, bias) = try bfloat16Plan(rows: rows, weight: weight, ctx: ctx, context: context)
        let source = try DNNLMemory(plan.sourceDesc, ctx, pointer: nil, context: context)
        try input.withUnsafeBufferPointer { x in
            guard let base = x.baseAddress else { return }
            let user = try DNNLMemory(DNNL.desc([rows, k], dnnl_ab, context: context), ctx,
                                      pointer: UnsafeMutableRawPointer(mutating: base), context: context)
            try DNNL.reorder(user, source, ctx, context: context + " (input to bf16)")
        }
        let out = try [Float].filled(count: rows * n) { buffer in
            guard let base = buffer.baseAddress else { return }
            let dst = try DNNLMemory(plan.destinationDesc, ctx, pointer: UnsafeMutableRawPointer(base), context: context)
            try plan.primitive.execute([
                dnnl_exec_arg_t(arg: DNNLArg.src, memory: source.handle),
                dnnl_exec_arg_t(arg: DNNLArg.weights, memory: weights.handle),
                dnnl_exec_arg_t(arg: DNNLArg.bias, memory: bias.handle),
                dnnl_exec_arg_t(arg: DNNLArg.dst, memory: dst.handle),
            ], on: ctx, context: context)
        }
        return Tensor(shape: [rows, n], scalars: out)
    }
}

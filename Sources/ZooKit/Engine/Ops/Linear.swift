import Foundation
internal import CZooDNNL

/// A fully connected layer (PyTorch `Linear`, `y = x W^T + b`) as one oneDNN sgemm over all rows,
/// with optional ReLU; in `ConvolutionPrecision.bfloat16`, one oneDNN bfloat16 inner product.
///
/// Input `[R, in]` (or any `[R, ...]` flattened to `in` per row), output `[R, out]`. In float32 a
/// weight under `transposeLimit` is kept transposed, `[in, out]`, for sgemm with both operands
/// untransposed (on this project's AMD EPYC machine the box head's 1000 x 1024 x 1024 product takes
/// 10.9 ms so, against 12.7 ms with sgemm transposing W); a larger one is read as given, `[out, in]`, a view of
/// the weights file when loaded from one, with sgemm transposing it (the 1000 x 12544 x 1024
/// product: 132.7 against 133.3 ms here, so copying 51 MB of fresh memory at start-up would buy
/// nothing; on the earlier sessions' Intel Xeon the untransposed one was about a fifth faster).
/// In bfloat16 the weight is kept as given and read once into the inner product's bfloat16 layout.
public final class Linear {
    /// The weight as the layer reads it.
    let weights: Weights
    enum Weights {
        /// `W^T`, `[in, out]`, for sgemm.
        case transposed(Tensor)
        /// `W`, `[out, in]`, for sgemm transposing it.
        case asGiven(Tensor)
        /// `W`, `[out, in]`, read once into the bfloat16 inner product's layout.
        case bfloat16(Tensor)
    }
    /// Float32 weights below this many bytes are transposed at build.
    static let transposeLimit = 16 << 20
    /// Bias `[out]`.
    public let bias: Tensor
    public let relu: Bool
    public let name: String
    public let inFeatures: Int
    public let outFeatures: Int
    /// `.bfloat16` computes in bfloat16 with float32 accumulation and output.
    public let precision: ConvolutionPrecision

    /// bfloat16 plans by row count, and the weights and bias in the layout they read.
    private var bfloat16Plans: [Int: DNNLInnerProductPlan] = [:]
    private var bfloat16Weights: (desc: dnnl_memory_desc_t, memory: DNNLMemory)?
    private var bfloat16Bias: DNNLMemory?
    private let lock = NSLock()

    /// A linear layer with the given parameters (`weight` is `[out, in]`).
    public init(weight: Tensor, bias: Tensor?, relu: Bool = false, precision: ConvolutionPrecision = .float32,
                name: String = "Linear") throws {
        precondition(weight.rank == 2, "Linear weight must be [out, in], got \(weight.shape)")
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        // (A layer with no inputs is left to sgemm's path, which gives the bias.)
        if precision == .bfloat16 && inFeatures > 0 {
            weights = .bfloat16(weight)
        } else if weight.count * MemoryLayout<Float>.size >= Self.transposeLimit {
            weights = .asGiven(weight)
        } else {
            weights = .transposed(try Self.transposed(weight))
        }
        self.bias = bias ?? Tensor(shape: [weight.shape[0]])
        precondition(self.bias.shape == [weight.shape[0]], "Linear bias must be [\(weight.shape[0])]")
        self.relu = relu
        self.precision = precision
        self.name = name
    }

    /// `[a, b]` -> `[b, a]`: one oneDNN reorder from layout `ab` to `ba`.
    static func transposed(_ m: Tensor) throws -> Tensor {
        let rows = m.shape[0], cols = m.shape[1], count = rows * cols
        guard count > 0 else { return Tensor(shape: [cols, rows]) }
        let scalars = try [Float].filled(count: count) { dst in
            try m.withUnsafeBufferPointer { src in
                guard let out = dst.baseAddress else { return }
                let ctx = try DNNLContext.get()
                let to = try DNNLMemory(try DNNL.desc([rows, cols], dnnl_ba, context: "Linear transpose"), ctx,
                                        pointer: UnsafeMutableRawPointer(out), context: "Linear transpose")
                try DNNL.reorderWeights(src, dims: [rows, cols], tag: dnnl_ab, scales: nil, into: to, ctx, context: "Linear transpose")
            }
        }
        return Tensor(shape: [cols, rows], scalars: scalars)
    }

    /// Loads `prefix.weight` (`[out, in]`, `out = -1` takes the file's) and `prefix.bias`.
    public convenience init(_ weights: StateDict, _ prefix: String, in inFeatures: Int, out outFeatures: Int, relu: Bool = false,
                            precision: ConvolutionPrecision = .float32) throws {
        let w = try weights.tensor(prefix + ".weight", shape: [outFeatures, inFeatures])
        let b = try weights.tensor(prefix + ".bias", shape: [w.shape[0]])
        try self.init(weight: w, bias: b, relu: relu, precision: precision, name: prefix)
    }

    /// The bfloat16 plan for `rows` rows, with the weights (`weight`, `[out, in]`, converted once)
    /// and bias it reads.
    func bfloat16Plan(rows: Int, weight: Tensor, ctx: DNNLContext, context: String) throws
        -> (DNNLInnerProductPlan, DNNLMemory, DNNLMemory) {
        lock.lock()
        defer { lock.unlock() }
        let plan: DNNLInnerProductPlan
        if let p = bfloat16Plans[rows] {
            plan = p
        } else {
            plan = try PrimitiveSetupClock.shared.measure {
                try DNNLInnerProductPlan(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, relu: relu, ctx: ctx,
                                         context: context)
            }
            // Proposal counts vary per image: keep the cache bounded.
            if bfloat16Plans.count >= 8 { bfloat16Plans.removeAll() }
            bfloat16Plans[rows] = plan
        }
        let weights: DNNLMemory
        if let w = bfloat16Weights, DNNL.equal(w.desc, plan.weightsDesc) {
            weights = w.memory
        } else {
            weights = try DNNLMemory(plan.weightsDesc, ctx, pointer: nil, context: context)
            try weight.withUnsafeBufferPointer {
                try DNNL.reorderWeights($0, dims: [outFeatures, inFeatures], tag: dnnl_ab, scales: nil, into: weights, ctx,
                                        context: context + " (weights to bf16)")
            }
            bfloat16Weights = (plan.weightsDesc, weights)
        }
        let bias: DNNLMemory
        if let b = bfloat16Bias {
            bias = b
        } else {
            bias = try DNNLMemory(DNNL.desc([outFeatures], dnnl_a, context: context), ctx, pointer: nil, context: context)
            self.bias.withUnsafeBytes { b in
                if let base = b.baseAddress, let d = dnnlData(bias) { d.copyMemory(from: base, byteCount: b.count) }
            }
            bfloat16Bias = bias
        }
        return (plan, weights, bias)
    }

    /// Applies the layer to every row of `input` (`[R, ...]` with `in` values per row).
    public func forward(_ input: Tensor) throws -> Tensor {
        let rows = input.shape.first ?? 0
        guard input.rank >= 1, rows * inFeatures == input.count else {
            throw EngineError.inputShape(layer: name, expected: "[R, \(inFeatures)] (flattened)", actual: input.shape)
        }
        let weight: Tensor, transposed: Bool
        switch weights {
        case .bfloat16(let w): return try forwardBFloat16(input, weight: w)
        case .asGiven(let w): (weight, transposed) = (w, false)
        case .transposed(let t): (weight, transposed) = (t, true)
        }
        let n = outFeatures, k = inFeatures
        // Start from the bias in every row, then C = 1 * A * W^T + 1 * C.
        var out = [Float](repeating: 0, count: rows * n)
        let b = bias.scalars
        for r in 0..<rows { out.replaceSubrange(r * n..<(r + 1) * n, with: b) }
        if rows > 0, k > 0 {
            let status = input.withUnsafeBufferPointer { a in
                weight.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBufferPointer { c in
                        // B is W^T ([in, out], leading dimension out) or W read transposed ([out, in], in).
                        dnnl_sgemm(CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: transposed ? "N" : "T")),
                                   dnnl_dim_t(rows), dnnl_dim_t(n), dnnl_dim_t(k), 1.0,
                                   a.baseAddress, dnnl_dim_t(k), b.baseAddress, dnnl_dim_t(transposed ? n : k), 1.0,
                                   c.baseAddress, dnnl_dim_t(n))
                    }
                }
            }
            try dnnlCheck(status, "dnnl_sgemm", "Linear \(name) on input \(input.shape)")
        }
        if relu { out.withUnsafeMutableBufferPointer { Activations.reluInPlace($0) } }
        return Tensor(shape: [rows, n], scalars: out)
    }
}

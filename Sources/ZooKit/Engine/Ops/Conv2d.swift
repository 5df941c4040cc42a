import Foundation
internal import CZooDNNL

/// How oneDNN computes a convolution.
public enum ConvolutionAlgorithm: Sendable {
    /// Direct convolution (`dnnl_convolution_direct`).
    case direct
    /// Winograd (`dnnl_convolution_winograd`) where oneDNN implements it for the layer
    /// (3x3, stride 1), else direct.
    case winograd
}

/// A 2-D convolution (PyTorch `Conv2d`, detectron2's `Conv2d` with an optional norm folded in)
/// on oneDNN, with optional fused ReLU and fused residual sum.
///
/// Input and output are `[N, C, H, W]` float32 (bfloat16 between layers computing in it; see
/// `precision`). Primitives are created once per input shape.
public final class Conv2d {
    /// Weight `[outChannels, inChannels / groups, kh, kw]` as loaded (a view of the weights file
    /// stays one); with `weightScale`, the layer computes with `foldedWeight`.
    public let weight: Tensor
    /// A factor per output channel that multiplies `weight` (a FrozenBN folded in), applied where
    /// the weights are laid out for oneDNN (reorder, Winograd transform), so that the loaded
    /// weight is never copied only to be scaled; nil when there is none.
    public let weightScale: [Float]?
    /// Folded bias `[outChannels]`.
    public let bias: Tensor
    public let stride: Int
    public let padding: Int
    public let groups: Int
    /// Whether ReLU follows (fused as a oneDNN post-op).
    public let relu: Bool
    /// Whether `forward(_:residual:)` adds a residual before the ReLU (a oneDNN sum post-op).
    public let addsResidual: Bool
    public let algorithm: ConvolutionAlgorithm
    /// The precision asked for; `computesInBFloat16` says whether this layer uses bfloat16.
    public let precision: ConvolutionPrecision
    /// Whether a layer computing in bfloat16 leaves its blocked output in bfloat16 (set once, by
    /// the module owning it, where only bfloat16 convolutions read the output, before the first
    /// `forward`: plans keep the type they were made with); else outputs are float32.
    public internal(set) var bfloat16Output = false
    /// Whether this layer computes in bfloat16: asked for, and not one that runs with Winograd
    /// (3x3, stride 1, ungrouped, `.winograd`), which is faster in float32.
    public var computesInBFloat16: Bool {
        precision == .bfloat16
            && !(algorithm == .winograd && weight.shape[2] == 3 && weight.shape[3] == 3 && stride == 1 && groups == 1)
    }
    /// oneDNN's data type for this layer's input and weights.
    var computeType: dnnl_data_type_t { computesInBFloat16 ? dnnl_bf16 : dnnl_f32 }
    /// The weight's dims and layout as oneDNN reads `weight`: `[O, I, kh, kw]` `oihw`, or
    /// `[G, O/G, I/G, kh, kw]` `goihw` for a grouped convolution.
    var userWeights: (dims: [Int], tag: dnnl_format_tag_t) {
        let o = outChannels, kh = weight.shape[2], kw = weight.shape[3]
        return groups == 1 ? ([o, weight.shape[1], kh, kw], dnnl_oihw)
            : ([groups, o / groups, weight.shape[1], kh, kw], dnnl_goihw)
    }
    /// Whether the blocked path asks oneDNN for its Winograd algorithm (float32 `.winograd`
    /// layers; oneDNN may still have none for a shape).
    var asksForWinograd: Bool { algorithm == .winograd && !computesInBFloat16 }
    /// oneDNN's data type for this layer's blocked output (and residual).
    var outputType: dnnl_data_type_t { computesInBFloat16 && bfloat16Output ? dnnl_bf16 : dnnl_f32 }
    public var inChannels: Int { weight.shape[1] * groups }
    public var outChannels: Int { weight.shape[0] }
    /// A name for errors, usually the detectron2 key prefix.
    public let name: String

    /// Whether this layer transforms its Winograd weights at each run, into
    /// `WinogradWeightScratch`'s buffer, instead of keeping them (in memory or in `winogradCache`).
    /// The mask and keypoint heads set it: their convolutions run on many positions (100 detections
    /// of 14x14), so the transform costs little beside the convolution (a 512-channel layer takes
    /// 181-184 ms instead of 171-174), and the Winograd weights, four times the size of the plain
    /// ones, are never held (Keypoint R-CNN's head: 283 MB, which a new process would first have
    /// to touch). Weights in other layouts (direct, bfloat16) are still made once and kept.
    /// Changing it drops the layer's plans and kept weights; the next `forward` makes them anew.
    public var winogradWeightsPerRun: Bool {
        get { lock.lock(); defer { lock.unlock() }; return perRun }
        set {
            lock.lock()
            defer { lock.unlock() }
            guard newValue != perRun else { return }
            perRun = newValue
            blockedPlans.removeAll()
            bandPlans.removeAll()
            weightMemories.removeAll()
        }
    }
    /// `winogradWeightsPerRun`'s value (guarded by `lock`).
    private var perRun = false

    /// Bytes of weights this layer holds in oneDNN's layouts (tests).
    var heldWeightBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return weightMemories.reduce(0) { $0 + $1.memory.byteCount }
    }

    /// Where this layer's Winograd weights are cached on disk; nil uses `WinogradWeightCache.shared`.
    public var winogradCache: WinogradWeightCache?

    private var plans: [[Int]: DNNLConvPlan] = [:]
    private var blockedPlans: [[Int]: DNNLBlockedConvPlan] = [:]
    /// Plans for bands of rows (`forwardInBands`), apart so that they do not push out the others.
    private var bandPlans: [[Int]: DNNLBlockedConvPlan] = [:]
    /// Reordered weights by layout, shared by the blocked plans (the heads see a new row count per
    /// image; their plans reuse one reordered / Winograd-transformed copy).
    private var weightMemories: [(desc: dnnl_memory_desc_t, memory: DNNLMemory)] = []
    /// `winogradWeightsDesc(forBlocked:)`'s answers by input shape (nil: no Winograd for it);
    /// read and written only under `lock`.
    var winogradLayouts: [[Int]: dnnl_memory_desc_t?] = [:]
    /// Guards the plans, the weight memories and `winogradLayouts`.
    let lock = NSLock()

    /// A convolution with the given parameters: `weight` multiplied per output channel by
    /// `weightScale` when given, and `bias` (already folded).
    public init(weight: Tensor, weightScale: [Float]? = nil, bias: Tensor?, stride: Int = 1, padding: Int = 0,
                groups: Int = 1, relu: Bool = false, addsResidual: Bool = false, algorithm: ConvolutionAlgorithm = .direct,
                precision: ConvolutionPrecision = .float32, name: String = "Conv2d") {
        precondition(weight.rank == 4, "Conv2d weight must be [O, I/g, kh, kw], got \(weight.shape)")
        precondition(weight.shape[0] % groups == 0, "Conv2d out channels \(weight.shape[0]) not divisible by groups \(groups)")
        precondition(weightScale == nil || weightScale?.count == weight.shape[0], "Conv2d weight scale must have one factor per output channel")
        self.weight = weight
        self.weightScale = weightScale
        self.bias = bias ?? Tensor(shape: [weight.shape[0]])
        precondition(self.bias.shape == [weight.shape[0]], "Conv2d bias must be [\(weight.shape[0])]")
        self.stride = stride
        self.padding = padding
        self.groups = groups
        self.relu = relu
        self.addsResidual = addsResidual
        self.algorithm = algorithm
        self.precision = precision
        self.name = name
    }

    /// Loads `prefix.weight` (`[out, in/groups, k, k]`) and either `prefix.bias` or a FrozenBN at
    /// `prefix.norm.*` (folded in).
    public convenience init(_ weights: StateDict, _ prefix: String, in inChannels: Int, out outChannels: Int,
                            kernel: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1,
                            norm: Bool = false, bias: Bool = true, relu: Bool = false, addsResidual: Bool = false,
                            algorithm: ConvolutionAlgorithm = .direct, precision: ConvolutionPrecision = .float32) throws {
        let p = try weights.convParameters(prefix, shape: [outChannels, inChannels / groups, kernel, kernel],
                                           norm: norm, bias: bias)
        self.init(weight: p.weight, weightScale: p.scale, bias: p.bias, stride: stride, padding: padding, groups: groups,
                  relu: relu, addsResidual: addsResidual, algorithm: algorithm, precision: precision, name: prefix)
    }

    /// The weight the layer computes with: `weight`, each output channel's filter multiplied by
    /// its `weightScale` factor (in float32, as the weights are laid out for oneDNN). A new array
    /// when there is a scale.
    public var foldedWeight: Tensor {
        guard let weightScale else { return weight }
        return Tensor(shape: weight.shape, scalars: weight.withUnsafeBufferPointer { DNNL.folded($0, scales: weightScale) })
    }

    /// Output shape for an `[N, C, H, W]` input.
    public func outputShape(_ input: [Int]) -> [Int] {
        let kh = weight.shape[2], kw = weight.shape[3]
        return [input[0], outChannels, (input[2] + 2 * padding - kh) / stride + 1, (input[3] + 2 * padding - kw) / stride + 1]
    }

    /// The oneDNN implementation used for `inputShape` (e.g. `jit_wino_4x3:avx512_core`).
    public func implementation(for inputShape: [Int]) throws -> String {
        try plan(inputShape, DNNLContext.get()).implementation
    }

    /// Applies the convolution (then residual add, then ReLU, as configured) to `[N, C, H, W]` input.
    public func forward(_ input: Tensor, residual: Tensor? = nil) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == inChannels, input.shape[2] + 2 * padding >= weight.shape[2],
              input.shape[3] + 2 * padding >= weight.shape[3] else {
            throw EngineError.inputShape(layer: name, expected: "[N, \(inChannels), H, W]", actual: input.shape)
        }
        precondition(addsResidual == (residual != nil), "Conv2d \(name): residual given iff addsResidual")
        if computesInBFloat16 {
            // bfloat16 kernels read blocked memory only.
            let x = try DNNLTensor(plain: input, context: "Conv2d \(name) input")
            let r = try residual.map {
                try DNNLTensor(plain: $0, context: "Conv2d \(name) residual").blocked(outputType, context: "Conv2d \(name) residual")
            }
            return try forward(x, accumulatingInto: r).tensor(context: "Conv2d \(name) output")
        }
        let ctx = try DNNLContext.get()
        let outShape = outputShape(input.shape)
        var output: Tensor
        if let residual {
            guard residual.shape == outShape else {
                throw EngineError.inputShape(layer: name + " (residual)", expected: "\(outShape)", actual: residual.shape)
            }
            output = residual
        } else {
            output = Tensor(shape: outShape)
        }
        guard output.count > 0 else { return output }
        lock.lock()
        defer { lock.unlock() }
        let plan = try plan(input.shape, ctx)
        try input.withUnsafeBufferPointer { inBuf in
            try output.withUnsafeMutableBufferPointer { outBuf in
                try plan.run(input: inBuf, output: outBuf, sum: addsResidual, ctx: ctx)
            }
        }
        return output
    }

    /// The plan for an input held in oneDNN memory (keyed by shape, whether it is `nChw16c`, and
    /// its data type).
    /// `rowPadding` gives a band's plan (`forwardInBands`), kept apart from the others.
    func blockedPlan(for input: DNNLTensor, _ ctx: DNNLContext, rowPadding: RowPadding? = nil) throws -> DNNLBlockedConvPlan {
        let blocked = DNNLTensor.isBlocked(input.desc, shape: input.shape, type: input.dataType)
        var key = input.shape + [blocked ? 1 : 0, Int(input.dataType.rawValue)]
        if let rowPadding { key += [rowPadding.top, rowPadding.bottom] }
        lock.lock()
        defer { lock.unlock() }
        if let p = rowPadding == nil ? blockedPlans[key] : bandPlans[key] { return p }
        let p = try PrimitiveSetupClock.shared.measure { try makeBlockedPlan(for: input, ctx, rowPadding: rowPadding) }
        if rowPadding == nil {
            if blockedPlans.count >= 8 { blockedPlans.removeAll() }
            blockedPlans[key] = p
        } else {
            if bandPlans.count >= 8 { bandPlans.removeAll() }
            bandPlans[key] = p
        }
        return p
    }

    /// A new plan for `blockedPlan` (called with the lock held).
    private func makeBlockedPlan(for input: DNNLTensor, _ ctx: DNNLContext, rowPadding: RowPadding?) throws -> DNNLBlockedConvPlan {
        let weightsIn = { (desc: dnnl_memory_desc_t) throws -> PlanWeights in
            if self.perRun, self.groups == 1, let layout = WinogradWeightTransform.Layout(desc, weightShape: self.weight.shape) {
                return .perRun(layout)
            }
            if let m = self.weightMemories.first(where: { DNNL.equal($0.desc, desc) }) { return .kept(m.memory) }
            var cached: DNNLMemory?
            if desc.format_kind == dnnl_format_kind_wino, let cache = self.winogradCache ?? WinogradWeightCache.shared {
                cached = try cache.memory(weights: self.weight, scale: self.weightScale, desc: desc, ctx: ctx) { pointer in
                    try self.writeWeights(into: desc, at: pointer, ctx: ctx)
                }
            }
            let m = try cached ?? self.reorderWeights(into: desc, ctx: ctx)
            if self.weightMemories.count >= 2 { self.weightMemories.removeFirst() }
            self.weightMemories.append((desc, m))
            return .kept(m)
        }
        let p: DNNLBlockedConvPlan
        do {
            p = try DNNLBlockedConvPlan(self, input: input, algorithm: algorithm, rowPadding: rowPadding, ctx: ctx,
                                        weightsIn: weightsIn)
        } catch EngineError.dnnl(let call, _, _) where call == "dnnl_primitive_desc_create" {
            // No Winograd for this layer, or no blocked output for it (then only a sum-free conv).
            do {
                p = try DNNLBlockedConvPlan(self, input: input, algorithm: .direct, rowPadding: rowPadding, ctx: ctx,
                                            weightsIn: weightsIn)
            } catch EngineError.dnnl(let call, _, _) where call == "dnnl_primitive_desc_create" && !addsResidual {
                p = try DNNLBlockedConvPlan(self, input: input, algorithm: .direct, blockedOutput: false, rowPadding: rowPadding,
                                            ctx: ctx, weightsIn: weightsIn)
            }
        }
        return p
    }

    private func plan(_ inputShape: [Int], _ ctx: DNNLContext) throws -> DNNLConvPlan {
        if let p = plans[inputShape] { return p }
        let p = try PrimitiveSetupClock.shared.measure { () throws -> DNNLConvPlan in
            do {
                return try makePlan(inputShape, ctx, algorithm: algorithm)
            } catch EngineError.dnnl(let call, _, _) where algorithm == .winograd && call == "dnnl_primitive_desc_create" {
                return try makePlan(inputShape, ctx, algorithm: .direct)
            }
        }
        // Heads see a new row count per image: keep the cache (and its reordered weights) bounded.
        if plans.count >= 8 { plans.removeAll() }
        plans[inputShape] = p
        return p
    }

    private func makePlan(_ inputShape: [Int], _ ctx: DNNLContext, algorithm: ConvolutionAlgorithm) throws -> DNNLConvPlan {
        let (dims, tag) = userWeights
        let strides = [dnnl_dim_t(stride), dnnl_dim_t(stride)]
        let pads = [dnnl_dim_t(padding), dnnl_dim_t(padding)]
        let alg = algorithm == .winograd ? dnnl_convolution_winograd : dnnl_convolution_direct
        let context = "Conv2d \(name) on input \(inputShape)"
        // The weights are read in place (a view of the weights file stays one).
        return try weight.withUnsafeBufferPointer { weightValues in try DNNLConvPlan(
            context: context, ctx: ctx, inputShape: inputShape, outputShape: outputShape(inputShape),
            weightsDims: dims, weightsTag: tag, weightValues: weightValues, weightScales: weightScale, biasValues: bias.scalars,
            sum: addsResidual, relu: relu
        ) { src, w, b, dst in
            let desc = UnsafeMutablePointer<dnnl_convolution_desc_t>.allocate(capacity: 1)
            let status = dnnl_convolution_forward_desc_init(desc, dnnl_forward_inference, alg, src, w, b, dst,
                                                            strides, pads, pads)
            guard status == dnnl_success else {
                desc.deallocate()
                throw EngineError.dnnl(call: "dnnl_convolution_forward_desc_init", status: Int(status.rawValue), context: context)
            }
            return UnsafeMutableRawPointer(desc)
        } }
    }
}

internal import CZooDNNL

/// The number format a model's convolutions compute in.
///
/// `bfloat16` is opt-in (`zoo run --precision bf16`): convolutions and the box head's fully
/// connected layers read bfloat16 activations and weights and accumulate in float32 (oneDNN's
/// `avx512_core_bf16` kernels); those layers run about twice as fast as in float32 direct
/// convolution and sgemm, whole models 1.1-1.4x (README, performance section).
/// Convolutions that run with Winograd stay float32, since oneDNN 2.6
/// has no bfloat16 Winograd and its float32 one is faster than bfloat16 direct convolution on
/// AVX512-BF16 CPUs; so do the stem (whose input is the image) and layers with few output
/// channels (the RPN's logits and deltas, the mask predictor), where converting the input would
/// cost more than it saves. Answers move further from detectron2's than float noise: see the
/// README's performance section for how far on the fixtures.
///
/// `GeneralizedRCNN` and `ModelLoader` refuse bfloat16 on a CPU without AVX512-BF16
/// (`checkAvailable`); layers built directly (`Conv2d`, `Linear`, the heads) do not check, and
/// there oneDNN emulates bfloat16, slowly.
public enum ConvolutionPrecision: String, Sendable, CaseIterable {
    /// float32 throughout (the default).
    case float32 = "f32"
    /// bfloat16 inputs and weights, float32 accumulation, where it pays (see the type's notes).
    case bfloat16 = "bf16"

    /// oneDNN's data type for activations and weights.
    var dataType: dnnl_data_type_t {
        switch self {
        case .float32: return dnnl_f32
        case .bfloat16: return dnnl_bf16
        }
    }

    /// Throws `EngineError.precisionUnavailable` unless oneDNN runs this precision natively on this
    /// CPU (bfloat16 needs AVX512-BF16; without it oneDNN emulates bfloat16, slower than float32).
    public func checkAvailable() throws {
        if let problem = problem(onISA: dnnl_get_effective_cpu_isa().rawValue) { throw problem }
    }

    /// Why this precision cannot run on a CPU whose best oneDNN instruction set is `isa` (a
    /// `dnnl_cpu_isa_t` value), or nil.
    func problem(onISA isa: UInt32) -> EngineError? {
        let needed = dnnl_cpu_isa_avx512_core_bf16.rawValue
        guard self == .bfloat16, isa & needed != needed else { return nil }
        return EngineError.precisionUnavailable(precision: rawValue, cpu: Self.name(of: dnnl_cpu_isa_t(rawValue: isa)))
    }

    /// Whether `checkAvailable()` passes.
    public var isAvailable: Bool { (try? checkAvailable()) != nil }

    /// oneDNN's name for an instruction set.
    static func name(of isa: dnnl_cpu_isa_t) -> String {
        switch isa {
        case dnnl_cpu_isa_sse41: return "sse41"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        default: return "isa 0x" + String(isa.rawValue, radix: 16)
        }
    }
}

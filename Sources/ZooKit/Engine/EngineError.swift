/// What went wrong in the inference engine: a oneDNN call, a weight that is missing or misshapen,
/// or an input whose shape a layer cannot take.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// A oneDNN C call returned a status other than `dnnl_success`.
    case dnnl(call: String, status: Int, context: String)
    /// The checkpoint has no tensor under `key` although the model needs it.
    case missingWeight(key: String)
    /// The checkpoint's tensor `key` has `actual` shape where the model needs `expected`.
    case weightShape(key: String, expected: [Int], actual: [Int])
    /// A layer was given an input it cannot process.
    case inputShape(layer: String, expected: String, actual: [Int])
    /// The config asks for an architecture piece the engine does not implement.
    case unsupported(key: String, value: String, supported: [String])
    /// The CPU cannot run `precision` natively (`cpu` is oneDNN's best instruction set here).
    case precisionUnavailable(precision: String, cpu: String)

    public var description: String {
        switch self {
        case let .dnnl(call, status, context):
            return "oneDNN call \(call) failed with status \(status) (\(EngineError.statusName(status))) in \(context); "
                + "check that libdnnl2 2.6 is installed and the layer's shapes are valid"
        case let .missingWeight(key):
            return "weight '\(key)' is missing from the checkpoint; check that the file matches the model's config"
        case let .weightShape(key, expected, actual):
            return "weight '\(key)' has shape \(actual) but the model needs \(expected); check the config's widths and class counts"
        case let .inputShape(layer, expected, actual):
            return "layer \(layer) got an input of shape \(actual) but needs \(expected)"
        case let .unsupported(key, value, supported):
            return "config \(key) = \(value) is not supported by zoo's engine yet (supported: \(supported.joined(separator: ", ")))"
        case let .precisionUnavailable(precision, cpu):
            return "precision \(precision) needs a CPU with AVX512-BF16, and oneDNN finds only \(cpu) here; "
                + "run with the default precision, f32"
        }
    }

    static func statusName(_ status: Int) -> String {
        switch status {
        case 1: return "out of memory"
        case 2: return "invalid arguments"
        case 3: return "unimplemented"
        case 4: return "iterator ends"
        case 5: return "runtime error"
        case 6: return "not required"
        default: return "unknown status"
        }
    }
}

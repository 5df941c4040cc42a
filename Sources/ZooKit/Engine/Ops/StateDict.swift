/// A checkpoint's tensors by detectron2 key (`backbone.bottom_up.stem.conv1.weight`), read with
/// shape checks while the model is built; remembers which keys the model used, so the caller can
/// warn about the rest as detectron2 does.
public final class StateDict {
    /// Every key of the checkpoint.
    public let keys: Set<String>
    private let storage: [String: Tensor]
    private(set) var used: Set<String> = []

    /// Wraps `tensors` (e.g. `LoadedWeights.tensors`).
    public init(_ tensors: consuming [String: Tensor]) {
        keys = Set(tensors.keys)
        storage = tensors
    }

    /// Keys in the checkpoint that no module read, sorted.
    public var unusedKeys: [String] { keys.filter { !used.contains($0) }.sorted() }

    /// Whether the checkpoint has `key`.
    public func contains(_ key: String) -> Bool { keys.contains(key) }

    /// The tensor `key`, whose shape must equal `shape` (`-1` matches any extent).
    public func tensor(_ key: String, shape: [Int]) throws -> Tensor {
        guard let t = storage[key] else { throw EngineError.missingWeight(key: key) }
        let fits = t.shape.count == shape.count && zip(t.shape, shape).allSatisfy { $1 < 0 || $0 == $1 }
        guard fits else { throw EngineError.weightShape(key: key, expected: shape, actual: t.shape) }
        used.insert(key)
        return t
    }

    /// A convolution's weight `[O, I/groups, kh, kw]` and bias `[O]` from `prefix.weight`, and
    /// either `prefix.bias` or a FrozenBN at `prefix.norm.*` folded in (detectron2's
    /// `FrozenBatchNorm2d`: `(x - running_mean) / sqrt(running_var + 1e-5) * weight + bias`).
    /// A norm without `running_mean`/`running_var` (Caffe2 files) uses 0 and 1, as
    /// `FrozenBatchNorm2d._load_from_state_dict` does. The norm's per-output-channel factor is
    /// returned as `scale` rather than multiplied into the weight, which stays as loaded (a view
    /// of the weights file stays one): `Conv2d` applies it where it lays the weight out for oneDNN.
    func convParameters(_ prefix: String, shape: [Int], norm: Bool,
                        bias hasBias: Bool) throws -> (weight: Tensor, scale: [Float]?, bias: Tensor) {
        let weight = try tensor(prefix + ".weight", shape: shape)
        let out = weight.shape[0]
        let bias = hasBias ? try tensor(prefix + ".bias", shape: [out]) : Tensor(shape: [out])
        guard norm else { return (weight, nil, bias) }
        let n = prefix + ".norm."
        let gamma = try tensor(n + "weight", shape: [out])
        let beta = try tensor(n + "bias", shape: [out])
        let hasStats = contains(n + "running_mean") || contains(n + "running_var")
        let mean = hasStats ? try tensor(n + "running_mean", shape: [out]) : Tensor(shape: [out], repeating: 0)
        let variance = hasStats ? try tensor(n + "running_var", shape: [out]) : Tensor(shape: [out], repeating: 1)
        let g = gamma.scalars, v = variance.scalars, b = beta.scalars, m = mean.scalars, given = bias.scalars
        let scale = (0..<out).map { g[$0] / (v[$0] + 1e-5).squareRoot() }
        let folded = (0..<out).map { b[$0] + (given[$0] - m[$0]) * scale[$0] }
        return (weight, scale, Tensor(shape: [out], scalars: folded))
    }
}

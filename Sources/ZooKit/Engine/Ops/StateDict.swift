/// A checkpoint's tensors by detectron2 key (`backbone.bottom_up.stem.conv1.weight`), read with
/// shape checks while the model is built; remembers which keys the model used, so the caller can
/// warn about the rest as detectron2 does.
public final class StateDict {
    /// Every tensor of the checkpoint, by detectron2 key.
    public let tensors: [String: Tensor]
    private(set) var used: Set<String> = []

    /// Wraps `tensors` (e.g. `LoadedWeights.tensors`).
    public init(_ tensors: [String: Tensor]) {
        self.tensors = tensors
    }

    /// Keys in the checkpoint that no module read, sorted.
    public var unusedKeys: [String] { tensors.keys.filter { !used.contains($0) }.sorted() }

    /// Whether the checkpoint has `key`.
    public func contains(_ key: String) -> Bool { tensors[key] != nil }

    /// The tensor `key`, whose shape must equal `shape` (`-1` matches any extent).
    public func tensor(_ key: String, shape: [Int]) throws -> Tensor {
        guard let t = tensors[key] else { throw EngineError.missingWeight(key: key) }
        let fits = t.shape.count == shape.count && zip(t.shape, shape).allSatisfy { $1 < 0 || $0 == $1 }
        guard fits else { throw EngineError.weightShape(key: key, expected: shape, actual: t.shape) }
        used.insert(key)
        return t
    }

    /// A convolution's weight `[O, I/groups, kh, kw]` and bias `[O]` from `prefix.weight`, and
    /// either `prefix.bias` or a FrozenBN at `prefix.norm.*` folded in (detectron2's
    /// `FrozenBatchNorm2d`: `(x - running_mean) / sqrt(running_var + 1e-5) * weight + bias`).
    /// A norm without `running_mean`/`running_var` (Caffe2 files) uses 0 and 1, as
    /// `FrozenBatchNorm2d._load_from_state_dict` does.
    func convParameters(_ prefix: String, shape: [Int], norm: Bool, bias hasBias: Bool) throws -> (weight: Tensor, bias: Tensor) {
        var weight = try tensor(prefix + ".weight", shape: shape)
        let out = weight.shape[0]
        var bias = hasBias ? try tensor(prefix + ".bias", shape: [out]) : Tensor(shape: [out])
        guard norm else { return (weight, bias) }
        let n = prefix + ".norm."
        let gamma = try tensor(n + "weight", shape: [out])
        let beta = try tensor(n + "bias", shape: [out])
        let hasStats = contains(n + "running_mean") || contains(n + "running_var")
        let mean = hasStats ? try tensor(n + "running_mean", shape: [out]) : Tensor(shape: [out], repeating: 0)
        let variance = hasStats ? try tensor(n + "running_var", shape: [out]) : Tensor(shape: [out], repeating: 1)
        let perOut = weight.count / max(out, 1)
        for o in 0..<out {
            let scale = gamma.scalars[o] / (variance.scalars[o] + 1e-5).squareRoot()
            for i in 0..<perOut { weight.scalars[o * perOut + i] *= scale }
            bias.scalars[o] = beta.scalars[o] + (bias.scalars[o] - mean.scalars[o]) * scale
        }
        return (weight, bias)
    }
}

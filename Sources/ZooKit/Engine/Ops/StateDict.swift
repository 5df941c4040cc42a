/// A checkpoint's tensors by detectron2 key (`backbone.bottom_up.stem.conv1.weight`), read with
/// shape checks while the model is built; remembers which keys the model used, so the caller can
/// warn about the rest as detectron2 does.
public final class StateDict {
    /// Every key of the checkpoint.
    public let keys: Set<String>
    /// The tensors not yet taken (see `convParameters`).
    private var storage: [String: Tensor]
    private(set) var used: Set<String> = []

    /// Wraps `tensors` (e.g. `LoadedWeights.tensors`). Given the only reference (`consume`),
    /// FrozenBN is folded into the convolution weights in place instead of into copies.
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
        guard let t = storage[key] else {
            throw keys.contains(key) ? EngineError.weightAlreadyFolded(key: key) : EngineError.missingWeight(key: key)
        }
        let fits = t.shape.count == shape.count && zip(t.shape, shape).allSatisfy { $1 < 0 || $0 == $1 }
        guard fits else { throw EngineError.weightShape(key: key, expected: shape, actual: t.shape) }
        used.insert(key)
        return t
    }

    /// `tensor(key, shape:)`, removed from the dictionary: when the caller gave up its own
    /// reference, the returned tensor's storage is the only one and can be changed in place.
    private func take(_ key: String, shape: [Int]) throws -> Tensor {
        let t = try tensor(key, shape: shape)
        storage[key] = nil
        return t
    }

    /// The keys of the FrozenBN that belongs to the convolution at `prefix` start with this.
    static func normPrefix(_ prefix: String) -> String { prefix + ".norm." }

    /// Whether `key` is a convolution weight with a FrozenBN among `keys`, which
    /// `convParameters` folds in place (the loader copies these rather than viewing them).
    static func isNormedWeight(_ key: String, among keys: Set<String>) -> Bool {
        key.hasSuffix(".weight") && keys.contains(normPrefix(String(key.dropLast(".weight".count))) + "weight")
    }

    /// A convolution's weight `[O, I/groups, kh, kw]` and bias `[O]` from `prefix.weight`, and
    /// either `prefix.bias` or a FrozenBN at `prefix.norm.*` folded in (detectron2's
    /// `FrozenBatchNorm2d`: `(x - running_mean) / sqrt(running_var + 1e-5) * weight + bias`).
    /// A norm without `running_mean`/`running_var` (Caffe2 files) uses 0 and 1, as
    /// `FrozenBatchNorm2d._load_from_state_dict` does. With a norm, the weight is folded where it
    /// lies (the dictionary's reference is dropped first, so there is no copy when the caller
    /// gave up its own) and cannot be read again.
    func convParameters(_ prefix: String, shape: [Int], norm: Bool, bias hasBias: Bool) throws -> (weight: Tensor, bias: Tensor) {
        guard norm else {
            let weight = try tensor(prefix + ".weight", shape: shape)
            let out = weight.shape[0]
            return (weight, hasBias ? try tensor(prefix + ".bias", shape: [out]) : Tensor(shape: [out]))
        }
        var weight = try take(prefix + ".weight", shape: shape)
        let out = weight.shape[0]
        var bias = hasBias ? try tensor(prefix + ".bias", shape: [out]) : Tensor(shape: [out])
        let n = Self.normPrefix(prefix)
        let gamma = try tensor(n + "weight", shape: [out])
        let beta = try tensor(n + "bias", shape: [out])
        let hasStats = contains(n + "running_mean") || contains(n + "running_var")
        let mean = hasStats ? try tensor(n + "running_mean", shape: [out]) : Tensor(shape: [out], repeating: 0)
        let variance = hasStats ? try tensor(n + "running_var", shape: [out]) : Tensor(shape: [out], repeating: 1)
        let perOut = weight.count / max(out, 1)
        let g = gamma.scalars, v = variance.scalars, b = beta.scalars, m = mean.scalars
        var folded = bias.scalars
        weight.scalars.withUnsafeMutableBufferPointer { w in
            guard let base = w.baseAddress else { return }
            for o in 0..<out {
                let scale = g[o] / (v[o] + 1e-5).squareRoot()
                let row = base + o * perOut
                for i in 0..<perOut { row[i] *= scale }
                folded[o] = b[o] + (folded[o] - m[o]) * scale
            }
        }
        bias.scalars = folded
        return (weight, bias)
    }
}

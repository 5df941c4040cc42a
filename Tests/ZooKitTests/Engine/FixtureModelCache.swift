import Foundation
@testable import ZooKit

/// Fixture models built once per name by `make` and shared by a suite's tests.
final class FixtureModelCache: @unchecked Sendable {
    private var models: [String: GeneralizedRCNN] = [:]
    private let lock = NSLock()
    private let make: (String) throws -> GeneralizedRCNN

    init(make: @escaping (String) throws -> GeneralizedRCNN) {
        self.make = make
    }

    func model(_ name: String) throws -> GeneralizedRCNN {
        lock.lock()
        defer { lock.unlock() }
        if let m = models[name] { return m }
        let m = try make(name)
        models[name] = m
        return m
    }

    /// `models/NAME.yaml` with `models/NAME.pkl` from the fixtures.
    static func build(_ name: String, algorithm: ConvolutionAlgorithm, precision: ConvolutionPrecision = .float32) throws -> GeneralizedRCNN {
        let dir = TestSupport.fixtures.appendingPathComponent("models")
        let cfg = try RCNNConfig.load(contentsOf: dir.appendingPathComponent(name + ".yaml"))
        let w = try Checkpoint.loadWeights(from: dir.appendingPathComponent(name + ".pkl"))
        return try GeneralizedRCNN(config: cfg, weights: w.tensors, algorithm: algorithm, precision: precision)
    }
}

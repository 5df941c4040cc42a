import Foundation
@testable import ZooKit

/// The tiny fixture models' weights (`Tests/Fixtures/models/<name>.pkl`) as a `StateDict`.
enum TinyModelWeights {
    static func load(_ model: String) throws -> StateDict {
        let url = TestSupport.fixtures.appendingPathComponent("models/\(model).pkl")
        return StateDict(try Checkpoint.loadWeights(from: url).tensors)
    }
}

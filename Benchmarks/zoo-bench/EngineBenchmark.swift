import Foundation
import ZooKit

/// `zoo-bench engine` (not yet written).
enum EngineBenchmark {
    static func run(_ arguments: [String]) throws {
        print("zoo-bench engine: not written yet")
    }
}

import Foundation
import ZooKit

/// `zoo-bench fetch` (not yet written).
enum FetchBenchmark {
    static func run(_ arguments: [String]) throws {
        print("zoo-bench fetch: not written yet")
    }
}

import Foundation
import ZooKit

/// `zoo-bench convert` (not yet written).
enum ConvertBenchmark {
    static func run(_ arguments: [String]) throws {
        print("zoo-bench convert: not written yet")
    }
}

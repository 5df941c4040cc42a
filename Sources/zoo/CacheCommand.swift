import ArgumentParser
import ZooKit

/// `zoo cache` (not yet implemented).
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cache", abstract: "(not yet implemented)")

    func run() throws {
        throw ValidationError("zoo cache is not implemented yet")
    }
}

import ArgumentParser
import ZooKit

/// `zoo info` (not yet implemented).
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "(not yet implemented)")

    func run() throws {
        throw ValidationError("zoo info is not implemented yet")
    }
}

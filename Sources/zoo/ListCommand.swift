import ArgumentParser
import ZooKit

/// `zoo list` (not yet implemented).
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "(not yet implemented)")

    func run() throws {
        throw ValidationError("zoo list is not implemented yet")
    }
}

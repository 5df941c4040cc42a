import ArgumentParser
import ZooKit

/// `zoo run` (not yet implemented).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "(not yet implemented)")

    func run() throws {
        throw ValidationError("zoo run is not implemented yet")
    }
}

import ArgumentParser
import ZooKit

/// `zoo inspect` (not yet implemented).
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "(not yet implemented)")

    func run() throws {
        throw ValidationError("zoo inspect is not implemented yet")
    }
}

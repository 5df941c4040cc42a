import ArgumentParser
import ZooKit

/// `zoo convert` (not yet implemented).
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "convert", abstract: "(not yet implemented)")

    func run() throws {
        throw ValidationError("zoo convert is not implemented yet")
    }
}

import ArgumentParser
import ZooKit

/// `zoo fetch` (not yet implemented).
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fetch", abstract: "(not yet implemented)")

    func run() throws {
        throw ValidationError("zoo fetch is not implemented yet")
    }
}

import ArgumentParser
import ZooKit

/// `zoo gen-table` (not yet implemented).
struct GenTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gen-table", abstract: "(not yet implemented)")

    func run() throws {
        throw ValidationError("zoo gen-table is not implemented yet")
    }
}

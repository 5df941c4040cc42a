import ArgumentParser
import ZooKit

/// The `zoo` command: the detectron2 model zoo without Python.
@main
struct Zoo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zoo",
        abstract: "The detectron2 model zoo without Python: index, downloads, safe checkpoint conversion and inference.",
        subcommands: [
            ListCommand.self,
            InfoCommand.self,
            GenTableCommand.self,
            FetchCommand.self,
            CacheCommand.self,
            ConvertCommand.self,
            InspectCommand.self,
            RunCommand.self,
        ]
    )
}

/// A command's failure whose message is already one line for the user (printed as
/// `Error: <message>`, exit code 1).
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

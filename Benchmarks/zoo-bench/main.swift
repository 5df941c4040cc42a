// zoo-bench: benchmarks that print tables; never part of the tests.
// Usage: zoo-bench fetch|convert|engine|head-rows [options]
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let which = arguments.first ?? "help"
let rest = Array(arguments.dropFirst())
do {
    switch which {
    case "fetch": try FetchBenchmark.run(rest)
    case "convert": try ConvertBenchmark.run(rest)
    case "engine": try EngineBenchmark.run(rest)
    case "engine-startup": try EngineBenchmark.startupChild(rest)
    case "head-rows": try HeadRowsBenchmark.run(rest)
    default:
        print("usage: zoo-bench fetch|convert|engine|head-rows [options]")
        exit(which == "help" || which == "--help" ? 0 : 2)
    }
} catch {
    FileHandle.standardError.write(Data("zoo-bench: \(error)\n".utf8))
    exit(1)
}

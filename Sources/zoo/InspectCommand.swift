import ArgumentParser
import Foundation
import ZooKit

/// `zoo inspect FILE [--json]`: what a checkpoint holds.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "List a checkpoint's layout and tensors (.pkl or .safetensors): name, dtype, shape, parameter count, bytes.")

    @Argument(help: "A .pkl or .safetensors checkpoint.")
    var file: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let inspection: CheckpointInspection
        do {
            inspection = try CheckpointInspection(contentsOf: URL(fileURLWithPath: file))
        } catch {
            FileHandle.standardError.write(Data("zoo inspect: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(inspection), as: UTF8.self))
            return
        }
        var format = inspection.format
        if let version = inspection.pickleProtocol { format += " (protocol \(version))" }
        print("file:       \(inspection.file)")
        print("format:     \(format)")
        print("layout:     \(CheckpointLayout(rawValue: inspection.layout)?.displayName ?? inspection.layout)")
        for (key, value) in inspection.metadata.sorted(by: { $0.key < $1.key }) {
            print("metadata:   \(displayText(key)) = \(displayText(value, limit: 400))")
        }
        print("tensors:    \(inspection.tensors.count)")
        print("parameters: \(grouped(inspection.parameterCount))")
        print("bytes:      \(grouped(inspection.totalBytes)) (\(String(format: "%.2f", Double(inspection.totalBytes) / 1_048_576)) MiB)")
        print("")
        let showKeys = inspection.tensors.contains { $0.detectron2Key != nil }
        let nameWidth = inspection.tensors.map { displayText($0.name).count }.max() ?? 4
        let shapes = inspection.tensors.map { "(" + $0.shape.map(String.init).joined(separator: ", ") + ")" }
        let shapeWidth = max(5, shapes.map(\.count).max() ?? 5)
        var header = pad("name", nameWidth) + "  " + pad("dtype", 8) + "  " + pad("shape", shapeWidth)
        if showKeys { header += "  detectron2 key" }
        print(header.trimmingTrailingSpaces())
        for (entry, shape) in zip(inspection.tensors, shapes) {
            var line = pad(displayText(entry.name), nameWidth) + "  " + pad(entry.dtype, 8) + "  " + pad(shape, shapeWidth)
            if showKeys { line += "  " + (entry.detectron2Key ?? "(dropped)") }
            print(line.trimmingTrailingSpaces())
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private func grouped(_ value: Int) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

import Foundation

/// A scratch folder of small files for the batch tests, removed by `remove()`.
struct BatchTestTree {
    let root: URL

    /// A fresh empty folder under the temporary directory.
    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// Creates each relative path as a small file (folders as needed); a path ending in `/` as a folder.
    func make(_ paths: [String]) throws {
        for path in paths {
            let url = root.appendingPathComponent(path)
            if path.hasSuffix("/") {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            } else {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try Data(path.utf8).write(to: url)
            }
        }
    }

    /// A symbolic link at `path` pointing to `destination` (relative to the link's folder or absolute).
    func link(_ path: String, to destination: String) throws {
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent(path).path, withDestinationPath: destination)
    }

    func url(_ path: String) -> URL { root.appendingPathComponent(path) }

    func remove() { try? FileManager.default.removeItem(at: root) }
}

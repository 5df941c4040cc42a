import ArgumentParser
import Foundation
import ZooKit

/// `--index FILE`, shared by the commands that read the index.
struct IndexOptions: ParsableArguments {
    @Option(name: .customLong("index"), help: ArgumentHelp(
        "An index file whose entries add to or replace (by id) the built-in ones; ZOO_INDEX=FILE does the same.",
        valueName: "file"))
    var indexFile: String?

    /// The built-in index, then ZOO_INDEX, then --index.
    func load() throws -> ZooIndex {
        try ZooIndex.load(extraIndex: indexFile.map { URL(fileURLWithPath: $0) })
    }
}

/// Where the index commands learn about the download cache (one place for list and info).
enum CacheSeam {
    /// Whether `entry`'s weights file is already in the local cache, verified.
    static func isCached(_ entry: ZooEntry) -> Bool {
        ModelCache().cachedFile(forURL: entry.weightsURL) != nil
    }

    /// Where `entry`'s weights file is (or would be) cached.
    static func cachePath(_ entry: ZooEntry) -> String? {
        ModelCache().path(forURL: entry.weightsURL).path
    }
}

import Foundation
import Testing
@testable import ZooKit

/// A value where detectron2 holds a section (an empty `INPUT:`), `_BASE_` cycles through symbolic
/// links, and the files a config reads.
@Suite("Config YAML: sections, symlinked bases, file chain")
struct ConfigSectionTests {
    private func folder(_ files: [String: String]) throws -> URL { try ConfigTestFiles.folder(files) }
    private func configError(_ body: () throws -> Void) -> ConfigError? { ConfigTestFiles.configError(body) }

    static let base = "MODEL:\n  ROI_HEADS:\n    NUM_CLASSES: 3\nINPUT:\n  MIN_SIZE_TEST: 640\n  FORMAT: RGB\nSOLVER:\n  BASE_LR: 0.02\n"

    @Test("an empty section, ~ or a value over a _BASE_ section is an error at its line, not a silent reset",
          arguments: [
              ("empty.yaml", "_BASE_: base.yaml\nINPUT:\n  # MIN_SIZE_TEST: 800\n  # FORMAT: BGR\n", "INPUT", 2),
              ("tilde.yaml", "_BASE_: base.yaml\nMODEL: ~\n", "MODEL", 2),
              ("nested.yaml", "_BASE_: base.yaml\nMODEL:\n  ROI_HEADS:\n", "MODEL.ROI_HEADS", 3),
              ("number.yaml", "_BASE_: base.yaml\nINPUT: 800\n", "INPUT", 2),
              ("unread.yaml", "_BASE_: base.yaml\nSOLVER:\n", "SOLVER", 2),  // a section the engine does not read, in _BASE_
              ("nobase.yaml", "INPUT:\nMODEL:\n  MASK_ON: False\n", "INPUT", 1),  // detectron2's defaults hold INPUT
          ])
    func valueOverSection(name: String, text: String, key: String, line: Int) throws {
        let dir = try folder(["base.yaml": Self.base, name: text])
        defer { try? FileManager.default.removeItem(at: dir) }
        let e = configError { _ = try RCNNConfig.load(contentsOf: dir.appendingPathComponent(name)) }
        guard case let .replacesSection(loc, found, _)? = e else { Issue.record("expected replacesSection, got \(String(describing: e))"); return }
        #expect(found == key)
        #expect(loc.file.hasSuffix(name) && loc.line == line && loc.column >= 1, "\(loc)")
        let message = e?.description ?? ""
        #expect(message.contains("\(name):\(loc.line):\(loc.column)") && message.contains(key), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test("sections and values that merge cleanly still load")
    func cleanMerge() throws {
        let dir = try folder(["base.yaml": Self.base,
                              "child.yaml": "_BASE_: base.yaml\nINPUT:\n  FORMAT: BGR\nMODEL:\n  WEIGHTS: ''\nEXTRA: ~\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try RCNNConfig.load(contentsOf: dir.appendingPathComponent("child.yaml"))
        #expect(c.input.minSizeTest == 640 && c.input.format == "BGR")
        #expect(c.model.roiHeads.numClasses == 3)
    }

    @Test("a _BASE_ cycle through a symbolic link to a folder is reported as a cycle")
    func symlinkedCycle() throws {
        let dir = try folder(["configs/a.yaml": "_BASE_: link/b.yaml\n", "configs/b.yaml": "_BASE_: link/a.yaml\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        // configs/link -> configs: link/a.yaml is a.yaml, spelled differently.
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("configs/link").path, withDestinationPath: ".")
        let e = configError { _ = try RCNNConfig.load(contentsOf: dir.appendingPathComponent("configs/a.yaml")) }
        guard case let .baseCycle(loc, chain)? = e else { Issue.record("expected baseCycle, got \(String(describing: e))"); return }
        #expect(loc.file.hasSuffix("b.yaml") && loc.line == 1)
        #expect(chain.count == 3, "\(chain)")
    }

    @Test("files(of:) lists the config and its _BASE_ chain, and stops at a cycle or a missing base")
    func fileChain() throws {
        let dir = try folder(["Base.yaml": Self.base,
                              "sub/mid.yaml": "_BASE_: ../Base.yaml\n",
                              "sub/top.yaml": "_BASE_: \"./mid.yaml\"\nINPUT:\n  FORMAT: BGR\n",
                              "loop.yaml": "_BASE_: loop.yaml\n",
                              "lost.yaml": "_BASE_: nowhere.yaml\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let chain = RCNNConfig.files(of: dir.appendingPathComponent("sub/top.yaml")).map(\.path)
        #expect(chain == ["sub/top.yaml", "sub/mid.yaml", "Base.yaml"].map { dir.appendingPathComponent($0).standardizedFileURL.path })
        #expect(RCNNConfig.files(of: dir.appendingPathComponent("loop.yaml")).count == 1)
        #expect(RCNNConfig.files(of: dir.appendingPathComponent("lost.yaml")).count == 1)
        #expect(RCNNConfig.files(of: dir.appendingPathComponent("none.yaml")).count == 1)
    }
}

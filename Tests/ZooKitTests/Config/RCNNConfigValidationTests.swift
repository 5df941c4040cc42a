import Foundation
import Testing
@testable import ZooKit

/// Values of the right type but outside what detectron2 accepts (or what the engine can hold in
/// memory) are one `ConfigError.outOfRange` naming the key, not a crash in the engine.
@Suite("RCNNConfig validation")
struct RCNNConfigValidationTests {
    static let fixture = TestSupport.fixtures.appendingPathComponent("models/tiny_faster_rcnn_R_50_FPN.yaml")

    /// The key and found value of the `outOfRange` error `body` throws, or nil (recorded) otherwise.
    private func outOfRange(_ body: () throws -> Void) -> (key: String, found: String, loc: ConfigError.Location)? {
        do {
            try body()
            Issue.record("no error")
        } catch let ConfigError.outOfRange(loc, key, found, _) {
            return (key, found, loc)
        } catch {
            Issue.record("unexpected \(error)")
        }
        return nil
    }

    /// A file in a fresh folder that takes the fixture as `_BASE_` and sets `yaml` over it; the caller
    /// removes the folder (`url.deletingLastPathComponent()`).
    private func overFixture(_ yaml: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-validate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("bad.yaml")
        try "_BASE_: \(Self.fixture.path)\n\(yaml)\n".write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("the fixtures and detectron2's defaults are valid")
    func validConfigsPass() throws {
        try RCNNConfig.defaults.validate()
        for name in ["tiny_faster_rcnn_R_50_FPN", "tiny_mask_rcnn_R_50_FPN", "tiny_keypoint_rcnn_R_50_FPN"] {
            let url = TestSupport.fixtures.appendingPathComponent("models/\(name).yaml")
            try RCNNConfig.load(contentsOf: url).validate()
        }
    }

    @Test("every index entry's inference settings are valid")
    func indexEntriesPass() throws {
        let entries = try ZooIndex.load().entries.filter(\.hasInferenceSettings)
        #expect(entries.count > 40)
        for entry in entries {
            do {
                _ = try RCNNConfig.defaults.applying(entry.inference.mapValues(ConfigValue.init(indexValue:)))
            } catch ConfigError.unknownKey {
                continue  // deformable convs and the like: settings the engine does not read at all
            } catch {
                Issue.record("\(entry.id): \(error)")
            }
        }
    }

    /// The reviewer's crashes, and their neighbours: sizes, counts, thresholds out of range.
    @Test("out-of-range numbers are rejected", arguments: [
        ("INPUT.MIN_SIZE_TEST", ConfigValue.int(-400)),  // segfaulted in the resize
        ("INPUT.MIN_SIZE_TEST", .int(10_001)),
        ("INPUT.MAX_SIZE_TEST", .int(0)),
        ("MODEL.RPN.POST_NMS_TOPK_TEST", .int(-5)),  // allocated 2^64 bytes
        ("MODEL.RPN.PRE_NMS_TOPK_TEST", .int(0)),
        ("MODEL.RPN.PRE_NMS_TOPK_TEST", .int(1_000_001)),
        ("MODEL.ROI_BOX_HEAD.POOLER_SAMPLING_RATIO", .int(100_000)),  // allocated 23 TB
        ("MODEL.ROI_BOX_HEAD.POOLER_SAMPLING_RATIO", .int(-1)),
        ("MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION", .int(-7)),  // looped for ever
        ("MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION", .int(0)),
        ("MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION", .int(65)),
        ("MODEL.ROI_BOX_HEAD.NUM_FC", .int(-1)),
        ("MODEL.ROI_BOX_HEAD.FC_DIM", .int(0)),
        ("MODEL.ROI_HEADS.NUM_CLASSES", .int(0)),
        ("MODEL.ROI_HEADS.SCORE_THRESH_TEST", .double(1.5)),
        ("MODEL.ROI_HEADS.NMS_THRESH_TEST", .double(-0.1)),
        ("MODEL.RPN.NMS_THRESH", .double(.nan)),
        ("MODEL.ROI_HEADS.SCORE_THRESH_TEST", .double(.nan)),
        ("MODEL.ANCHOR_GENERATOR.OFFSET", .double(1.0)),
        ("MODEL.ANCHOR_GENERATOR.SIZES", .list([.list([.int(32)]), .list([.int(-64)])])),
        ("MODEL.ANCHOR_GENERATOR.SIZES", .list([])),
        ("MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS", .list([.list([.double(0), .double(1)])])),
        ("MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS", .list([.list([])])),
        ("MODEL.PROPOSAL_GENERATOR.MIN_SIZE", .double(-1)),
        ("MODEL.RESNETS.DEPTH", .int(49)),
        ("MODEL.RESNETS.RES5_DILATION", .int(3)),
        ("MODEL.FPN.OUT_CHANNELS", .int(0)),
        ("MODEL.RPN.CONV_DIMS", .list([.int(-2)])),
        ("TEST.DETECTIONS_PER_IMAGE", .int(2_000_000)),
        // Each factor in range, the box pooler's output not: 100000 x 64 x 64 x 64 floats.
        ("MODEL.RPN.POST_NMS_TOPK_TEST", .int(100_000)),
    ] as [(String, ConfigValue)])
    func outOfRangeNumbers(key: String, value: ConfigValue) throws {
        let base = try RCNNConfig.load(contentsOf: Self.fixture)
        var overrides = [key: value]
        if value == .int(100_000) { overrides["MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION"] = .int(64) }
        let e = outOfRange { _ = try base.applying(overrides) }
        #expect(e?.key == key)
        #expect(e?.loc == .init(file: "override"))
    }

    @Test("a key an override puts out of range names the config it came from")
    func crossKeyErrorNamesTheBase() throws {
        let base = try RCNNConfig.load(contentsOf: Self.fixture).applying(["MODEL.RPN.POST_NMS_TOPK_TEST": .int(100_000)])
        // 100000 boxes fit the fixture's pooler; at resolution 64 they do not, and the key at fault is not overridden.
        let e = outOfRange {
            _ = try base.applying(["MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION": .int(64)], source: "--pooler", base: "my.yaml")
        }
        #expect(e?.key == "MODEL.RPN.POST_NMS_TOPK_TEST")
        #expect(e?.loc == .init(file: "my.yaml"))
        let o = outOfRange { _ = try base.applying(["MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION": .int(65)], source: "--pooler", base: "my.yaml") }
        #expect(o?.key == "MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION")
        #expect(o?.loc == .init(file: "--pooler"))
    }

    @Test("an index entry's bad inference settings name the index file and the entry")
    func badIndexSettingsNameTheEntry() throws {
        let entry = ZooEntry(id: "my-model", config: "mine/m.yaml", weightsURL: "https://x/m.pkl",
                             inference: ["MODEL.ROI_HEADS.NUM_CLASSES": .number(0)], hasInferenceSettings: true,
                             source: "/data/my-index.json")
        var fetched = false
        do {
            _ = try ModelLoader.load(model: "my-model", configFile: nil, datasetName: nil, overrides: [:],
                                     index: ZooIndex(entries: [entry])) { _ in fetched = true; throw CancellationError() }
            Issue.record("no error")
        } catch let error as ConfigError {
            #expect(error.description.hasPrefix(#"/data/my-index.json, entry my-model, "inference": MODEL.ROI_HEADS.NUM_CLASSES"#),
                    "\(error)")
        }
        #expect(!fetched, "the settings are checked before the weights are fetched")
    }

    @Test("lists of the wrong length or contents are rejected", arguments: [
        ("MODEL.PIXEL_MEAN", ConfigValue.list([.double(103.53), .double(116.28)])),  // read out of bounds
        ("MODEL.PIXEL_MEAN", .list([])),
        ("MODEL.PIXEL_MEAN", .list([.double(1), .double(2), .double(3), .double(4)])),
        ("MODEL.PIXEL_MEAN", .list([.double(1), .double(.infinity), .double(3)])),
        ("MODEL.PIXEL_STD", .list([.double(1), .double(0), .double(1)])),
        ("MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS", .list([.double(1.0)])),  // read out of bounds
        ("MODEL.RPN.BBOX_REG_WEIGHTS", .list([.double(1), .double(1), .double(1), .double(0)])),
        ("MODEL.ROI_HEADS.IN_FEATURES", .list([])),  // printed uninitialised memory
        ("MODEL.ROI_HEADS.IN_FEATURES", .list([.string("p2"), .string("p4")])),  // not consecutive
        ("MODEL.ROI_HEADS.IN_FEATURES", .list([.string("p3"), .string("p2")])),  // not finest first
        ("MODEL.ROI_HEADS.IN_FEATURES", .list([.string("p2"), .string("q3")])),
        ("MODEL.RPN.IN_FEATURES", .list([])),
        ("MODEL.RPN.IN_FEATURES", .list([.string("p2"), .string("p2")])),
    ] as [(String, ConfigValue)])
    func badLists(key: String, value: ConfigValue) throws {
        let base = try RCNNConfig.load(contentsOf: Self.fixture)
        let e = outOfRange { _ = try base.applying([key: value]) }
        #expect(e?.key == key)
    }

    @Test("detectron2's special values stay legal")
    func specialValuesPass() throws {
        let base = try RCNNConfig.load(contentsOf: Self.fixture)
        let c = try base.applying([
            "INPUT.MIN_SIZE_TEST": .int(0),  // no resize
            "MODEL.ROI_BOX_HEAD.POOLER_SAMPLING_RATIO": .int(0),  // adaptive
            "TEST.DETECTIONS_PER_IMAGE": .int(-1),  // keep all
            "MODEL.RPN.IN_FEATURES": .list([.string("p6"), .string("p2")]),  // the RPN has no order
            "MODEL.ROI_HEADS.SCORE_THRESH_TEST": .int(0),
            "MODEL.ROI_HEADS.NMS_THRESH_TEST": .int(1),
            "MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION": .int(64),
        ])
        #expect(c.input.minSizeTest == 0 && c.test.detectionsPerImage == -1)
    }

    @Test("a negative DETECTIONS_PER_IMAGE is bounded by what per-class NMS can keep")
    func keepAllDetectionsIsBounded() throws {
        let base = try RCNNConfig.load(contentsOf: Self.fixture)
        // LVIS-sized: up to 1000 x 1230 boxes would reach the mask head (6e10 floats).
        let e = outOfRange {
            _ = try base.applying(["MODEL.MASK_ON": .bool(true), "TEST.DETECTIONS_PER_IMAGE": .int(-1),
                                   "MODEL.ROI_HEADS.NUM_CLASSES": .int(1230), "MODEL.FPN.OUT_CHANNELS": .int(256)])
        }
        #expect(e?.key == "TEST.DETECTIONS_PER_IMAGE")
        // 300 detections, as the LVIS configs keep, fit.
        let lvis = try base.applying(["MODEL.MASK_ON": .bool(true), "TEST.DETECTIONS_PER_IMAGE": .int(300),
                                      "MODEL.ROI_HEADS.NUM_CLASSES": .int(1230), "MODEL.FPN.OUT_CHANNELS": .int(256)])
        #expect(lvis.test.detectionsPerImage == 300)
    }

    @Test("a head that is off is not checked; turned on, it is")
    func headsOff() throws {
        let base = try RCNNConfig.load(contentsOf: Self.fixture)
        let off = try base.applying(["MODEL.ROI_MASK_HEAD.POOLER_RESOLUTION": .int(0)])
        #expect(!off.model.maskOn)
        let e = outOfRange { _ = try off.applying(["MODEL.MASK_ON": .bool(true)]) }
        #expect(e?.key == "MODEL.ROI_MASK_HEAD.POOLER_RESOLUTION")
        #expect(e?.loc == .init(file: "config"))  // not the override's key
    }

    @Test("a bad value in a file names the file, line and column, key, value and what is allowed")
    func fileLocation() throws {
        let url = try overFixture("""
            INPUT:
              MIN_SIZE_TEST: -400
            """)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        do {
            _ = try RCNNConfig.load(contentsOf: url)
            Issue.record("no error")
        } catch let error as ConfigError {
            let text = error.description
            #expect(text.contains("bad.yaml:3:18: INPUT.MIN_SIZE_TEST is -400 but must be 0 (no resize) to 10000 pixels"), "\(text)")
            #expect(!text.contains("\n"))
        }
    }

    @Test("a head turned on in a file is checked, at the line of its key")
    func headTurnedOnInFile() throws {
        let url = try overFixture("""
            MODEL:
              KEYPOINT_ON: True
              ROI_KEYPOINT_HEAD:
                CONV_DIMS: [0]
            """)
        defer { try? FileManager.default.removeItem(at: url.deletingLastPathComponent()) }
        let e = outOfRange { _ = try RCNNConfig.load(contentsOf: url) }
        #expect(e?.key == "MODEL.ROI_KEYPOINT_HEAD.CONV_DIMS" && e?.loc.line == 5)
    }
}

import Foundation
import Testing
@testable import ZooKit

/// Large float32 weights loaded from a safetensors file are views of its mapping, not copies:
/// read in place, copied on first mutation, never written back to the file.
@Suite struct TensorViewTests {
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-view-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func largeFloat32TensorsLoadAsViewsAndCopyOnMutation() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededRandom(seed: 5)
        let big = rng.tensor([64, 32, 3, 3]), small = rng.tensor([8])
        let url = dir.appendingPathComponent("w.safetensors")
        try SafetensorsWriter.write([("big", CheckpointArray(big)), ("small", CheckpointArray(small))], metadata: [:], to: url)
        let before = try Data(contentsOf: url)

        let loaded = try Checkpoint.loadWeights(from: url).tensors
        var view = try #require(loaded["big"])
        #expect(view.isView && loaded["small"]?.isView == false)
        #expect(view == big && loaded["small"] == small)
        #expect(view.count == big.count && view.scalars == big.scalars)
        // Reads see the file's pages in place: two loads of one file read different mappings, and
        // neither is an array of the tensor's own.
        let address = view.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let second = try #require(try Checkpoint.loadWeights(from: url).tensors["big"])
        #expect(second.isView && second.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } != address)

        view.withUnsafeMutableBufferPointer { $0[0] += 1 }
        #expect(!view.isView && view.scalars[0] == big.scalars[0] + 1)
        #expect(view.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } != address)
        #expect(try Data(contentsOf: url) == before, "the file is never written")
        // Another view of the same values is unaffected.
        #expect(loaded["big"] == big)
    }

    /// Dropping pages (a copied array's, a view's when it goes) never changes a value: the file's
    /// pages come back from the page cache when another view or a second load reads them.
    @Test func releasedPagesReadBackIntact() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededRandom(seed: 7)
        let a = rng.tensor([64, 64, 3, 3]), b = rng.tensor([64, 64, 3, 3]), c = rng.tensor([256, 300])
        // b is stored as float64 (exactly the float32 values), so it is converted at load.
        let doubles = b.scalars.map(Double.init).withUnsafeBufferPointer { Data(buffer: $0) }
        let url = dir.appendingPathComponent("w.safetensors")
        try SafetensorsWriter.write([("a.weight", CheckpointArray(a)),
                                     ("b.weight", try CheckpointArray(dtype: .float64, shape: b.shape, bytes: doubles)),
                                     ("c.weight", CheckpointArray(c))],
                                    metadata: [:], to: url)
        var loaded = try Checkpoint.loadWeights(from: url).tensors
        // b was copied (converted) and its pages dropped; a and c are views.
        #expect(loaded["b.weight"]?.isView == false && loaded["a.weight"]?.isView == true && loaded["c.weight"]?.isView == true)
        #expect(loaded["a.weight"] == a && loaded["b.weight"] == b && loaded["c.weight"] == c)
        loaded["c.weight"] = nil  // its view goes, and its pages with it
        #expect(loaded["a.weight"] == a)
        let again = try Checkpoint.loadWeights(from: url).tensors
        #expect(again["a.weight"] == a && again["b.weight"] == b && again["c.weight"] == c)
    }

    @Test func misalignedOrShortBytesAreNotViewed() throws {
        let values = (0..<8192).map { Float($0) }
        let bytes = values.withUnsafeBufferPointer { Data(buffer: $0) }
        let view = try #require(Tensor(shape: [8192], viewing: bytes))
        #expect(view.isView && view.scalars == values)
        #expect(Tensor(shape: [8191], viewing: bytes) == nil, "the count must match")
        #expect(Tensor(shape: [16], viewing: bytes.prefix(64)) == nil, "small arrays are copied")
        let shifted = (Data([0, 0]) + bytes).dropFirst(2)
        let misaligned = shifted.withUnsafeBytes { Int(bitPattern: $0.baseAddress) % 4 != 0 }
        try #require(misaligned, "the test needs a misaligned slice")
        #expect(Tensor(shape: [8192], viewing: shifted) == nil)
        // Loading copies what cannot be viewed, with the same values.
        let array = try CheckpointArray(dtype: .float32, shape: [8192], bytes: shifted)
        let copied = try array.floatTensor()
        #expect(!copied.isView && copied.scalars == values)
    }

    @Test func aWeightWithAFrozenBNStaysAViewAndItsScaleIsKeptBeside() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededRandom(seed: 6)
        let w = rng.tensor([32, 16, 3, 3])
        let gamma = Tensor(shape: [32], scalars: (0..<32).map { Float($0 + 1) / 8 })
        let zeros = Tensor(shape: [32], repeating: 0), ones = Tensor(shape: [32], repeating: 1)
        let url = dir.appendingPathComponent("w.safetensors")
        try SafetensorsWriter.write([("c.weight", CheckpointArray(w)), ("c.norm.weight", CheckpointArray(gamma)),
                                     ("c.norm.bias", CheckpointArray(zeros)), ("c.norm.running_mean", CheckpointArray(zeros)),
                                     ("c.norm.running_var", CheckpointArray(ones))], metadata: [:], to: url)
        let loaded = try Checkpoint.loadWeights(from: url).tensors
        #expect(loaded["c.weight"]?.isView == true)
        let conv = try Conv2d(StateDict(loaded), "c", in: 16, out: 32, kernel: 3, padding: 1, norm: true, bias: false)
        #expect(conv.weight.isView && conv.weight == w)
        let scale = (0..<32).map { gamma.scalars[$0] / (1 + 1e-5 as Float).squareRoot() }
        #expect(conv.weightScale == scale)
        #expect(conv.foldedWeight.scalars == (0..<w.count).map { w.scalars[$0] * scale[$0 / (16 * 9)] })
        // Running the layer (its weights reordered with the scale) keeps the weight a view.
        _ = try conv.forward(rng.tensor([1, 16, 6, 6]))
        #expect(conv.weight.isView)
    }
}

import Foundation
import Testing
@testable import ZooKit

/// The nChw16c path (DNNLTensor): convs chained without reorders, plans per shape sharing one
/// reordered weight copy, and max-pool / upsample on the blocked layout.
@Suite("Blocked-layout ops against plain references")
struct BlockedLayoutTests {
    static func blocked(_ t: Tensor) throws -> DNNLTensor {
        try DNNLTensor(plain: t, context: "test").blocked(context: "test")
    }

    @Test("Blocked conv equals the naive conv for several row counts in turn", arguments: [
        ConvolutionAlgorithm.direct, .winograd,
    ])
    func blockedConvShapes(algorithm: ConvolutionAlgorithm) throws {
        var rng = SeededRandom(seed: 11)
        let wt = rng.tensor([32, 24, 3, 3], scale: 0.3), b = rng.tensor([32])
        let conv = Conv2d(weight: wt, bias: b, padding: 1, relu: true, algorithm: algorithm)
        for n in [3, 5, 3, 1] {
            let x = rng.tensor([n, 24, 14, 14])
            let got = try conv.forward(try Self.blocked(x)).tensor(context: "test")
            let want = NaiveOps.relu(NaiveOps.conv2d(x, wt, b, stride: 1, padding: 1))
            #expect(got.shape == want.shape)
            #expect(relativeError(got, want) < 1e-5, "n \(n)")
        }
    }

    @Test("Residual sum into the blocked residual's storage, channels not a multiple of 16")
    func blockedResidual() throws {
        var rng = SeededRandom(seed: 12)
        let x = rng.tensor([1, 8, 9, 7]), wt = rng.tensor([24, 8, 1, 1], scale: 0.3), b = rng.tensor([24])
        let r = rng.tensor([1, 24, 9, 7])
        let conv = Conv2d(weight: wt, bias: b, relu: true, addsResidual: true)
        let got = try conv.forward(try Self.blocked(x), accumulatingInto: try Self.blocked(r)).tensor(context: "test")
        let want = NaiveOps.relu(NaiveOps.add(NaiveOps.conv2d(x, wt, b, stride: 1, padding: 0), r))
        #expect(relativeError(got, want) < 1e-5)
        #expect(got.scalars.contains(0))
    }

    @Test("Blocked max-pool and nearest upsampling equal the plain ones exactly", arguments: [
        (3, 2, 1), (1, 2, 0),
    ])
    func blockedResampling(_ p: (Int, Int, Int)) throws {
        let (k, s, pad) = p
        var rng = SeededRandom(seed: 13)
        let x = rng.tensor([2, 20, 11, 9])
        let pooled = try BlockedResampling.maxPool2d(try Self.blocked(x), kernel: k, stride: s, padding: pad)
        let want = Resampling.maxPool2d(x, kernel: k, stride: s, padding: pad)
        let got = try pooled.tensor(context: "test")
        #expect(got.shape == want.shape)
        #expect(got.scalars == want.scalars)
        let up = try BlockedResampling.upsampleNearest2x(try Self.blocked(x)).tensor(context: "test")
        #expect(up.scalars == Resampling.upsampleNearest2x(x).scalars)
    }

    @Test("Channels-last copy of a blocked tensor is the [N, H, W, C] transpose")
    func channelsLast() throws {
        var rng = SeededRandom(seed: 14)
        let x = rng.tensor([1, 20, 5, 6])
        let got = try Self.blocked(x).channelsLastTensor(context: "test")
        #expect(got.shape == [1, 5, 6, 20])
        #expect(got.scalars == ROIAlign.channelsLast(x).scalars)
    }
}

/// In oneDNN's default scratchpad mode the Winograd 4x3 kernel (`jit_wino_4x3`, oneDNN's choice
/// at 256 channels) borrows a *thread-local* scratchpad at execution: one created on a thread that
/// never created such a primitive read a null buffer and crashed inside the JIT kernel (the "bad
/// pointer dereference" of the first session's test runs), and one on a thread whose buffer was too
/// small overran it. zoo now hands every primitive a scratchpad of its own.
@Suite("oneDNN primitives across threads")
struct CrossThreadTests {
    /// Runs `body` on a new thread and waits for it.
    static func onNewThread<T>(_ body: @escaping () throws -> T) throws -> T {
        let done = NSCondition()
        nonisolated(unsafe) var result: Result<T, Error>?
        let thread = Thread {
            let r = Result { try body() }
            done.lock()
            result = r
            done.signal()
            done.unlock()
        }
        thread.stackSize = 8 << 20
        thread.start()
        done.lock()
        defer { done.unlock() }
        while result == nil { done.wait() }
        guard let result else { throw EngineError.dnnl(call: "thread", status: -1, context: "no result") }
        return try result.get()
    }

    @Test("A Winograd conv created on one thread runs on two fresh threads with the same values")
    func winogradOnFreshThreads() throws {
        var rng = SeededRandom(seed: 21)
        let x = NaiveOps.relu(rng.tensor([1, 256, 24, 24]))
        let wt = rng.tensor([256, 256, 3, 3], scale: 0.03), b = rng.tensor([256])
        let conv = Conv2d(weight: wt, bias: b, padding: 1, algorithm: .winograd)
        let input = try BlockedLayoutTests.blocked(x)
        let want = NaiveOps.conv2d(x, wt, b, stride: 1, padding: 1)

        // The primitive is created (and first run) on one thread ...
        let first = try Self.onNewThread { try conv.forward(input).tensor(context: "test") }
        let plan = try conv.blockedPlan(for: input, try DNNLContext.get())
        #expect(plan.implementation.contains("wino"), "\(plan.implementation)")
        #expect(relativeError(first, want) < 1e-4)
        // ... then run on threads that never created a oneDNN primitive.
        for _ in 0..<2 {
            let again = try Self.onNewThread { try conv.forward(input).tensor(context: "test") }
            #expect(again.scalars == first.scalars)
        }
    }
}

@Suite("Winograd weights cached on disk")
struct WinogradWeightCacheTests {
    /// A new folder name under the temporary directory (the test removes the folder).
    static func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("zoo-wino-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// A 3x3 Winograd convolution of `weight` on `input`, its transformed weights kept in `cache`.
    static func convolve(_ weight: Tensor, bias: Tensor?, _ input: DNNLTensor, _ cache: WinogradWeightCache) throws -> Tensor {
        let conv = Conv2d(weight: weight, bias: bias, padding: 1, algorithm: .winograd)
        conv.winogradCache = cache
        return try conv.forward(input).tensor(context: "test")
    }

    @Test("Convs of one weight with different FrozenBN scales get files of their own")
    func scaleIsPartOfTheKey() throws {
        let dir = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = WinogradWeightCache(directory: dir)
        var rng = SeededRandom(seed: 32)
        let x = NaiveOps.relu(rng.tensor([1, 64, 12, 12]))
        let wt = rng.tensor([64, 64, 3, 3], scale: 0.05)
        let input = try BlockedLayoutTests.blocked(x)
        var outputs: [[Float]] = []
        for factor in [Float(1), 0.5, 2] {
            let scale = (0..<64).map { Float($0 % 3 + 1) * factor }
            let conv = Conv2d(weight: wt, weightScale: scale, bias: nil, padding: 1, algorithm: .winograd)
            conv.winogradCache = cache
            let folded = Conv2d(weight: conv.foldedWeight, bias: nil, padding: 1, algorithm: .winograd)
            let got = try conv.forward(input).tensor(context: "test")
            #expect(got.scalars == (try folded.forward(input).tensor(context: "test")).scalars)
            outputs.append(got.scalars)
        }
        #expect(cache.writes == 3 && cache.hits == 0)
        #expect(outputs[0] != outputs[1] && outputs[1] != outputs[2])
        cache.waitForPendingWrites()
    }

    @Test("A second conv with the same weights maps the first one's file; a truncated or changed file is rewritten")
    func cacheRoundTrip() throws {
        let dir = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = WinogradWeightCache(directory: dir)
        var rng = SeededRandom(seed: 31)
        let x = NaiveOps.relu(rng.tensor([1, 256, 16, 16]))
        let wt = rng.tensor([256, 256, 3, 3], scale: 0.03), b = rng.tensor([256])
        let input = try BlockedLayoutTests.blocked(x)
        func run() throws -> Tensor { try Self.convolve(wt, bias: b, input, cache) }

        let first = try run()
        #expect(relativeError(first, NaiveOps.conv2d(x, wt, b, stride: 1, padding: 1)) < 1e-4)
        #expect(cache.writes == 1 && cache.hits == 0)
        cache.waitForPendingWrites()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".wino") }
        #expect(files.count == 1)

        let second = try run()
        #expect(cache.hits == 1 && cache.writes == 1)
        #expect(second.scalars == first.scalars)

        // A truncated file is not used: the weights are transformed again and the file rewritten.
        let file = dir.appendingPathComponent(try #require(files.first))
        let size = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int)
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: UInt64(size - 4096))
        try handle.close()
        let third = try run()
        #expect(cache.hits == 1 && cache.writes == 2)
        #expect(third.scalars == first.scalars)
        cache.waitForPendingWrites()
        let repaired = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int)
        #expect(repaired == size)

        // A changed payload byte (header and size intact) is found by the payload's hash: the
        // file is not used, and is rewritten.
        let flipper = try FileHandle(forUpdating: file)
        try flipper.seek(toOffset: UInt64(size - 100))
        let byte = try #require(try flipper.read(upToCount: 1)?.first)
        try flipper.seek(toOffset: UInt64(size - 100))
        try flipper.write(contentsOf: Data([byte ^ 0x40]))
        try flipper.close()
        let fourth = try run()
        #expect(cache.hits == 1 && cache.writes == 3)
        let fourthSame = fourth.scalars == first.scalars   // a Bool: a failing array comparison prints every value
        #expect(fourthSame)
        cache.waitForPendingWrites()
        #expect(WinogradWeightCache.problem(of: file) == nil)

        // Other weights, another file.
        _ = try Self.convolve(rng.tensor([256, 256, 3, 3], scale: 0.03), bias: b, input, cache)
        #expect(cache.writes == 4)
        cache.waitForPendingWrites()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".wino") }.count == 2)
    }
}

extension WinogradWeightCacheTests {
    @Test("A new file takes its name only once flushed; until then a second layer shares its mapping")
    func fileInPlaceOnlyWhenFlushed() throws {
        let dir = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = WinogradWeightCache(directory: dir)
        var rng = SeededRandom(seed: 32)
        let input = try BlockedLayoutTests.blocked(NaiveOps.relu(rng.tensor([1, 256, 16, 16])))
        let wt = rng.tensor([256, 256, 3, 3], scale: 0.03)
        func run() throws -> Tensor { try Self.convolve(wt, bias: nil, input, cache) }
        func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path) }

        cache.persistQueue.suspend()                    // the flush has not happened yet
        var suspended = true
        defer { if suspended { cache.persistQueue.resume() } }   // a suspended queue must not be freed
        let first = try run()
        #expect(cache.writes == 1)
        #expect(try names().filter { $0.hasSuffix(".wino") }.isEmpty)
        #expect(try names().filter { $0.hasSuffix(".tmp") }.count == 1)
        let second = try run()                          // same weights, same layout: the in-flight file
        #expect(cache.writes == 1 && cache.hits == 1)
        #expect(second.scalars == first.scalars)
        cache.persistQueue.resume()
        suspended = false
        cache.waitForPendingWrites()
        #expect(try names().filter { $0.hasSuffix(".wino") }.count == 1)
        #expect(try names().filter { $0.hasSuffix(".tmp") }.isEmpty)
    }

    @Test("A temporary file left by a stopped process is removed once an hour old; a recent one is kept")
    func staleTemporariesRemoved() throws {
        let dir = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let stale = dir.appendingPathComponent(".0123456789abcdef.wino.999.1.tmp")
        let recent = dir.appendingPathComponent(".0123456789abcdef.wino.999.2.tmp")
        for file in [stale, recent] { try Data(repeating: 1, count: 4096).write(to: file) }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-2 * 3600)], ofItemAtPath: stale.path)
        let cache = WinogradWeightCache(directory: dir)
        var rng = SeededRandom(seed: 33)
        let input = try BlockedLayoutTests.blocked(NaiveOps.relu(rng.tensor([1, 256, 16, 16])))
        _ = try Self.convolve(rng.tensor([256, 256, 3, 3], scale: 0.03), bias: nil, input, cache)
        cache.waitForPendingWrites()
        #expect(cache.writes == 1)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(FileManager.default.fileExists(atPath: recent.path))
    }
}

extension WinogradWeightCacheTests {
    @Test("Over its size limit the folder loses its least recently used files, never one this process uses")
    func pruneLeastRecentlyUsed() throws {
        let dir = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SeededRandom(seed: 34)
        let input = try BlockedLayoutTests.blocked(NaiveOps.relu(rng.tensor([1, 256, 16, 16])))
        let weights = (0..<3).map { _ in rng.tensor([256, 256, 3, 3], scale: 0.03) }
        func convolve(_ w: Tensor, _ cache: WinogradWeightCache) throws { _ = try Self.convolve(w, bias: nil, input, cache) }
        func files() throws -> Set<String> {
            Set(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".wino") })
        }

        // One process writes A and B (no limit to speak of).
        let writer = WinogradWeightCache(directory: dir)
        try convolve(weights[0], writer)
        writer.waitForPendingWrites()
        let a = try files()
        try convolve(weights[1], writer)
        writer.waitForPendingWrites()
        let b = try files().subtracting(a)
        #expect(a.count == 1 && b.count == 1)
        let aName = try #require(a.first), bName = try #require(b.first)
        let fileSize = try #require(try FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(aName).path)[.size] as? Int)
        for (name, hoursAgo) in [(aName, 3.0), (bName, 2.0)] {
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-hoursAgo * 3600)],
                                                  ofItemAtPath: dir.appendingPathComponent(name).path)
        }

        // A later process with room for two uses A (now the most recent) and writes C: B, the
        // least recently used, goes.
        let later = WinogradWeightCache(directory: dir, maxBytes: 2 * fileSize + fileSize / 2)
        try convolve(weights[0], later)
        #expect(later.hits == 1)
        try convolve(weights[2], later)
        later.waitForPendingWrites()
        let kept = try files()
        #expect(kept.count == 2)
        #expect(kept.isSuperset(of: a) && kept.isDisjoint(with: b))

        // With room for none, files this process uses stay.
        let tight = WinogradWeightCache(directory: dir, maxBytes: 0)
        try convolve(weights[1], tight)
        tight.waitForPendingWrites()
        #expect(try files() == b)
    }
}

extension WinogradWeightCacheTests {
    @Test("A folder that cannot be made, or a file that cannot take its name, is reported; the convolution is right all the same")
    func saveFailuresReported() throws {
        let dir = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var rng = SeededRandom(seed: 35)
        let x = NaiveOps.relu(rng.tensor([1, 256, 16, 16]))
        let input = try BlockedLayoutTests.blocked(x)
        let wt = rng.tensor([256, 256, 3, 3], scale: 0.03)
        let expected = NaiveOps.conv2d(x, wt, nil, stride: 1, padding: 1)

        // The cache folder would be under a regular file: nothing is written, the weights are made in memory.
        let blocker = dir.appendingPathComponent("not-a-folder")
        try Data([1]).write(to: blocker)
        let unwritable = WinogradWeightCache(directory: blocker.appendingPathComponent("wino"))
        #expect(relativeError(try Self.convolve(wt, bias: nil, input, unwritable), expected) < 1e-4)
        unwritable.waitForPendingWrites()
        #expect(unwritable.writes == 0)
        #expect(unwritable.saveFailures.count == 1)
        #expect(unwritable.saveFailures.first?.contains(blocker.path) == true)

        // The file is written, but a folder now holds its name: the rename fails, the temporary file goes.
        let folder = dir.appendingPathComponent("cache")
        let cache = WinogradWeightCache(directory: folder)
        cache.persistQueue.suspend()
        var suspended = true
        defer { if suspended { cache.persistQueue.resume() } }
        #expect(relativeError(try Self.convolve(wt, bias: nil, input, cache), expected) < 1e-4)
        let temporary = try #require(try FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasSuffix(".tmp") })
        // ".<name>.<pid>.<random>.tmp"
        let name = temporary.dropFirst().split(separator: ".").dropLast(3).joined(separator: ".")
        #expect(name.hasSuffix(".wino"))
        let squatter = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: squatter, withIntermediateDirectories: true)
        try Data([1]).write(to: squatter.appendingPathComponent("inside"))
        cache.persistQueue.resume()
        suspended = false
        cache.waitForPendingWrites()
        #expect(cache.writes == 1)
        #expect(cache.saveFailures.count == 1)
        #expect(cache.saveFailures.first?.contains(squatter.path) == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }.isEmpty)
    }
}

@Suite("Activation buffer pool")
struct BufferPoolTests {
    @Test("A buffer no image used is freed at the next image's start; one in use stays")
    func staleBuffersFreed() {
        let pool = DNNLBufferPool()
        let size = 1 << 20
        let first = pool.take(size), second = pool.take(4 * size)
        #expect(first.size == size && second.size == 4 * size)
        pool.give(first.pointer, first.size)           // returned during image 0
        pool.give(second.pointer, second.size)
        #expect(pool.heldBytes == 5 * size)
        pool.startImage()                           // image 1: image 0's buffers may still be wanted
        #expect(pool.heldBytes == 5 * size)
        let reused = pool.take(size)                // image 1 reuses one of them
        #expect(reused.pointer == first.pointer)
        #expect(pool.heldBytes == 4 * size)
        pool.give(reused.pointer, reused.size)
        pool.startImage()                           // image 2: the 4 MiB buffer went unused through image 1
        #expect(pool.heldBytes == size)
        pool.startImage()
        pool.startImage()
        #expect(pool.heldBytes == 0)
    }

    @Test("A miss frees buffers left from earlier images, oldest first, for as many bytes as it allocates; this image's stay")
    func missEvictsStaleBuffers() {
        let pool = DNNLBufferPool()
        let size = 1 << 20
        let a = pool.take(size), b = pool.take(4 * size), c = pool.take(16 * size)
        for buffer in [a, b, c] { pool.give(buffer.pointer, buffer.size) }   // returned during image 0, a oldest
        pool.startImage()                                                     // image 1
        let mine = pool.take(5 * size)                                        // a miss (16 MiB is over 2x): a and b go, not c
        #expect(pool.heldBytes == 16 * size)
        pool.give(mine.pointer, mine.size)                                    // returned during image 1
        let again = pool.take(40 * size)                                      // c goes; this image's 5 MiB stays
        #expect(pool.heldBytes == 5 * size)
        pool.give(again.pointer, again.size)
        pool.releaseAll()
    }

    @Test("A free buffer up to twice the size asked for is lent, the smallest first; a larger one is not")
    func largerBuffersLent() {
        let pool = DNNLBufferPool()
        let size = 1 << 20
        let big = pool.take(4 * size), middle = pool.take(2 * size), exact = pool.take(size)
        for buffer in [big, middle, exact] { pool.give(buffer.pointer, buffer.size) }
        // 2 MiB is wanted: the 2 MiB buffer (smallest that holds it); then 1.5 MiB: the 4 MiB one
        // is too large, so a new buffer of the size asked.
        let two = pool.take(2 * size)
        #expect(two.pointer == middle.pointer && two.size == 2 * size)
        let oneAndHalf = pool.take(3 * size / 2)
        #expect(oneAndHalf.pointer != big.pointer && oneAndHalf.pointer != exact.pointer)
        #expect(oneAndHalf.size == 3 * size / 2)
        // 0.75 MiB: the 1 MiB buffer, lent whole (its size comes back with it).
        let small = pool.take(3 * size / 4)
        #expect(small.pointer == exact.pointer && small.size == size)
        for buffer in [two, oneAndHalf, small] { pool.give(buffer.pointer, buffer.size) }
        #expect(pool.heldBytes == 4 * size + 2 * size + 3 * size / 2 + size)
        pool.releaseAll()
        #expect(pool.heldBytes == 0)
    }
}

@Suite("Scratchpad pool")
struct ScratchpadPoolTests {
    @Test("A larger scratchpad after a smaller one reuses the same reservation, and is writable to its end")
    func growsInPlace() {
        let pool = DNNLScratchpadPool()
        let small = pool.take(1 << 16)
        small.pointer.storeBytes(of: 7, as: UInt8.self)
        pool.give(small)
        let large = pool.take(64 << 20)
        // One reservation, grown by touching more of it.
        #expect(small.size == DNNLScratchpadPool.reservation)
        #expect(large.pointer == small.pointer && large.size == small.size)
        (large.pointer + (64 << 20) - 1).storeBytes(of: 9, as: UInt8.self)
        #expect((large.pointer + (64 << 20) - 1).load(as: UInt8.self) == 9)
        // Two lent at once are two buffers.
        let other = pool.take(1 << 20)
        #expect(other.pointer != large.pointer)
        pool.give(large)
        pool.give(other)
        // A use goes to the buffer whose touched part holds it, the smallest such: 2 MiB to the one
        // touched to 64 MiB, 512 KiB to the one touched to 1 MiB; then 128 MiB to the one touched
        // furthest (the 64 MiB one), not the 1 MiB one, which would have to grow as far.
        let two = pool.take(2 << 20), half = pool.take(1 << 19)
        #expect(two.pointer == large.pointer && half.pointer == other.pointer)
        pool.give(two)
        pool.give(half)
        let big = pool.take(128 << 20)
        #expect(big.pointer == large.pointer)
        pool.give(big)
        pool.releaseAll()
    }
}

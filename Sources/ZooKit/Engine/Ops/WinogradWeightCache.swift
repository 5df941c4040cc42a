import Foundation
internal import CZooDNNL

/// Winograd-transformed convolution weights kept on disk between processes.
///
/// oneDNN's Winograd kernels read weights transformed into its own `wino` layout, four times the
/// size of the plain 3x3 weights for its 4x3 kernel. `WinogradWeightTransform` makes them with
/// little arithmetic, but every byte lands in fresh memory, and first touches of memory are slow
/// on the VMs here (about 2 µs a page): 0.12 s for an R50-FPN backbone's 230 MB (the mask and
/// keypoint heads transform theirs at each run instead; see `Conv2d.winogradWeightsPerRun`).
/// With a cache, the first process transforms each layer straight into a new
/// file's shared mapping (no second copy) and later processes map the file, whose pages the
/// kernel usually still holds.
///
/// A file is named after a hash of the layer's weights, the layout oneDNN asked for, oneDNN's
/// version and the CPU's instruction set; its header repeats the layout and the payload size,
/// which are checked before use, and holds a hash of the payload, written just before the file
/// is flushed and checked at each use (a damaged payload would otherwise give wrong answers
/// silently) and by `zoo cache verify` (`problem(of:)`). A file that fails the checks is ignored
/// and rewritten. Files are made under a temporary name (disk space reserved first) and used at
/// once; once writes pause, a background queue flushes each to disk and only then renames it, so
/// a crash or power cut leaves a temporary file (removed by a later process once an hour old),
/// never a `.wino` file whose payload did not reach the disk. `waitForPendingWrites` flushes what
/// is left at once; `zoo run` calls it before exiting. Failures to read or write the cache never
/// fail inference: the weights are then made in memory, and failures to write are listed in
/// `saveFailures`.
public final class WinogradWeightCache: @unchecked Sendable {
    /// The folder holding the `.wino` files.
    public let directory: URL

    /// The folder's size limit: after new files are put in place, the least recently used other
    /// files are removed until the `.wino` files fit. Files this process uses are never removed.
    public let maxBytes: Int

    /// 4 GiB: many models' worth (an R50-FPN model needs about 230 MB).
    public static let defaultMaxBytes = 4 << 30

    /// A cache in `directory` (created when first written), kept under `maxBytes`.
    public init(directory: URL, maxBytes: Int = WinogradWeightCache.defaultMaxBytes) {
        self.directory = directory
        self.maxBytes = maxBytes
    }

    /// The cache every convolution uses; nil (the default) transforms weights in memory only.
    public static var shared: WinogradWeightCache? {
        get { sharedLock.lock(); defer { sharedLock.unlock() }; return sharedCache }
        set { sharedLock.lock(); defer { sharedLock.unlock() }; sharedCache = newValue }
    }
    private nonisolated(unsafe) static var sharedCache: WinogradWeightCache?
    private static let sharedLock = NSLock()

    /// Bytes before the payload: magic, payload size, descriptor size, descriptor, payload hash
    /// (`ContentHash`), zeros. One page, so the mapped payload is page-aligned.
    static let headerSize = 4096
    static let magic = Array("ZOOWINO2".utf8)
    /// Where the payload's hash is, after the descriptor.
    static let payloadHashOffset = 24 + MemoryLayout<dnnl_memory_desc_t>.size

    /// Weights found in the cache (a file, or one this process is still putting in place) and
    /// files written, in this process (for tests and `--verbose`).
    public var hits: Int {
        countLock.lock()
        defer { countLock.unlock() }
        return hitCount
    }
    public var writes: Int {
        countLock.lock()
        defer { countLock.unlock() }
        return writeCount
    }
    private var hitCount = 0
    private var writeCount = 0
    private let countLock = NSLock()

    /// Why files could not be saved in this process, one line each naming the file or folder
    /// (the weights were used from memory all the same; a later process transforms them again).
    /// Complete once `waitForPendingWrites` has returned.
    public var saveFailures: [String] {
        countLock.lock()
        defer { countLock.unlock() }
        return failures
    }
    private var failures: [String] = []

    private func recordFailure(_ text: String) {
        countLock.lock()
        failures.append(text)
        countLock.unlock()
    }

    /// Files written but not yet flushed and renamed, by final path: their mappings, shared with
    /// any later layer of the same weights and layout (guarded by `countLock`).
    private var inFlight: [String: Data] = [:]
    /// Files waiting to be flushed and renamed, oldest first (guarded by `countLock`).
    private var queued: [(path: String, file: MappedFile.PendingFile, mapping: Data)] = []
    private var lastWrite = DispatchTime.now()
    private var sweptTemporaries = false
    /// The names of the files this process maps (guarded by `countLock`): never pruned by it.
    private var used = Set<String>()
    /// Held while files are flushed and renamed.
    private let flushLock = NSLock()
    /// Flushes and renames new files off the inference threads, once no file has been written for
    /// `flushDelay`: flushing 250-500 MB while a model's first image ran slowed it by about
    /// 0.15 s (writeback competes for the two cores), so the flush waits for a quiet moment.
    let persistQueue = DispatchQueue(label: "zoo.winograd-cache.persist", qos: .utility)
    static let flushDelay = DispatchTimeInterval.seconds(2)

    deinit {
        flushQueued()
    }

    /// Flushes and renames every file written so far, now, and returns once each is on disk
    /// under its name (or, failing that, removed).
    public func waitForPendingWrites() {
        flushQueued()
    }

    /// Commits the queued files, one at a time, then prunes the folder if any was committed.
    private func flushQueued() {
        flushLock.lock()
        defer { flushLock.unlock() }
        var committed = false
        while true {
            countLock.lock()
            guard !queued.isEmpty else {
                countLock.unlock()
                if committed { prune() }
                return
            }
            committed = true
            let next = queued.removeFirst()
            countLock.unlock()
            Self.sealPayloadHash(next.mapping)
            // A failed flush or rename loses only the file: this process keeps its mapping.
            if let failure = next.file.commit() { recordFailure(failure) }
            countLock.lock()
            inFlight[next.path] = nil
            countLock.unlock()
        }
    }

    /// Temporary files older than this are left over from a process that stopped before
    /// putting them in place; a later process's first use of the cache removes them.
    static let staleTemporaryAge: TimeInterval = 3600
    /// A temporary file this old whose writing process has exited is left over too (a killed or
    /// aborted run's, hundreds of MB that the size limit does not count). A live writer renames its
    /// files within seconds of its last write, so younger ones are spared in case the pid is
    /// another pid namespace's or another machine's (a folder shared between containers or hosts).
    static let orphanTemporaryAge: TimeInterval = 600

    /// Whether the process whose pid a temporary file's name carries (`.<hash>.wino.<pid>.<random>.tmp`)
    /// no longer exists; false when the name has no pid or the process may still run.
    static func writerHasExited(temporaryName name: String) -> Bool {
        let parts = name.split(separator: ".")
        guard parts.count >= 5, let pid = Int32(parts[parts.count - 3]), pid > 0 else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// The weights in `desc` (`weights` times the per-output-channel `scale`, if any): mapped
    /// from the cache when a valid file is there, else written by `fill` (given
    /// `dnnl_memory_desc_get_size(desc)` bytes) straight into a new cache file; nil when the file
    /// cannot be made (the caller then makes the weights in memory).
    func memory(weights: Tensor, scale: [Float]? = nil, desc: dnnl_memory_desc_t, ctx: DNNLContext,
                fill: (UnsafeMutableRawPointer) throws -> Void) throws -> DNNLMemory? {
        let file = fileURL(weights: weights, scale: scale, desc: desc)
        sweepStaleTemporaries()
        countLock.lock()
        let pending = inFlight[file.path]
        countLock.unlock()
        if let pending, let shared = try? payloadMemory(pending, desc: desc, ctx: ctx, file: file) {
            countLock.lock(); hitCount += 1; countLock.unlock()
            return shared
        }
        if let mapped = load(file, desc: desc, ctx: ctx) {
            // Its modification time is its last use, for pruning.
            _ = utimensat(AT_FDCWD, file.path, nil, 0)
            countLock.lock(); hitCount += 1; used.insert(file.lastPathComponent); countLock.unlock()
            return mapped
        }
        guard let written = try create(file, desc: desc, ctx: ctx, fill: fill) else { return nil }
        countLock.lock(); writeCount += 1; countLock.unlock()
        return written
    }

    /// Removes the least recently used `.wino` files (oldest modification time first) that this
    /// process does not use until the folder's `.wino` files fit in `maxBytes`. Only regular files
    /// go; one another process removed first counts as gone.
    private func prune() {
        let keys: Set<URLResourceKey> = [.fileSizeKey, .contentModificationDateKey, .isRegularFileKey]
        guard let urls = try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: Array(keys)) else { return }
        var files = urls.filter { $0.pathExtension == "wino" }.compactMap { url -> (url: URL, size: Int, used: Date)? in
            guard let values = try? url.resourceValues(forKeys: keys), values.isRegularFile == true, let size = values.fileSize,
                  let modified = values.contentModificationDate else { return nil }
            return (url, size, modified)
        }
        var total = files.reduce(0) { $0 + $1.size }
        guard total > maxBytes else { return }
        countLock.lock()
        let inUse = used
        countLock.unlock()
        files.sort { $0.used < $1.used }
        for file in files where total > maxBytes && !inUse.contains(file.url.lastPathComponent) {
            if unlink(file.url.path) == 0 || errno == ENOENT { total -= file.size }
        }
    }

    /// Writes the hash of a new file's payload into its header (the mapping is the file's own,
    /// writable and shared).
    private static func sealPayloadHash(_ mapping: Data) {
        mapping.withUnsafeBytes { raw in
            guard raw.count >= headerSize, let base = raw.baseAddress else { return }
            let hash = ContentHash.of(UnsafeRawBufferPointer(rebasing: raw[headerSize...]))
            UnsafeMutableRawPointer(mutating: base).storeBytes(of: hash.littleEndian, toByteOffset: payloadHashOffset, as: UInt64.self)
        }
    }

    /// What is wrong with the `.wino` file at `file`: its header (see `headerProblem(of:)`) or
    /// a payload that does not match the hash in the header; nil when it is sound. Reads the
    /// whole file.
    public static func problem(of file: URL) -> String? {
        guard let data = try? MappedFile.map(file, sequential: true) else { return "cannot be read" }
        return data.withUnsafeBytes { raw -> String? in
            // A sound header means the file is the header page plus the payload it announces.
            if let problem = headerProblem(raw, fileSize: raw.count) { return problem }
            return payloadMatchesHash(raw) ? nil : "payload does not match the hash in its header (damaged)"
        }
    }

    /// Whether the payload of a file with a sound header (`raw`, the whole file) hashes to the
    /// hash its header holds. Reads every byte of the payload.
    private static func payloadMatchesHash(_ raw: UnsafeRawBufferPointer) -> Bool {
        let stored = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: payloadHashOffset, as: UInt64.self))
        return stored == ContentHash.of(UnsafeRawBufferPointer(rebasing: raw[headerSize...]))
    }

    /// What is wrong with the header of the `.wino` file at `file` (magic, payload size against the
    /// file's size, descriptor size), or nil when it is sound. The payload is not read: a file whose
    /// layout does not match its layer's is caught, and rewritten, when it is loaded.
    public static func headerProblem(of file: URL) -> String? {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return "cannot be opened" }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd(), (try? handle.seek(toOffset: 0)) != nil,
              let head = try? handle.read(upToCount: 24) else {
            return "shorter than its header"
        }
        return head.withUnsafeBytes { headerProblem($0, fileSize: Int(size)) }
    }

    /// `headerProblem(of:)` for a file of `fileSize` bytes starting with `raw`.
    private static func headerProblem(_ raw: UnsafeRawBufferPointer, fileSize: Int) -> String? {
        guard raw.count >= 24 else { return "shorter than its header" }
        guard Array(raw[0..<8]) == magic else {
            return Array(raw[0..<7]) == Array(magic[0..<7]) ? "an older zoo Winograd weights format (zoo run ignores it and writes a new file)"
                : "not a zoo Winograd weights file (bad magic)"
        }
        let payload = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let descSize = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        guard descSize == UInt64(MemoryLayout<dnnl_memory_desc_t>.size) else {
            return "descriptor of \(descSize) bytes, expected \(MemoryLayout<dnnl_memory_desc_t>.size) (another oneDNN build)"
        }
        // Compared without adding to `payload`, which a damaged header may set near 2^64.
        guard fileSize >= headerSize, UInt64(fileSize - headerSize) == payload else {
            return "\(fileSize) bytes, the header says \(headerSize) + \(payload) (truncated, padded or a damaged header)"
        }
        return nil
    }

    /// The version of the payload zoo writes (`WinogradWeightTransform`'s arithmetic): part of every
    /// file's name, so files made by a transform that has since changed are never used.
    static let transformVersion: UInt64 = 1

    /// `<hash>.wino` in the cache folder: a hash of the weights, their scale, the layout, oneDNN's
    /// version, the CPU's instruction set and `transformVersion`.
    func fileURL(weights: Tensor, scale: [Float]? = nil, desc: dnnl_memory_desc_t) -> URL {
        var hash = weights.withUnsafeBytes { ContentHash.of($0) }
        hash = ContentHash.combine(hash, [Self.transformVersion])
        hash = ContentHash.combine(hash, weights.shape.map { UInt64($0) })
        if let scale {
            hash = ContentHash.combine(hash, [scale.withUnsafeBytes { ContentHash.of($0) }])
        }
        var d = desc
        hash = ContentHash.combine(hash, [withUnsafeBytes(of: &d) { ContentHash.of($0) }])
        if let v = dnnl_version()?.pointee {
            hash = ContentHash.combine(hash, [UInt64(v.major), UInt64(v.minor), UInt64(v.patch)])
        }
        hash = ContentHash.combine(hash, [UInt64(dnnl_get_effective_cpu_isa().rawValue)])
        return directory.appendingPathComponent(String(format: "%016llx.wino", hash))
    }

    private func load(_ file: URL, desc: dnnl_memory_desc_t, ctx: DNNLContext) -> DNNLMemory? {
        guard FileManager.default.fileExists(atPath: file.path), let data = try? MappedFile.map(file) else { return nil }
        var want = desc
        let payload = dnnl_memory_desc_get_size(&want)
        let descSize = MemoryLayout<dnnl_memory_desc_t>.size
        guard data.count == Self.headerSize + payload else { return nil }
        let valid = data.withUnsafeBytes { raw -> Bool in
            guard Self.headerProblem(raw, fileSize: data.count) == nil else { return false }
            var stored = dnnl_memory_desc_t()
            withUnsafeMutableBytes(of: &stored) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[24..<(24 + descSize)])) }
            // The hash reads every byte of the payload, which the layer is about to read anyway.
            return DNNL.equal(stored, desc) && Self.payloadMatchesHash(raw)
        }
        return valid ? try? payloadMemory(data, desc: desc, ctx: ctx, file: file) : nil
    }

    /// The weights in a mapped cache file's payload (the mapping kept alive by the memory).
    private func payloadMemory(_ data: Data, desc: dnnl_memory_desc_t, ctx: DNNLContext, file: URL) throws -> DNNLMemory? {
        guard let base = data.withUnsafeBytes({ $0.baseAddress }) else { return nil }
        return try DNNLMemory(desc, ctx, pointer: UnsafeMutableRawPointer(mutating: base + Self.headerSize),
                              keepAlive: data, context: "Winograd weights \(file.path)")
    }

    /// A new cache file: header, then the payload written in place by `fill`; nil when the
    /// file cannot be made (read-only or full disk), which never fails inference. An error
    /// thrown by `fill` is passed on.
    private func create(_ file: URL, desc: dnnl_memory_desc_t, ctx: DNNLContext,
                        fill: (UnsafeMutableRawPointer) throws -> Void) throws -> DNNLMemory? {
        var want = desc
        let payload = dnnl_memory_desc_get_size(&want)
        let descSize = MemoryLayout<dnnl_memory_desc_t>.size
        guard Self.payloadHashOffset + 8 <= Self.headerSize else { return nil }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            recordFailure("\(directory.path): cannot create the folder: \(Self.describe(error))")
            return nil
        }
        var header = [UInt8](repeating: 0, count: Self.headerSize)
        header.replaceSubrange(0..<8, with: Self.magic)
        withUnsafeBytes(of: UInt64(payload).littleEndian) { header.replaceSubrange(8..<16, with: $0) }
        withUnsafeBytes(of: UInt64(descSize).littleEndian) { header.replaceSubrange(16..<24, with: $0) }
        var d = desc
        withUnsafeBytes(of: &d) { header.replaceSubrange(24..<(24 + descSize), with: $0) }
        struct FillFailed: Error { let error: Error }
        let made: (data: Data, pending: MappedFile.PendingFile)
        do {
            made = try MappedFile.createMapped(at: file, size: Self.headerSize + payload) { base in
                header.withUnsafeBytes { UnsafeMutableRawBufferPointer(start: base, count: Self.headerSize).copyMemory(from: $0) }
                do { try fill(base + Self.headerSize) } catch { throw FillFailed(error: error) }
            }
        } catch let failed as FillFailed {
            throw failed.error
        } catch {
            recordFailure(Self.describe(error))
            return nil
        }
        countLock.lock()
        inFlight[file.path] = made.data
        used.insert(file.lastPathComponent)
        queued.append((file.path, made.pending, made.data))
        lastWrite = DispatchTime.now()
        countLock.unlock()
        persistQueue.asyncAfter(deadline: .now() + Self.flushDelay) { [weak self] in
            guard let self else { return }
            self.countLock.lock()
            let quiet = DispatchTime.now() >= self.lastWrite + Self.flushDelay
            self.countLock.unlock()
            // Not quiet: a later write scheduled its own flush.
            if quiet { self.flushQueued() }
        }
        return try payloadMemory(made.data, desc: desc, ctx: ctx, file: file)
    }

    /// An error's message for `saveFailures`.
    private static func describe(_ error: Error) -> String {
        if let error = error as? CheckpointError { return error.description }
        return error.localizedDescription
    }

    /// Removes temporary files in the folder older than `staleTemporaryAge`, or older than
    /// `orphanTemporaryAge` whose writer (the pid in the name) no longer exists here, once per cache (at its
    /// first use, so a process whose files are all cached also clears what a killed one left).
    private func sweepStaleTemporaries() {
        countLock.lock()
        let swept = sweptTemporaries
        sweptTemporaries = true
        countLock.unlock()
        guard !swept, let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        let cutoff = Date().addingTimeInterval(-Self.staleTemporaryAge)
        let orphanCutoff = Date().addingTimeInterval(-Self.orphanTemporaryAge)
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") && name.contains(".wino.") {
            let url = directory.appendingPathComponent(name)
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date else { continue }
            if modified < cutoff || (modified < orphanCutoff && Self.writerHasExited(temporaryName: name)) {
                unlink(url.path)
            }
        }
    }
}

/// A fast 64-bit hash of bytes (four multiply-rotate lanes), for cache keys, not for security.
enum ContentHash {
    static let prime1: UInt64 = 0x9E37_79B1_85EB_CA87
    static let prime2: UInt64 = 0xC2B2_AE3D_27D4_EB4F

    @inline(__always)
    static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 {
        let a = acc &+ input &* prime2
        return ((a << 31) | (a >> 33)) &* prime1
    }

    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var l0: UInt64 = prime1 &+ prime2, l1: UInt64 = prime2, l2: UInt64 = 0, l3: UInt64 = 0 &- prime1
        let words = bytes.count / 8
        var i = 0
        if let base = bytes.baseAddress {
            while i + 4 <= words {
                l0 = round(l0, base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                l1 = round(l1, base.loadUnaligned(fromByteOffset: 8 * i + 8, as: UInt64.self))
                l2 = round(l2, base.loadUnaligned(fromByteOffset: 8 * i + 16, as: UInt64.self))
                l3 = round(l3, base.loadUnaligned(fromByteOffset: 8 * i + 24, as: UInt64.self))
                i += 4
            }
        }
        var h = ((l0 << 1) | (l0 >> 63)) &+ ((l1 << 7) | (l1 >> 57)) &+ ((l2 << 12) | (l2 >> 52)) &+ ((l3 << 18) | (l3 >> 46))
        h = combine(h, [UInt64(bytes.count)])
        while i < words {
            h = round(h, bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
            i += 1
        }
        for j in (words * 8)..<bytes.count { h = round(h, UInt64(bytes[j])) }
        return avalanche(h)
    }

    static func combine(_ h: UInt64, _ values: [UInt64]) -> UInt64 {
        var h = h
        for v in values { h = round(h ^ prime1, v) }
        return avalanche(h)
    }

    static func avalanche(_ h: UInt64) -> UInt64 {
        var h = h
        h ^= h >> 33
        h = h &* prime2
        h ^= h >> 29
        h = h &* prime1
        h ^= h >> 32
        return h
    }
}

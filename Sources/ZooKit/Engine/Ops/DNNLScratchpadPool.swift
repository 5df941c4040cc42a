import Foundation

/// Scratch buffers lent to one use at a time: oneDNN primitives' scratchpads (`DNNLPrimitive`) and
/// the blocked copies of a plain-layout convolution's input and output (`DNNLConvPlan`). Uses are
/// mostly one after another, so this holds a few buffers, grown to the largest sizes seen.
final class DNNLScratchpadPool: @unchecked Sendable {
    static let shared = DNNLScratchpadPool()
    private let lock = NSLock()
    private var free: [(pointer: UnsafeMutableRawPointer, size: Int)] = []

    /// A 64-byte aligned buffer of at least `size` bytes, for the caller alone until `give`.
    func take(_ size: Int) -> (pointer: UnsafeMutableRawPointer, size: Int) {
        lock.lock()
        defer { lock.unlock() }
        if let i = free.indices.filter({ free[$0].size >= size }).min(by: { free[$0].size < free[$1].size }) {
            return free.remove(at: i)
        }
        if let i = free.indices.min(by: { free[$0].size < free[$1].size }) {
            free.remove(at: i).pointer.deallocate()
        }
        return (UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size)
    }

    /// Returns a buffer from `take`.
    func give(_ buffer: (pointer: UnsafeMutableRawPointer, size: Int)) {
        lock.lock()
        defer { lock.unlock() }
        free.append(buffer)
    }

    /// Frees every buffer not lent out.
    func releaseAll() {
        lock.lock()
        defer { lock.unlock() }
        for buffer in free { buffer.pointer.deallocate() }
        free.removeAll()
    }
}

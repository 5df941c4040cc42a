import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Scratch buffers lent to one use at a time: oneDNN primitives' scratchpads (`DNNLPrimitive`) and
/// the blocked copies of a plain-layout convolution's input and output (`DNNLConvPlan`).
///
/// Uses are mostly one after another, so this holds a few buffers. Each is a large reservation of
/// address space (`reservation`) whose pages the kernel provides only when first touched, so a use
/// that needs more than the previous ones touches only the pages beyond what they reached. The
/// first image's scratchpads grow through dozens of sizes; allocating each anew at its exact size
/// touched 474 MB of fresh pages in Keypoint R-CNN's backbone and 280 MB in its head (first
/// touches cost page faults, and on the VMs here a trip to the host as well). Where the address
/// space cannot be reserved, buffers are allocated at the size asked for.
final class DNNLScratchpadPool: @unchecked Sendable {
    static let shared = DNNLScratchpadPool()
    private let lock = NSLock()
    private var free: [Buffer] = []

    /// Address space reserved for each buffer (untouched pages cost nothing but the reservation).
    static let reservation = 1 << 32

    /// A buffer lent out by `take`: `size` usable bytes at `pointer`, 64-byte aligned.
    struct Buffer {
        let pointer: UnsafeMutableRawPointer
        let size: Int
        /// Whether `pointer` is a reservation of `size` bytes made with mmap (else an allocation).
        fileprivate let mapped: Bool
    }

    /// A buffer of at least `size` bytes, for the caller alone until `give`.
    func take(_ size: Int) -> Buffer {
        lock.lock()
        defer { lock.unlock() }
        if let i = free.indices.filter({ free[$0].size >= size }).min(by: { free[$0].size < free[$1].size }) {
            return free.remove(at: i)
        }
        // Every free buffer is too small (reservations never are, but for sizes beyond one): the
        // smallest goes, as the new one replaces it.
        if let i = free.indices.min(by: { free[$0].size < free[$1].size }) {
            Self.release(free.remove(at: i))
        }
        return Self.make(size)
    }

    /// Returns a buffer from `take`.
    func give(_ buffer: Buffer) {
        lock.lock()
        defer { lock.unlock() }
        free.append(buffer)
    }

    /// Frees every buffer not lent out.
    func releaseAll() {
        lock.lock()
        defer { lock.unlock() }
        for buffer in free { Self.release(buffer) }
        free.removeAll()
    }

    private static func make(_ size: Int) -> Buffer {
        #if canImport(Glibc)
        if size <= reservation,
           let address = mmap(nil, reservation, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
           address != MAP_FAILED {
            return Buffer(pointer: address, size: reservation, mapped: true)
        }
        #endif
        return Buffer(pointer: UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size: size, mapped: false)
    }

    private static func release(_ buffer: Buffer) {
        #if canImport(Glibc)
        if buffer.mapped {
            _ = munmap(buffer.pointer, buffer.size)
            return
        }
        #endif
        buffer.pointer.deallocate()
    }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Scratch buffers lent to one use at a time: oneDNN primitives' scratchpads (`DNNLPrimitive`) and
/// the blocked copies of a plain-layout convolution's input and output (`DNNLConvPlan`).
///
/// Uses are mostly one after another, so this holds a few buffers. Each is a reservation of
/// address space (`reservation`) whose pages the kernel provides only when first touched, so a use
/// that needs more than the previous ones touches only the pages beyond what they reached. The
/// first image's scratchpads grow through dozens of sizes; allocating each anew at its exact size
/// touched 474 MB of fresh pages in Keypoint R-CNN's backbone and 280 MB in its head (first
/// touches cost page faults, and on the VMs here a trip to the host as well). A use gets the buffer
/// whose touched part already holds it (the smallest such), else the one touched furthest, so the
/// pages in use stay close to the largest uses rather than each buffer growing to every size.
/// Where the address space cannot be reserved, or a use needs more than a reservation, buffers are
/// allocated at the size asked for.
final class DNNLScratchpadPool: @unchecked Sendable {
    static let shared = DNNLScratchpadPool()
    private let lock = NSLock()
    private var free: [Buffer] = []

    /// Address space reserved for each buffer: 1 GiB, four times the largest scratchpad of the
    /// R50-FPN models (261 MB, Keypoint R-CNN). Untouched pages cost nothing but the reservation.
    static let reservation = 1 << 30

    /// A buffer lent out by `take`: `size` usable bytes at `pointer`, 64-byte aligned.
    struct Buffer {
        let pointer: UnsafeMutableRawPointer
        let size: Int
        /// Whether `pointer` is a reservation of `size` bytes made with mmap (else an allocation).
        fileprivate let mapped: Bool
        /// The most bytes any use asked for: the pages touched so far.
        fileprivate var touched: Int
    }

    /// A buffer of at least `size` bytes, for the caller alone until `give`.
    func take(_ size: Int) -> Buffer {
        lock.lock()
        defer { lock.unlock() }
        let fits = free.indices.filter { free[$0].size >= size }
        let covered = fits.filter { free[$0].touched >= size }
        if let i = covered.min(by: { free[$0].touched < free[$1].touched })
            ?? fits.max(by: { free[$0].touched < free[$1].touched }) {
            var buffer = free.remove(at: i)
            buffer.touched = max(buffer.touched, size)
            return buffer
        }
        // Every free buffer is too small (only allocations and sizes beyond a reservation): the
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
            return Buffer(pointer: address, size: reservation, mapped: true, touched: size)
        }
        #endif
        return Buffer(pointer: UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size: size, mapped: false,
                      touched: size)
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

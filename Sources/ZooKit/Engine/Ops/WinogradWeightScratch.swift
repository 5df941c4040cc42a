import Foundation

/// The buffer that convolutions transforming their Winograd weights at each run
/// (`Conv2d.winogradWeightsPerRun`) transform them into: one buffer, kept between runs and
/// images, grown to the largest layer's size (36 MiB for a 512-channel layer). Taking a buffer
/// of that size anew at each layer would cost fresh pages: a 36 MiB buffer allocated anew took
/// 30-60 ms to fill here, against 4-12 ms for one already touched.
final class WinogradWeightScratch: @unchecked Sendable {
    static let shared = WinogradWeightScratch()
    private let lock = NSLock()
    private var buffer: (pointer: UnsafeMutableRawPointer, size: Int)?
    private var lent = false

    /// A 64-byte aligned buffer of at least `size` bytes (contents undefined), to be given back
    /// with `give`: the kept buffer when it is free (grown first if smaller), else a new one
    /// (when another thread holds it).
    func take(_ size: Int) -> UnsafeMutableRawPointer {
        lock.lock()
        defer { lock.unlock() }
        guard !lent else { return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64) }
        lent = true
        return grow(to: size)
    }

    /// Grows the kept buffer to `size` bytes now, if it is smaller and free: a tower whose layers
    /// need 18 then 36 MiB gets one buffer of fresh pages, not two.
    func reserve(_ size: Int) {
        lock.lock()
        defer { lock.unlock() }
        guard size > 0, !lent else { return }
        _ = grow(to: size)
    }

    /// The kept buffer, replaced by one of `size` bytes first if it is smaller (called with the
    /// lock held, the buffer not lent).
    private func grow(to size: Int) -> UnsafeMutableRawPointer {
        if let kept = buffer, kept.size >= size { return kept.pointer }
        buffer?.pointer.deallocate()
        let pointer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        buffer = (pointer, size)
        return pointer
    }

    /// Bytes kept (tests).
    var keptBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return buffer?.size ?? 0
    }

    /// Gives back a buffer from `take`.
    func give(_ pointer: UnsafeMutableRawPointer) {
        lock.lock()
        defer { lock.unlock() }
        if let kept = buffer, kept.pointer == pointer {
            lent = false
        } else {
            pointer.deallocate()
        }
    }
}

import Foundation

/// Freed activation buffers kept for reuse, lent to requests of their size or up to
/// `maximumSlack` times smaller: each `predict` allocates the same sizes again, and fresh
/// multi-megabyte allocations cost page faults and zeroing by the kernel (about a tenth of a run).
/// Holds at most `limit` bytes (the oldest are freed beyond it); a request no free buffer serves
/// first frees buffers left from earlier images, and `startImage` frees those that a whole image
/// went by without using (another image size, another model, the benchmark's ceiling
/// measurement), so they do not raise the peak memory.
final class DNNLBufferPool: @unchecked Sendable {
    static let shared = DNNLBufferPool()
    private let lock = NSLock()
    /// Free buffers, oldest first, with the image during which each was returned.
    private var free: [(pointer: UnsafeMutableRawPointer, size: Int, image: Int)] = []
    private var held = 0
    private var image = 0
    /// Bytes kept at most; the oldest buffers are freed beyond it. 384 MiB holds every activation
    /// size an R50-FPN image allocates, Keypoint R-CNN's head included (at 256 MiB, 234 MB of its
    /// activations were fresh pages each image; at 128 MiB, 165 MB of Mask R-CNN's). Peak RSS does
    /// not grow with it, as the FPN releases each `res` map after its lateral conv: Keypoint R-CNN
    /// 1550-1552 MB against 1570-1575 at 256 MiB (`zoo-bench engine`).
    let limit = 384 << 20
    /// Buffers below this size come from the allocator directly.
    let minimumSize = 1 << 16
    /// How many times larger than asked a reused buffer may be. The first image allocates every
    /// buffer afresh, and its activations come in many sizes; lending a larger free buffer spares
    /// fresh pages (first touches cost page faults). Later images ask for the same sizes in the same
    /// order and find the same buffers.
    let maximumSlack = 2

    /// A 64-byte aligned buffer of at least `size` bytes (contents undefined), and its size, to
    /// be given back with it: the smallest free one that holds `size` bytes without being more
    /// than `maximumSlack` times larger, else a new one of `size` bytes (after freeing as many
    /// bytes of buffers returned during earlier images, oldest first).
    func take(_ size: Int) -> (pointer: UnsafeMutableRawPointer, size: Int) {
        if size >= minimumSize {
            lock.lock()
            defer { lock.unlock() }
            var best: Int?
            for i in free.indices where free[i].size >= size && free[i].size <= size * maximumSlack {
                if let b = best, free[b].size < free[i].size { continue }
                best = i
            }
            if let best {
                let buffer = free.remove(at: best)
                held -= buffer.size
                return (buffer.pointer, buffer.size)
            }
            // A miss: buffers left from earlier images (another image size) make way, oldest first,
            // for as many bytes as the new one, so a batch of mixed sizes does not hold the last
            // image's buffers on top of this one's.
            var released = 0
            while released < size, let i = free.firstIndex(where: { $0.image < image }) {
                let stale = free.remove(at: i)
                held -= stale.size
                released += stale.size
                stale.pointer.deallocate()
            }
        }
        return (UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64), size)
    }

    /// Returns a buffer from `take`, with the size `take` gave.
    func give(_ pointer: UnsafeMutableRawPointer, _ size: Int) {
        guard size >= minimumSize, size <= limit else {
            pointer.deallocate()
            return
        }
        lock.lock()
        defer { lock.unlock() }
        free.append((pointer, size, image))
        held += size
        while held > limit, !free.isEmpty {
            let old = free.removeFirst()
            held -= old.size
            old.pointer.deallocate()
        }
    }

    /// Marks the start of an image: buffers returned before the previous image started and not
    /// taken since are freed.
    func startImage() {
        lock.lock()
        defer { lock.unlock() }
        image += 1
        free.removeAll { entry in
            guard entry.image < image - 1 else { return false }
            held -= entry.size
            entry.pointer.deallocate()
            return true
        }
    }

    /// Frees every held buffer.
    func releaseAll() {
        lock.lock()
        defer { lock.unlock() }
        for entry in free { entry.pointer.deallocate() }
        free.removeAll()
        held = 0
    }

    /// Bytes held for reuse (tests).
    var heldBytes: Int {
        lock.lock()
        defer { lock.unlock() }
        return held
    }
}

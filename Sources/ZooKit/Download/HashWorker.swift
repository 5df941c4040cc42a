import Foundation

/// Feeds a digest on its own thread, so the sha256 of a download runs beside the md5 computed on
/// libcurl's thread instead of after it (the two together are the downloader's main CPU cost).
/// Chunks are copied; at most `limit` bytes wait, after which `submit` blocks (backpressure).
final class HashWorker: @unchecked Sendable {
    private let digest: StreamingDigest
    private let condition = NSCondition()
    private var queue: [Data] = []
    private var head = 0
    private var queuedBytes = 0
    private var closed = false
    private var finished = false
    private let limit = 32 << 20

    /// Starts a thread that adds every submitted chunk to `digest`, in order.
    init(digest: StreamingDigest) {
        self.digest = digest
        let thread = Thread { [self] in drain() }
        thread.name = "zoo-hash"
        thread.start()
    }

    /// Queues a copy of `bytes`.
    func submit(_ bytes: UnsafeRawBufferPointer) {
        let chunk = Data(bytes)
        condition.lock()
        while queuedBytes > limit { condition.wait() }
        queue.append(chunk)
        queuedBytes += chunk.count
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until every queued chunk is hashed, stops the thread, and returns the digest.
    func finish() -> StreamingDigest {
        condition.lock()
        closed = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
        return digest
    }

    private func drain() {
        while true {
            condition.lock()
            while head == queue.count && !closed { condition.wait() }
            if head == queue.count {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let chunk = queue[head]
            head += 1
            if head > 64 {
                queue.removeFirst(head)
                head = 0
            }
            queuedBytes -= chunk.count
            condition.broadcast()
            condition.unlock()
            digest.update(chunk)
        }
    }
}

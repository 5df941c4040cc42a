import Foundation

/// One machine's part of a batch split across `count` machines: `--shard K/N` takes the images at
/// positions K, K+N, K+2N, ... (0-based) of the sorted list that `ImageInputs.expand` builds.
///
/// K is 0-based (`0 <= K < N`) because both schedulers it is made for count from 0: Slurm's
/// `SLURM_ARRAY_TASK_ID` with `--array=0-(N-1)` and Kubernetes' `JOB_COMPLETION_INDEX` in an
/// indexed Job. The shards `0/N ... (N-1)/N` partition the list exactly, need no coordination,
/// and differ in size by at most one image.
public struct Shard: Hashable, Sendable, CustomStringConvertible {
    /// K: which shard, `0 ..< count`.
    public let index: Int
    /// N: how many shards.
    public let count: Int

    /// The shard `index` of `count`; throws `BatchError.badShard` unless `0 <= index < count`.
    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw BatchError.badShard(text: "\(index)/\(count)", detail: "N must be at least 1") }
        guard index >= 0, index < count else {
            throw BatchError.badShard(text: "\(index)/\(count)", detail: "K must be between 0 and N-1 (K is 0-based)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `K/N` (spaces around the numbers allowed), e.g. `3/8`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw BatchError.badShard(text: text, detail: "expected K/N") }
        guard let k = Int(parts[0].trimmingCharacters(in: .whitespaces)), let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw BatchError.badShard(text: text, detail: "K and N must be whole numbers")
        }
        guard n >= 1 else { throw BatchError.badShard(text: text, detail: "N must be at least 1") }
        guard k >= 0, k < n else {
            throw BatchError.badShard(text: text, detail: "K must be between 0 and \(n - 1) (K is 0-based)")
        }
        self.index = k
        self.count = n
    }

    /// The whole batch, as one shard.
    public static let all = Shard(unchecked: 0, 1)

    private init(unchecked index: Int, _ count: Int) {
        self.index = index
        self.count = count
    }

    /// Whether the image at `position` of the sorted list belongs to this shard.
    public func contains(position: Int) -> Bool {
        position % count == index
    }

    /// This shard's elements of `items` (every N-th from the K-th), in their order.
    public func select<T>(_ items: [T]) -> [T] {
        guard index < items.count else { return [] }
        return stride(from: index, to: items.count, by: count).map { items[$0] }
    }

    /// `K/N`.
    public var description: String { "\(index)/\(count)" }
}

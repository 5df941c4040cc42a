/// Orders of scores as torch sorts them (`sort(stable=True, descending=True)`, `topk`): largest
/// first, ties by lower index, NaN above every number, -0 equal to +0.
///
/// Each score and its index become one 64-bit key whose integer order is that order, so sorting
/// compares integers instead of calling a comparator on floats and indices (several times faster
/// on the RPN's 160k logits of one level), and `topKIndices` selects the k smallest keys before
/// sorting only those.

/// The key of `score` at `index`: the high half orders scores descending (NaN first), the low
/// half is the index, so equal scores keep index order and no two keys are equal.
@inline(__always)
func descendingScoreKey(_ score: Float, _ index: Int) -> UInt64 {
    let high: UInt32
    if score.isNaN {
        high = 0
    } else {
        let bits = score == 0 ? 0 : score.bitPattern
        // Flipping the sign bit of positives and every bit of negatives orders floats ascending
        // as unsigned integers; the complement of that orders them descending.
        let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        high = ~ascending
    }
    return UInt64(high) << 32 | UInt64(UInt32(truncatingIfNeeded: index))
}

/// The keys of `scores`, index by index.
private func descendingScoreKeys(_ scores: [Float]) -> [UInt64] {
    precondition(scores.count <= Int(UInt32.max), "score order: more than 2^32 scores")
    var keys = [UInt64](repeating: 0, count: scores.count)
    scores.withUnsafeBufferPointer { s in
        keys.withUnsafeMutableBufferPointer { k in
            for i in s.indices { k[i] = descendingScoreKey(s[i], i) }
        }
    }
    return keys
}

/// Indices of `scores` sorted by score descending, ties in index order (torch's stable sort).
func stableOrderDescending(_ scores: [Float]) -> [Int] {
    var keys = descendingScoreKeys(scores)
    keys.sort()
    return keys.map { Int($0 & 0xFFFF_FFFF) }
}

/// Indices of the `k` largest values, largest first, ties by lower index (torch `topk`, sorted):
/// the first `k` of `stableOrderDescending(values)`. `selectionRounds` bounds the selection's
/// partitioning rounds before it sorts what remains (lowered by tests to force that path).
func topKIndices(_ values: [Float], k: Int, selectionRounds: Int = 64) -> [Int] {
    guard k > 0 else { return [] }
    if k >= values.count { return stableOrderDescending(values) }
    var keys = descendingScoreKeys(values)
    keys.withUnsafeMutableBufferPointer { selectSmallest($0, count: k, maxRounds: selectionRounds) }
    var top = Array(keys.prefix(k))
    top.sort()
    return top.map { Int($0 & 0xFFFF_FFFF) }
}

/// Moves the `count` smallest of `keys` (all distinct) to its front, in no particular order
/// (Hoare's selection with a median-of-three pivot; input that keeps it partitioning past
/// `maxRounds` rounds has what remains sorted instead, so it never goes quadratic).
private func selectSmallest(_ keys: UnsafeMutableBufferPointer<UInt64>, count: Int, maxRounds: Int) {
    let target = count - 1
    var lo = 0, hi = keys.count - 1
    var rounds = 0
    while lo < hi {
        rounds += 1
        if rounds > maxRounds {
            var rest = UnsafeMutableBufferPointer(rebasing: keys[lo...hi])
            rest.sort()
            return
        }
        let a = keys[lo], b = keys[lo + (hi - lo) / 2], c = keys[hi]
        let pivot = max(min(a, b), min(max(a, b), c))
        var i = lo, j = hi
        while i <= j {
            while keys[i] < pivot { i += 1 }
            while keys[j] > pivot { j -= 1 }
            if i <= j {
                keys.swapAt(i, j)
                i += 1
                j -= 1
            }
        }
        // Now keys[lo...j] <= pivot <= keys[i...hi], and anything between equals the pivot.
        if target <= j {
            hi = j
        } else if target >= i {
            lo = i
        } else {
            return
        }
    }
}

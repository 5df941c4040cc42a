extension Array where Element == Float {
    /// `count` values written by `fill` into uninitialised storage (no zero-fill first). If `fill`
    /// throws, the storage is zeroed, so the array is fully initialised, and the error is rethrown.
    static func filled(count: Int, by fill: (UnsafeMutableBufferPointer<Float>) throws -> Void) throws -> [Float] {
        var failure: Error?
        let values = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            do {
                try fill(buffer)
            } catch {
                failure = error
                buffer.initialize(repeating: 0)
            }
            initialized = count
        }
        if let failure { throw failure }
        return values
    }
}

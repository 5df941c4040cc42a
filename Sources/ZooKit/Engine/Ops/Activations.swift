/// Element-wise ops and the small resampling ops of the heads and FPN, in Swift over unsafe buffers.
public enum Activations {
    /// `max(x, 0)` in place.
    @inlinable
    public static func reluInPlace(_ values: UnsafeMutableBufferPointer<Float>) {
        for i in values.indices where !(values[i] > 0) { values[i] = 0 }
    }

    /// `max(x, 0)`.
    public static func relu(_ x: Tensor) -> Tensor {
        var y = x
        y.withUnsafeMutableBufferPointer { reluInPlace($0) }
        return y
    }
}

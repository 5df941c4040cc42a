import Foundation
internal import CZooDNNL

/// A 2-D transposed convolution (PyTorch `ConvTranspose2d`) with an optional ReLU, computed per
/// image as one sgemm `cols = W^T x` followed by a col2im scatter-add (oneDNN 2.6's deconvolution
/// primitive was ~40x slower than this on the mask head's 2x2/2 layer).
///
/// Input and output are `[N, C, H, W]` float32; output size `(H - 1) * stride - 2 * padding + k`.
public final class ConvTranspose2d {
    /// Weight in PyTorch's layout `[inChannels, outChannels, kh, kw]`.
    public let weight: Tensor
    /// Bias `[outChannels]`.
    public let bias: Tensor
    public let stride: Int
    public let padding: Int
    public let relu: Bool
    public let name: String
    public var inChannels: Int { weight.shape[0] }
    public var outChannels: Int { weight.shape[1] }

    /// A transposed convolution with the given parameters.
    public init(weight: Tensor, bias: Tensor?, stride: Int, padding: Int = 0, relu: Bool = false, name: String = "ConvTranspose2d") {
        precondition(weight.rank == 4, "ConvTranspose2d weight must be [I, O, kh, kw], got \(weight.shape)")
        self.weight = weight
        self.bias = bias ?? Tensor(shape: [weight.shape[1]])
        precondition(self.bias.shape == [weight.shape[1]], "ConvTranspose2d bias must be [\(weight.shape[1])]")
        self.stride = stride
        self.padding = padding
        self.relu = relu
        self.name = name
    }

    /// Loads `prefix.weight` (`[in, out, k, k]`) and `prefix.bias`.
    public convenience init(_ weights: StateDict, _ prefix: String, in inChannels: Int, out outChannels: Int,
                            kernel: Int, stride: Int, padding: Int = 0, relu: Bool = false) throws {
        let w = try weights.tensor(prefix + ".weight", shape: [inChannels, outChannels, kernel, kernel])
        let b = try weights.tensor(prefix + ".bias", shape: [outChannels])
        self.init(weight: w, bias: b, stride: stride, padding: padding, relu: relu, name: prefix)
    }

    private var columns: [Float]?
    private let columnsLock = NSLock()

    /// The weight as a `[inChannels, kh * kw * outChannels]` matrix, column `(ky * kw + kx) * O + o`:
    /// one product with channels-last input rows gives each input pixel's k x k output pixels.
    func columnsWeight() -> [Float] {
        columnsLock.lock()
        defer { columnsLock.unlock() }
        if let columns { return columns }
        let made = PrimitiveSetupClock.shared.measure { makeColumnsWeight() }
        columns = made
        return made
    }

    /// `columnsWeight`'s matrix, made anew.
    private func makeColumnsWeight() -> [Float] {
        let i = inChannels, o = outChannels, kh = weight.shape[2], kw = weight.shape[3], q = kh * kw
        var out = [Float](repeating: 0, count: i * q * o)
        weight.withUnsafeBufferPointer { src in
            for c in 0..<i {
                for oc in 0..<o {
                    for p in 0..<q { out[c * q * o + p * o + oc] = src[(c * o + oc) * q + p] }
                }
            }
        }
        return out
    }

    /// Output shape for an `[N, C, H, W]` input.
    public func outputShape(_ input: [Int]) -> [Int] {
        [input[0], outChannels, (input[2] - 1) * stride - 2 * padding + weight.shape[2],
         (input[3] - 1) * stride - 2 * padding + weight.shape[3]]
    }

    /// Applies the transposed convolution (then ReLU if configured).
    public func forward(_ input: Tensor) throws -> Tensor {
        let (n, c, h, w) = try checkedInput(input.shape)
        return try input.withUnsafeBufferPointer { x in
            try run(images: n, shape: input.shape) { img, body in
                guard let xb = x.baseAddress else {
                    throw EngineError.inputShape(layer: name, expected: "a non-empty input", actual: input.shape)
                }
                try body(xb + img * c * h * w)
            }
        }
    }

    /// The same on `[N, C, H, W]` float32 `nChw16c` input (a conv tower's output), without a
    /// plain copy of the whole batch: each image is copied to plain `[C, H, W]` in a buffer of its
    /// own size, then computed as `forward(_:)` computes it (the same values, bit for bit). Any
    /// other layout is reordered to plain first. For the keypoint head this saves a 40 MB copy of
    /// the whole batch an image, in the same time.
    func forward(_ input: DNNLTensor) throws -> Tensor {
        guard input.isBlocked, let src = input.pointer else { return try forward(try input.tensor(context: "\(name) input")) }
        let (n, c, h, w) = try checkedInput(input.shape)
        let pixels = h * w, lanes = DNNLTensor.lanes, blocks = (c + lanes - 1) / lanes
        var plain = [Float](repeating: 0, count: c * pixels)
        return try plain.withUnsafeMutableBufferPointer { buffer in
            try run(images: n, shape: input.shape) { img, body in
                guard let xb = buffer.baseAddress else {
                    throw EngineError.inputShape(layer: name, expected: "a non-empty input", actual: input.shape)
                }
                // nChw16c: [N, blocks, H, W, 16], the channels past `c` padding. (Splitting this over
                // the cores was slower: the sgemm's threads are still spinning.)
                let image = UnsafePointer(src) + img * blocks * pixels * lanes
                for block in 0..<blocks {
                    let from = image + block * pixels * lanes
                    for lane in 0..<min(lanes, c - block * lanes) {
                        let to = xb + (block * lanes + lane) * pixels
                        for p in 0..<pixels { to[p] = from[p * lanes + lane] }
                    }
                }
                try body(UnsafePointer(xb))
            }
        }
    }

    /// `(N, C, H, W)` of an input of `shape`, checked against this layer.
    private func checkedInput(_ shape: [Int]) throws -> (Int, Int, Int, Int) {
        guard shape.count == 4, shape[1] == inChannels else {
            throw EngineError.inputShape(layer: name, expected: "[N, \(inChannels), H, W]", actual: shape)
        }
        let outShape = outputShape(shape)
        guard outShape[2] > 0, outShape[3] > 0 else {
            throw EngineError.inputShape(layer: name, expected: "an input giving a non-empty output", actual: shape)
        }
        return (shape[0], shape[1], shape[2], shape[3])
    }

    /// The output for `images` images of input `shape`: `image(i, body)` calls `body` with image
    /// `i`'s plain `[C, H, W]` values.
    private func run(images n: Int, shape: [Int],
                     image: (Int, (UnsafePointer<Float>) throws -> Void) throws -> Void) throws -> Tensor {
        let outShape = outputShape(shape)
        let h = shape[2], w = shape[3]
        let o = outChannels, kh = weight.shape[2], kw = weight.shape[3]
        let oh = outShape[2], ow = outShape[3]
        let rows = o * kh * kw, pixels = h * w
        var out = [Float](repeating: 0, count: outShape.reduce(1, *))
        guard out.count > 0, inChannels > 0 else { return Tensor(shape: outShape, scalars: out) }
        var cols = [Float](repeating: 0, count: rows * pixels)
        let (stride, padding) = (self.stride, self.padding)
        let biasValues = bias.scalars
        try weight.withUnsafeBufferPointer { wt in
            try cols.withUnsafeMutableBufferPointer { c in
                try out.withUnsafeMutableBufferPointer { y in
                    guard let cb = c.baseAddress, let yb = y.baseAddress else { return }
                    for img in 0..<n {
                        try image(img) { xb in
                            // cols[(o, ky, kx), (iy, ix)] = sum_i W[i, (o, ky, kx)] * x[img, i, (iy, ix)]
                            let status = dnnl_sgemm(CChar(UInt8(ascii: "T")), CChar(UInt8(ascii: "N")),
                                                    dnnl_dim_t(rows), dnnl_dim_t(pixels), dnnl_dim_t(inChannels), 1.0,
                                                    wt.baseAddress, dnnl_dim_t(rows),
                                                    xb, dnnl_dim_t(pixels), 0.0,
                                                    cb, dnnl_dim_t(pixels))
                            try dnnlCheck(status, "dnnl_sgemm", "ConvTranspose2d \(name) on input \(shape)")
                        }
                        let yimg = yb + img * o * oh * ow
                        for r in 0..<rows {
                            let oc = r / (kh * kw), ky = (r / kw) % kh, kx = r % kw
                            let plane = yimg + oc * oh * ow
                            let src = cb + r * pixels
                            for iy in 0..<h {
                                let oy = iy * stride - padding + ky
                                guard oy >= 0, oy < oh else { continue }
                                let dstRow = plane + oy * ow
                                let srcRow = src + iy * w
                                for ix in 0..<w {
                                    let ox = ix * stride - padding + kx
                                    if ox >= 0, ox < ow { dstRow[ox] += srcRow[ix] }
                                }
                            }
                        }
                    }
                    let plane = oh * ow
                    for p in 0..<(n * o) {
                        let b = biasValues[p % o]
                        let dst = yb + p * plane
                        if relu {
                            for i in 0..<plane { let v = dst[i] + b; dst[i] = v > 0 ? v : 0 }
                        } else {
                            for i in 0..<plane { dst[i] += b }
                        }
                    }
                }
            }
        }
        return Tensor(shape: outShape, scalars: out)
    }
}

import Foundation
internal import CZooDNNL

extension MaskRCNNConvUpsampleHead {
    /// `[N, C, 14, 14]` pooled features and each detection's class -> `[N, 28, 28]` logits of that
    /// class only, which is all `mask_rcnn_inference` keeps (channel 0 when class-agnostic).
    ///
    /// Equal to `forward` followed by picking each detection's channel, up to float summation
    /// order, at a fraction of the cost: the 2x2/2 transposed convolution is one matrix product
    /// over every pixel of every detection (each input pixel feeds its own 2x2 output pixels), and
    /// the 1x1 predictor computes one class per detection instead of all of them. A transposed
    /// convolution whose kernels overlap takes the general path.
    public func forwardPredictedClass(_ pooled: Tensor, classes: [Int]) throws -> Tensor {
        let n = pooled.shape.first ?? 0
        guard classes.count == n else {
            throw EngineError.inputShape(layer: "mask_head", expected: "one class per detection (\(n))", actual: [classes.count])
        }
        let k = deconv.weight.shape[2]
        guard deconv.stride == k, deconv.weight.shape[3] == k, deconv.padding == 0, deconv.relu, n > 0 else {
            return GeneralizedRCNN.predictedClassChannel(try forward(pooled), classes: classes)
        }
        let features = try ConvTower.forwardKeepingLayout(convs, pooled, name: "mask_head", layoutRows: detectionsPerImage)
            .channelsLastTensor(context: "mask_head features")                       // [N, H, W, C]
        let (h, w, c) = (features.shape[1], features.shape[2], features.shape[3])
        let o = deconv.outChannels, q = k * k, oh = h * k, ow = w * k
        let columns = deconv.columnsWeight()                                         // [C, q * O]
        let numClasses = predictor.outChannels
        var out = Tensor(shape: [n, oh, ow])
        // Detections per matrix product: large enough for an efficient sgemm, small enough that the
        // product (chunk * H * W * q * O floats) stays a few megabytes.
        let chunk = max(1, min(n, (8 << 20) / max(1, h * w * q * o * 4)))
        var product = [Float](repeating: 0, count: chunk * h * w * q * o)
        try features.withUnsafeBufferPointer { xf in
            try columns.withUnsafeBufferPointer { wc in
                try product.withUnsafeMutableBufferPointer { prod in
                    try out.withUnsafeMutableBufferPointer { dst in
                        try deconv.bias.withUnsafeBufferPointer { bd in
                            try predictor.foldedWeight.withUnsafeBufferPointer { wp in
                                try predictor.bias.withUnsafeBufferPointer { bp in
                                    guard let xb = xf.baseAddress, let wb = wc.baseAddress, let pb = prod.baseAddress,
                                          let db = dst.baseAddress, let bdb = bd.baseAddress, let wpb = wp.baseAddress,
                                          let bpb = bp.baseAddress else { return }
                                    var start = 0
                                    while start < n {
                                        let count = min(chunk, n - start)
                                        let rows = count * h * w
                                        // product[(det, y, x), (q, o)] = sum_c features[(det, y, x), c] * W[c, o, ky, kx]
                                        try dnnlCheck(dnnl_sgemm(CChar(UInt8(ascii: "N")), CChar(UInt8(ascii: "N")),
                                                                 dnnl_dim_t(rows), dnnl_dim_t(q * o), dnnl_dim_t(c), 1.0,
                                                                 xb + start * h * w * c, dnnl_dim_t(c), wb, dnnl_dim_t(q * o), 0.0,
                                                                 pb, dnnl_dim_t(q * o)),
                                                      "dnnl_sgemm", "mask_head deconv on \(count) detections")
                                        let first = start
                                        DispatchQueue.concurrentPerform(iterations: count) { i in
                                            let det = first + i
                                            let cls = numClasses == 1 ? 0 : min(max(classes[det], 0), numClasses - 1)
                                            Self.predictOne(product: pb + i * h * w * q * o, h: h, w: w, k: k, o: o,
                                                            deconvBias: bdb, predictorWeight: wpb + cls * o,
                                                            predictorBias: bpb[cls], into: db + det * oh * ow)
                                        }
                                        start += count
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// One detection's logits: `out[y * k + ky, x * k + kx] = b + sum_o wp[o] * relu(product[(y, x), (ky * k + kx) * O + o] + bd[o])`.
    static func predictOne(product: UnsafePointer<Float>, h: Int, w: Int, k: Int, o: Int,
                           deconvBias: UnsafePointer<Float>, predictorWeight: UnsafePointer<Float>,
                           predictorBias: Float, into out: UnsafeMutablePointer<Float>) {
        let ow = w * k, lanes = 16, vectorEnd = o / lanes * lanes
        let zero = SIMD16<Float>(repeating: 0)
        for y in 0..<h {
            for x in 0..<w {
                let pixel = product + (y * w + x) * k * k * o
                for ky in 0..<k {
                    for kx in 0..<k {
                        let row = pixel + (ky * k + kx) * o
                        var acc = SIMD16<Float>(repeating: 0)
                        var j = 0
                        while j < vectorEnd {
                            let v = UnsafeRawPointer(row + j).loadUnaligned(as: SIMD16<Float>.self)
                                + UnsafeRawPointer(deconvBias + j).loadUnaligned(as: SIMD16<Float>.self)
                            let r = v.replacing(with: zero, where: v .< zero)
                            acc += r * UnsafeRawPointer(predictorWeight + j).loadUnaligned(as: SIMD16<Float>.self)
                            j += lanes
                        }
                        var sum = acc.sum()
                        while j < o {
                            sum += max(row[j] + deconvBias[j], 0) * predictorWeight[j]
                            j += 1
                        }
                        out[(y * k + ky) * ow + x * k + kx] = sum + predictorBias
                    }
                }
            }
        }
    }
}

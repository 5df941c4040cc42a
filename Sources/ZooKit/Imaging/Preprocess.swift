/// The network input made from a decoded image, as detectron2's `DefaultPredictor.__call__` and
/// `GeneralizedRCNN.preprocess_image` make it: resize (`ResizeShortestEdge`), float32 CHW,
/// `(x - pixel_mean) / pixel_std`, then zero padding at the bottom and right to a multiple of
/// `sizeDivisibility` (`ImageList.from_tensors`; the pad is 0 after normalisation, i.e. the mean
/// colour).
///
/// - Parameters:
///   - image: the decoded image, channels in the model's `INPUT.FORMAT` order.
///   - minSize: `INPUT.MIN_SIZE_TEST` (0: no resize).
///   - maxSize: `INPUT.MAX_SIZE_TEST`.
///   - pixelMean: `MODEL.PIXEL_MEAN`, 3 values in the image's channel order.
///   - pixelStd: `MODEL.PIXEL_STD`, 3 values in the image's channel order.
///   - sizeDivisibility: the backbone's `size_divisibility` (32 for FPN; 0 or 1: no padding).
/// - Returns: `tensor` `[1, 3, Hp, Wp]` float32, and the resized, unpadded size (boxes are clipped
///   to it and scaled back from it).
public func preprocess(image: Image8, minSize: Int, maxSize: Int, pixelMean: [Float], pixelStd: [Float],
                       sizeDivisibility: Int) -> (tensor: Tensor, resizedHeight: Int, resizedWidth: Int) {
    precondition(pixelMean.count == 3 && pixelStd.count == 3,
                 "preprocess needs 3 pixel means and stds, got \(pixelMean.count) and \(pixelStd.count)")
    let resized = ResizeShortestEdge(shortEdgeLength: minSize, maxSize: maxSize).apply(to: image)
    let h = resized.height, w = resized.width
    func padded(_ n: Int) -> Int {
        sizeDivisibility > 1 ? (n + sizeDivisibility - 1) / sizeDivisibility * sizeDivisibility : n
    }
    let hp = padded(h), wp = padded(w)
    var tensor = Tensor(shape: [1, 3, hp, wp], repeating: 0)
    resized.pixels.withUnsafeBufferPointer { src in
        tensor.withUnsafeMutableBufferPointer { dst in
            for ch in 0..<3 {
                let mean = pixelMean[ch], std = pixelStd[ch]
                let plane = ch * hp * wp
                for y in 0..<h {
                    let row = plane + y * wp
                    var p = y * w * 3 + ch
                    for x in 0..<w {
                        // Same float32 arithmetic as torch: subtract, then divide.
                        dst[row + x] = (Float(src[p]) - mean) / std
                        p += 3
                    }
                }
            }
        }
    }
    return (tensor, h, w)
}

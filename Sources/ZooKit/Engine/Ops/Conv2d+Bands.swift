import Foundation
internal import CZooDNNL

extension Conv2d {
    /// Inputs of at least this many values run in `rowBandCount` bands of rows: only the FPN's
    /// and the RPN's 3x3 convolutions on P2 (256 channels of 200x272 for an 800x1067 image).
    static let rowBandMinimumValues = 8_000_000
    /// Bands per large input (at most: short images may need fewer). oneDNN's Winograd
    /// convolution transforms the whole input and output at once, into a scratchpad over twice
    /// their size: 261 MB for a 256-channel 200x272 map, the largest memory a new process's first
    /// image touches in Faster and Mask R-CNN. Four bands need a quarter of it.
    static let rowBandCount = 4

    /// The most bands of rows to run `input` in (`forwardInBands`), or nil to run it whole: bands
    /// for a single float32 `nChw16c` image of at least `rowBandMinimumValues` values, in a 3x3
    /// stride-1 convolution padded by 1 that adds no residual, with channel counts that are
    /// multiples of 16, that oneDNN runs with Winograd (without it, bands would only add copies).
    func rowBands(for input: DNNLTensor) -> Int? {
        guard asksForWinograd, !addsResidual, groups == 1, stride == 1, padding == 1,
              weight.shape[2] == 3, weight.shape[3] == 3, input.shape.count == 4, input.shape[0] == 1,
              inChannels % DNNLTensor.lanes == 0, outChannels % DNNLTensor.lanes == 0,
              inChannels * input.shape[2] * input.shape[3] >= Self.rowBandMinimumValues,
              input.shape[2] >= 8 * Self.rowBandCount,
              DNNLTensor.isBlocked(input.desc, shape: input.shape, type: dnnl_f32),
              (try? winogradWeightsDesc(forBlocked: input.shape)) != nil else { return nil }
        return Self.rowBandCount
    }

    /// The convolution of a single `nChw16c` float32 image, run on `bands` bands of rows in turn:
    /// each band's rows, with the row above and below it, are copied out, convolved with zero
    /// padding only where the image ends (`RowPadding`), and the output rows copied into place.
    /// Bands start at multiples of 4 rows, where F(4x4, 3x3) tiles start in the whole image.
    /// Nil when a band's convolution cannot write `nChw16c` (the caller then runs the image whole).
    func forwardInBands(_ input: DNNLTensor, bands: Int) throws -> DNNLTensor? {
        let ctx = try DNNLContext.get()
        let h = input.shape[2], w = input.shape[3], lane = DNNLTensor.lanes
        let rowsPerBand = ((h + bands - 1) / bands + 3) / 4 * 4
        let context = "Conv2d \(name) on \(input.shape) in bands"
        let output = try DNNLTensor(blockedShape: [1, outChannels, h, w], context: context)
        guard let source = input.pointer, let target = output.pointer else {
            throw EngineError.dnnl(call: "dnnl_memory_get_data_handle", status: -1, context: context)
        }
        var complete = true
        try LayerProfile.shared.measure("\(name) \(input.shape) in \(bands) bands") {
            var first = 0
            while first < h {
                let end = min(h, first + rowsPerBand)
                let top = max(0, first - 1), bottom = min(h, end + 1)
                let band = try DNNLTensor(blockedShape: [1, inChannels, bottom - top, w], context: context)
                guard let bandIn = band.pointer else {
                    throw EngineError.dnnl(call: "dnnl_memory_get_data_handle", status: -1, context: context)
                }
                Self.copyRows(blocks: inChannels / lane, count: (bottom - top) * w * lane) { block in
                    (bandIn + block * (bottom - top) * w * lane, source + (block * h + top) * w * lane)
                }
                let plan = try blockedPlan(for: band, ctx, rowPadding: RowPadding(top: first == 0 ? 1 : 0, bottom: end == h ? 1 : 0))
                guard plan.outputShape == [1, outChannels, end - first, w],
                      DNNLTensor.isBlocked(plan.outputDesc, shape: plan.outputShape) else {
                    complete = false
                    return
                }
                let bandOutput = try DNNLTensor(shape: plan.outputShape, desc: plan.outputDesc, context: context)
                try plan.run(self, band, bandOutput, ctx: ctx)
                guard let bandOut = bandOutput.pointer else {
                    throw EngineError.dnnl(call: "dnnl_memory_get_data_handle", status: -1, context: context)
                }
                Self.copyRows(blocks: outChannels / lane, count: (end - first) * w * lane) { block in
                    (target + (block * h + first) * w * lane, bandOut + block * (end - first) * w * lane)
                }
                first = end
            }
        }
        return complete ? output : nil
    }

    /// Copies `count` floats for each of `blocks` channel blocks, from and to where `places` says,
    /// the blocks split over the cores.
    private static func copyRows(blocks: Int, count: Int,
                                 _ places: (Int) -> (to: UnsafeMutablePointer<Float>, from: UnsafeMutablePointer<Float>)) {
        let workers = min(blocks, max(1, ProcessInfo.processInfo.activeProcessorCount))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var block = worker
            while block < blocks {
                let (to, from) = places(block)
                to.update(from: from, count: count)
                block += workers
            }
        }
    }
}

internal import CZooDNNL

extension Conv2d {
    /// The most bytes this layer's Winograd weights take when made at each run
    /// (`winogradWeightsPerRun`): F(4x4, 3x3) tiles of 6x6 for every input and output channel;
    /// 0 when it keeps its weights or runs no Winograd.
    var perRunWinogradBytes: Int {
        guard winogradWeightsPerRun, asksForWinograd, groups == 1, weight.shape[2] == 3, weight.shape[3] == 3,
              stride == 1 else { return 0 }
        return 36 * inChannels * outChannels * MemoryLayout<Float>.size
    }

    /// The Winograd weights layout that this layer's plan for a float32 `nChw16c` input of
    /// `inputShape` reads; nil when that plan does not run Winograd (the direct algorithm,
    /// bfloat16, or no Winograd implementation for the shape). Asks oneDNN for a primitive
    /// descriptor only (no primitive, no weights), once per shape, outside `lock` (two threads
    /// asking at once may both ask oneDNN; they get the same answer).
    ///
    /// oneDNN picks the layout's blocking from the whole problem, the batch size included: the
    /// keypoint head's 512-channel convolutions on 14x14 get one layout at 100 rows, another at
    /// 37, and F(2x2, 3x3) weights at 1 (`ConvTower.rows(for:)` pads the batch to avoid them).
    func winogradWeightsDesc(forBlocked inputShape: [Int]) throws -> dnnl_memory_desc_t? {
        guard asksForWinograd, groups == 1 else { return nil }
        lock.lock()
        let known = winogradLayouts[inputShape]
        lock.unlock()
        if let known { return known }
        let context = "Conv2d \(name) Winograd layout for \(inputShape)"
        let input = try DNNL.desc(inputShape, DNNLTensor.blockedTag, context: context)
        var layout: dnnl_memory_desc_t?
        do {
            let pd = try DNNLBlockedConvPlan.primitiveDesc(self, input: input, outputShape: outputShape(inputShape),
                                                           algorithm: .winograd, blockedOutput: true, ctx: DNNLContext.get(),
                                                           context: context)
            if let weights = pd.memoryDesc(dnnl_query_weights_md), weights.format_kind == dnnl_format_kind_wino {
                layout = weights
            }
        } catch EngineError.dnnl(let call, _, _) where call == "dnnl_primitive_desc_create" {
            layout = nil
        }
        // Heads see a new row count per image: keep the answers bounded (a few kilobytes each;
        // the heads ask for at most DETECTIONS_PER_IMAGE + 17 shapes).
        lock.lock()
        if winogradLayouts.count >= 4096 { winogradLayouts.removeAll() }
        winogradLayouts[inputShape] = layout
        lock.unlock()
        return layout
    }
}

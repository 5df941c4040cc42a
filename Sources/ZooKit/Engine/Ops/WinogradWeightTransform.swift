import Foundation
internal import CZooDNNL

/// The Winograd weight transforms into oneDNN's layouts for its f32 kernels, `wino_wei_OBaaIBOIio`
/// (F(4x4, 3x3), `jit_wino_4x3`) and `wino_wei_aaOio` (F(2x2, 3x3), `jit_wino_2x3`, chosen for
/// small inputs), done here because oneDNN's own reorder into them is slow (36 ms for a
/// 256-channel layer, 150 ms for a 512-channel one, on two cores).
///
/// Each 3x3 filter `g` becomes the tile `G g Gᵀ` with oneDNN's `G` (that of its `wino_reorder_t`;
/// scaled for 4x3), summed in the same order, so the result equals oneDNN's reorder to the last
/// bit or within a rounding of it. Sixteen output channels are transformed at once, and the
/// output-channel groups are split over the cores.
enum WinogradWeightTransform {
    /// oneDNN's `G` for F(4x4, 3x3): six rows of three.
    static let g4x3: [Float] = [
        1.13777777777778, 0, 0,
        -0.688403361344538, -0.430252100840336, -0.26890756302521,
        -0.688403361344538, 0.430252100840336, -0.26890756302521,
        0.119514472455649, 0.179271708683473, 0.26890756302521,
        0.119514472455649, -0.179271708683473, 0.26890756302521,
        0, 0, 1,
    ]
    /// oneDNN's `G` for F(2x2, 3x3): four rows of three.
    static let g2x3: [Float] = [
        1, 0, 0,
        0.5, 0.5, 0.5,
        0.5, -0.5, 0.5,
        0, 0, 1,
    ]

    /// A Winograd weight layout this transform writes (nil for any other: then oneDNN's reorder
    /// is used).
    struct Layout: Equatable {
        enum Format { case obaaIBOIio, aaOio }
        var format: Format
        /// Tile size: 6 for F(4x4, 3x3), 4 for F(2x2, 3x3).
        var alpha: Int
        var ic: Int, oc: Int
        var icBlock: Int, ocBlock: Int, ic2Block: Int, oc2Block: Int

        init?(_ desc: dnnl_memory_desc_t, weightShape: [Int]) {
            guard desc.format_kind == dnnl_format_kind_wino, weightShape.count == 4,
                  weightShape[2] == 3, weightShape[3] == 3 else { return nil }
            let w = desc.format_desc.wino_desc
            switch w.wino_format {
            case dnnl_wino_wei_OBaaIBOIio where w.alpha == 6: format = .obaaIBOIio
            case dnnl_wino_wei_aaOio where w.alpha == 4: format = .aaOio
            default: return nil
            }
            guard w.r == 3, Int(w.oc) == weightShape[0], Int(w.ic) == weightShape[1],
                  w.oc_block % 16 == 0, w.ic_block > 0, w.ic2_block > 0, w.oc2_block > 0,
                  w.oc % (w.oc_block * w.oc2_block) == 0, w.ic % (w.ic_block * w.ic2_block) == 0,
                  w.size == Int(w.alpha * w.alpha * w.ic * w.oc) * MemoryLayout<Float>.size else { return nil }
            alpha = Int(w.alpha)
            ic = Int(w.ic); oc = Int(w.oc)
            icBlock = Int(w.ic_block); ocBlock = Int(w.oc_block)
            ic2Block = Int(w.ic2_block); oc2Block = Int(w.oc2_block)
        }

        /// Bytes of the transformed weights.
        var size: Int { alpha * alpha * ic * oc * MemoryLayout<Float>.size }

        /// Offset in floats of tile element `(uh, uw)` for input channel `icp` and output channel
        /// `ocp` (the first of 16 contiguous ones).
        @inline(__always)
        func offset(uh: Int, uw: Int, icp: Int, ocp: Int) -> Int {
            let ob = ocp / ocBlock, o = ocp % ocBlock
            switch format {
            case .aaOio:
                return ((uh * alpha + uw) * (oc / ocBlock) + ob) * ic * ocBlock + icp * ocBlock + o
            case .obaaIBOIio:
                let icChunk = ic2Block * icBlock
                let occ = ob / oc2Block, ob2 = ob % oc2Block
                let icc = icp / icChunk, ib = (icp % icChunk) / icBlock, i = icp % icBlock
                var off = (occ * alpha + uh) * alpha + uw
                off = (off * (ic / icChunk) + icc) * oc2Block + ob2
                return ((off * ic2Block + ib) * icBlock + i) * ocBlock + o
            }
        }
    }

    /// Writes `weight` (`[oc, ic, 3, 3]`), each output channel's filter multiplied by its
    /// factor in `scale` when given, transformed into `layout` at `output` (`layout.size` bytes).
    static func transform(_ weight: Tensor, scale: [Float]? = nil, layout: Layout, into output: UnsafeMutableRawPointer) {
        let groups = layout.oc / 16
        let g = layout.alpha == 6 ? g4x3 : g2x3
        // A short scale would leave the output unwritten, and a cache file would keep it.
        precondition(scale == nil || scale?.count == layout.oc, "Winograd transform: one scale per output channel")
        weight.withUnsafeBufferPointer { wb in
            guard let w = wb.baseAddress else { return }
            let out = output.assumingMemoryBound(to: Float.self)
            let workers = min(groups, max(1, ProcessInfo.processInfo.activeProcessorCount))
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                // One tile buffer per worker, reused for its groups (fresh memory costs page faults).
                var tiles = [SIMD16<Float>](repeating: .zero, count: layout.alpha * layout.alpha * layout.ic)
                var group = worker
                while group < groups {
                    transformGroup(w, out, ocp: group * 16, scale: scale, layout: layout, g: g, tiles: &tiles)
                    group += workers
                }
            }
        }
    }

    /// Output channels `ocp..<ocp+16`, every input channel: the tiles are made in a buffer laid
    /// out `[uh][uw][ic][16]`, then copied to the output in runs of whole input-channel blocks
    /// (writing each 64-byte result straight to its scattered place in a layout of tens of
    /// megabytes was three times slower).
    private static func transformGroup(_ w: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, ocp: Int, scale: [Float]?,
                                       layout: Layout, g: [Float], tiles: inout [SIMD16<Float>]) {
        let ic = layout.ic, alpha = layout.alpha, filter = ic * 9
        // The 16 channels' factors, multiplied in as the filter is read: the same float32 products
        // as folding them into the weight first.
        var factors = SIMD16<Float>(repeating: 1)
        if let scale { for lane in 0..<16 { factors[lane] = scale[ocp + lane] } }
        let scaled = scale != nil
        var x = [SIMD16<Float>](repeating: .zero, count: 9)
        var rows = [SIMD16<Float>](repeating: .zero, count: 3 * alpha)
        x.withUnsafeMutableBufferPointer { x in
            rows.withUnsafeMutableBufferPointer { t in
                tiles.withUnsafeMutableBufferPointer { tiles in
                    for icp in 0..<ic {
                        let base = w + ocp * filter + icp * 9
                        for k in 0..<9 {
                            var v = SIMD16<Float>()
                            for lane in 0..<16 { v[lane] = base[lane * filter + k] }
                            x[k] = scaled ? v * factors : v
                        }
                        // t[ih][j] = sum over iw of x[ih][iw] * G[j][iw] (oneDNN's order, no fused multiply-add).
                        for ih in 0..<3 {
                            for j in 0..<alpha {
                                let a = x[ih * 3] * g[j * 3], b = x[ih * 3 + 1] * g[j * 3 + 1], c = x[ih * 3 + 2] * g[j * 3 + 2]
                                t[ih * alpha + j] = (a + b) + c
                            }
                        }
                        // tile[i][j] = sum over k of G[i][k] * t[k][j].
                        for i in 0..<alpha {
                            for j in 0..<alpha {
                                let a = t[j] * g[i * 3], b = t[alpha + j] * g[i * 3 + 1], c = t[2 * alpha + j] * g[i * 3 + 2]
                                tiles[(i * alpha + j) * ic + icp] = (a + b) + c
                            }
                        }
                    }
                    // Input channels whose 16-float results are adjacent in the output: an input-channel
                    // block when the output-channel block is these 16 channels, else one.
                    guard let tb = tiles.baseAddress else { return }
                    let run = layout.ocBlock == 16 ? layout.icBlock : 1
                    for uv in 0..<(alpha * alpha) {
                        var icp = 0
                        while icp < ic {
                            let off = layout.offset(uh: uv / alpha, uw: uv % alpha, icp: icp, ocp: ocp)
                            UnsafeMutableRawPointer(out + off).copyMemory(from: tb + uv * ic + icp,
                                                                          byteCount: run * MemoryLayout<SIMD16<Float>>.size)
                            icp += run
                        }
                    }
                }
            }
        }
    }
}

extension Conv2d {
    /// This layer's weights in the layout its plan for `input` reads, made once by
    /// `WinogradWeightTransform` and once by oneDNN's reorder, with the layout's tile size; nil
    /// when that layout is not one `WinogradWeightTransform` writes. For tests.
    func winogradWeightsBothWays(for input: DNNLTensor) throws -> (alpha: Int, transform: [Float], reorder: [Float])? {
        let ctx = try DNNLContext.get()
        let desc = try blockedPlan(for: input, ctx).weightsDesc
        guard let layout = WinogradWeightTransform.Layout(desc, weightShape: weight.shape) else { return nil }
        func floats(_ m: DNNLMemory) -> [Float] {
            guard let data = dnnlData(m) else { return [] }
            let count = m.byteCount / MemoryLayout<Float>.size
            return Array(UnsafeBufferPointer(start: data.assumingMemoryBound(to: Float.self), count: count))
        }
        let reordered = try DNNLMemory(desc, ctx, pointer: nil, context: "test")
        guard let data = dnnlData(reordered) else { return nil }
        try oneDNNReorderWeights(into: desc, at: data, ctx: ctx)
        return (layout.alpha, floats(try reorderWeights(into: desc, ctx: ctx)), floats(reordered))
    }
}

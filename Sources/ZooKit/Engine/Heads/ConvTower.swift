internal import CZooDNNL

/// A chain of convolutions run in oneDNN's blocked layout: one reorder in, one out.
///
/// The mask and keypoint heads run their towers on every detection of an image at once, so the
/// batch size changes from image to image, and oneDNN picks the Winograd weights' layout from the
/// batch size too: the keypoint head's 512-channel convolutions get one layout at 100 rows,
/// another at 37 to 41, a third at 87, F(2x2, 3x3) weights at 1. Some run slowly (on an AMD
/// EPYC, 61 rows took 1.26 s in oneDNN's layout for 61 and 0.82 s in the one for 100), each
/// needs primitives of its own, and for convolutions that keep their Winograd weights (not the
/// heads', which make them at each run: `Conv2d.winogradWeightsPerRun`) each new layout means the
/// weights transformed again and held beside the others.
///
/// Given `layoutRows` (the most rows a call sees), a tower pads its batch with zero rows to the
/// nearest size at which every convolution reads the layout it reads at `layoutRows` rows, or,
/// for batches under `smallBatchRows`, the one it reads at 2 rows (`rows(for:)`), and drops the
/// padded rows' outputs. Rows do not mix in a convolution, so the real rows' values are those of
/// any batch with the same layouts. That leaves at most two layouts per convolution wherever a
/// size within `maxPaddingRows` matches, which on the AMD EPYC here is every size from 1 to 100
/// (`Benchmarks/probes/winograd_layouts.c`); a size with no match runs as it is, in a layout of
/// its own.
enum ConvTower {
    /// Leaves each output but the last in bfloat16 where the next conv computes in it.
    static func chainOutputTypes(_ convs: [Conv2d]) {
        for (conv, next) in zip(convs, convs.dropFirst()) { conv.bfloat16Output = next.computesInBFloat16 }
    }

    /// The most zero rows a batch is padded with (the layouts repeat within a few rows).
    static let maxPaddingRows = 16

    /// Batches smaller than this may also use the layout oneDNN picks for 2 rows: on an AMD EPYC
    /// the 100-row layout took 0.17 s for anything up to 12 rows of the keypoint head, the 2-row
    /// one 0.03 s for 2 rows and 0.16 s for 12; from 16 rows on, the 100-row layout was faster.
    static let smallBatchRows = 16

    /// `convs` applied in order to `[N, C, H, W]` input (unchanged when `convs` is empty), the
    /// batch padded for the Winograd layouts of `layoutRows` rows when given.
    static func forward(_ convs: [Conv2d], _ input: Tensor, name: String, layoutRows: Int? = nil) throws -> Tensor {
        guard !convs.isEmpty else { return input }
        return try forwardKeepingLayout(convs, input, name: name, layoutRows: layoutRows).tensor(context: "\(name) output")
    }

    /// The same, the result left in oneDNN memory (`nChw16c`; plain when `convs` is empty or the
    /// batch has no rows).
    static func forwardKeepingLayout(_ convs: [Conv2d], _ input: Tensor, name: String, layoutRows: Int? = nil) throws -> DNNLTensor {
        guard !convs.isEmpty else { return try DNNLTensor(plain: input, context: "\(name) input") }
        let n = input.shape.first ?? 0
        if n == 0, input.rank == 4, input.shape[1] == convs[0].inChannels {
            // No rows (no detections): the output's shape, with nothing for oneDNN to compute
            // (other input goes on to the first conv, which says what is wrong with it).
            return try DNNLTensor(plain: Tensor(shape: convs.reduce(input.shape) { $1.outputShape($0) }), context: "\(name) output")
        }
        // The layouts are advice: a failed query (a shape the convs reject, reported by their
        // forward below) runs the batch as it is.
        let rows = layoutRows.flatMap { try? self.rows(for: n, convs, shape: input.shape, layoutRows: $0) } ?? n
        var x = try DNNLTensor(plain: input, rows: rows, context: "\(name) input")
        x = try x.blocked(context: "\(name) input")
        WinogradWeightScratch.shared.reserve(convs.map(\.perRunWinogradBytes).max() ?? 0)
        for conv in convs { x = try conv.forward(x) }
        return rows == n ? x : try x.firstRows(n, context: "\(name) output")
    }

    /// The batch size to run `n` rows of `shape` (`[N, C, H, W]`) at: the smallest from `n` to
    /// `n + maxPaddingRows` at which every conv's Winograd weights layout is the one it reads at
    /// `layoutRows` rows (or, when `n < smallBatchRows`, at 2 rows); `n` when there is none, or
    /// when no conv runs Winograd. Each conv's input is taken to be float32 `nChw16c`, as the
    /// tower passes it on (a conv that could not write `nChw16c` would hand the next one another
    /// layout, and its prediction could miss: slower, not wrong).
    static func rows(for n: Int, _ convs: [Conv2d], shape: [Int], layoutRows: Int) throws -> Int {
        guard n > 0, n != layoutRows, layoutRows > 0, shape.count == 4,
              convs.contains(where: \.asksForWinograd) else { return n }
        /// Each conv's layout at `rows` rows, in order.
        func layouts(_ rows: Int) throws -> [dnnl_memory_desc_t?] {
            var s = [rows] + shape.dropFirst()
            return try convs.map { conv in
                defer { s = conv.outputShape(s) }
                return try conv.winogradWeightsDesc(forBlocked: s)
            }
        }
        let large = try layouts(layoutRows)
        guard large.contains(where: { $0 != nil }) else { return n }
        let small = n < smallBatchRows ? try layouts(2) : large
        for m in n...(n + maxPaddingRows) {
            let got = try layouts(m)
            if got.indices.allSatisfy({ DNNL.equal(got[$0], large[$0]) || DNNL.equal(got[$0], small[$0]) }) { return m }
        }
        return n
    }
}

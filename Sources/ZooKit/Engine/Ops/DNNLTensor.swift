import Foundation
internal import CZooDNNL

/// An `[N, C, H, W]` activation held in a oneDNN memory, usually in the blocked layout
/// `nChw16c` (`[N, ceil(C/16), H, W, 16]`, the padded channels zero) that oneDNN's convolutions
/// read and write, so consecutive layers pass it on without reordering. Values are float32, or
/// bfloat16 between convolutions that compute in `ConvolutionPrecision.bfloat16`.
///
/// Convert from and to `Tensor` only where Swift code reads the values (the image going in,
/// the FPN levels coming out).
final class DNNLTensor {
    /// Logical `[N, C, H, W]`.
    let shape: [Int]
    let memory: DNNLMemory

    /// The layout the backbone keeps between layers.
    static let blockedTag = dnnl_nChw16c
    static let lanes = 16

    /// Uninitialised storage for `shape` in the layout `desc` (zeroed when it has padding).
    init(shape: [Int], desc: dnnl_memory_desc_t, context: @autoclosure () -> String) throws {
        self.shape = shape
        memory = try DNNLMemory(desc, try DNNLContext.get(), pointer: nil, context: context())
        // A layout with padding (`nChw16c` of a channel count not a multiple of 16, in any data type).
        if memory.byteCount > shape.reduce(1, *) * dnnl_data_type_size(desc.data_type), let data = dnnlData(memory) {
            memset(data, 0, memory.byteCount)
        }
    }

    /// Storage for `shape` in `nChw16c`.
    convenience init(blockedShape shape: [Int], context: @autoclosure () -> String) throws {
        try self.init(shape: shape, desc: DNNL.desc(shape, DNNLTensor.blockedTag, context: context()), context: context())
    }

    /// A plain `nchw` copy of `tensor`, followed by zero rows up to `rows` rows when given
    /// (more than `tensor` has).
    convenience init(plain tensor: Tensor, rows: Int? = nil, context: @autoclosure () -> String) throws {
        let ctx = context()
        var shape = tensor.shape
        if let rows, !shape.isEmpty { shape[0] = max(rows, shape[0]) }
        try self.init(shape: shape, desc: DNNL.desc(shape, dnnl_nchw, context: ctx), context: ctx)
        tensor.withUnsafeBufferPointer { src in
            guard let base = src.baseAddress, let dst = dnnlData(memory) else { return }
            let bytes = src.count * MemoryLayout<Float>.stride
            dst.copyMemory(from: base, byteCount: bytes)
            if memory.byteCount > bytes { memset(dst + bytes, 0, memory.byteCount - bytes) }
        }
    }

    /// Shares storage with `memory` (kept alive by this tensor).
    private init(shape: [Int], sharing memory: DNNLMemory) {
        self.shape = shape
        self.memory = memory
    }

    /// The first `n` rows of this `[N, C, H, W]` tensor: a view of its storage (kept alive by the
    /// view) when the layout is `nChw16c`, `nchw` or `nhwc`, whose rows are whole and in order;
    /// for any other layout, a view of an `nChw16c` copy.
    func firstRows(_ n: Int, context: @autoclosure () -> String) throws -> DNNLTensor {
        guard shape.count == 4, (0...shape[0]).contains(n) else {
            throw EngineError.inputShape(layer: context(), expected: "at least \(n) rows of [N, C, H, W]", actual: shape)
        }
        guard n < shape[0] else { return self }
        let ctx = try DNNLContext.get()
        var rows = shape
        rows[0] = n
        let tags = [DNNLTensor.blockedTag, dnnl_nchw, dnnl_nhwc]
        guard let tag = try tags.first(where: { DNNL.equal(desc, try DNNL.desc(shape, $0, type: dataType, context: context())) }) else {
            // Any other layout is brought to `nChw16c` first.
            return try reordered(to: DNNLTensor.blockedTag, type: dataType, context: context()).firstRows(n, context: context())
        }
        guard let data = dnnlData(memory) else {
            throw EngineError.dnnl(call: "dnnl_memory_get_data_handle", status: -1, context: context())
        }
        let view = try DNNLMemory(DNNL.desc(rows, tag, type: dataType, context: context()), ctx, pointer: data,
                                  keepAlive: memory, context: context())
        return DNNLTensor(shape: rows, sharing: view)
    }

    var desc: dnnl_memory_desc_t { memory.desc }

    /// `dnnl_f32` or `dnnl_bf16`.
    var dataType: dnnl_data_type_t { desc.data_type }

    /// Whether the values are float32 in `nChw16c` (what the Swift loops over blocked memory read).
    var isBlocked: Bool { DNNLTensor.isBlocked(desc, shape: shape) }

    /// Whether `desc` is `nChw16c` of `shape` in `type`.
    static func isBlocked(_ desc: dnnl_memory_desc_t, shape: [Int], type: dnnl_data_type_t = dnnl_f32) -> Bool {
        guard shape.count == 4, let blocked = try? DNNL.desc(shape, blockedTag, type: type, context: "") else { return false }
        return DNNL.equal(desc, blocked)
    }

    /// The values as `float *` (in this tensor's layout).
    var pointer: UnsafeMutablePointer<Float>? {
        dnnlData(memory)?.assumingMemoryBound(to: Float.self)
    }

    /// A copy in layout `tag` and data type `type` (a oneDNN reorder).
    func reordered(to tag: dnnl_format_tag_t, type: dnnl_data_type_t = dnnl_f32,
                   context: @autoclosure () -> String) throws -> DNNLTensor {
        let ctx = try DNNLContext.get()
        let out = try DNNLTensor(shape: shape, desc: DNNL.desc(shape, tag, type: type, context: context()), context: context())
        try LayerProfile.shared.measure("reorder: " + context()) { try DNNL.reorder(memory, out.memory, ctx, context: context()) }
        return out
    }

    /// This tensor if already `nChw16c` of `type` (float32 unless given), else a blocked copy in it.
    func blocked(_ type: dnnl_data_type_t = dnnl_f32, context: @autoclosure () -> String) throws -> DNNLTensor {
        if DNNLTensor.isBlocked(desc, shape: shape, type: type) { return self }
        return try reordered(to: DNNLTensor.blockedTag, type: type, context: context())
    }

    /// The values as a plain row-major `Tensor`.
    func tensor(context: @autoclosure () -> String) throws -> Tensor {
        try reorderedScalars(tag: dnnl_nchw, shape: shape, context: context())
    }

    /// The values as a row-major `[N, H, W, C]` `Tensor` (what ROIAlign's channels-last loops read).
    func channelsLastTensor(context: @autoclosure () -> String) throws -> Tensor {
        try reorderedScalars(tag: dnnl_nhwc, shape: [shape[0], shape[2], shape[3], shape[1]], context: context())
    }

    /// The values reordered into layout `tag`, as a `Tensor` of `outShape` (the array is written
    /// once, by the reorder, not zero-filled first).
    private func reorderedScalars(tag: dnnl_format_tag_t, shape outShape: [Int], context: @autoclosure () -> String) throws -> Tensor {
        let ctx = try DNNLContext.get()
        let count = shape.reduce(1, *)
        guard count > 0 else { return Tensor(shape: outShape) }
        let desc = try DNNL.desc(shape, tag, context: context())
        let scalars = try [Float].filled(count: count) { buf in
            guard let base = buf.baseAddress else { return }
            let dst = try DNNLMemory(desc, ctx, pointer: UnsafeMutableRawPointer(base), context: context())
            try LayerProfile.shared.measure("reorder to Tensor: " + context()) {
                try DNNL.reorder(memory, dst, ctx, context: context())
            }
        }
        return Tensor(shape: outShape, scalars: scalars)
    }

    /// A copy in the same layout.
    func copy(context: @autoclosure () -> String) throws -> DNNLTensor {
        let out = try DNNLTensor(shape: shape, desc: desc, context: context())
        if let src = dnnlData(memory), let dst = dnnlData(out.memory) { dst.copyMemory(from: src, byteCount: memory.byteCount) }
        return out
    }
}

import Foundation
internal import CZooDNNL

/// Checks the status of one oneDNN C call, naming the call in the error (swift-nio's `syscall` idea).
@inline(__always)
func dnnlCheck(_ status: dnnl_status_t, _ call: String, _ context: @autoclosure () -> String) throws {
    if status != dnnl_success {
        throw EngineError.dnnl(call: call, status: Int(status.rawValue), context: context())
    }
}

/// oneDNN execution argument numbers (`DNNL_ARG_*` in dnnl_types.h).
enum DNNLArg {
    static let src: Int32 = 1
    static let dst: Int32 = 17
    static let weights: Int32 = 33
    static let bias: Int32 = 41
    static let scratchpad: Int32 = 80
}

/// The process-wide CPU engine and its in-order stream.
final class DNNLContext: @unchecked Sendable {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t

    /// The shared context; created on first use.
    static let shared: Result<DNNLContext, EngineError> = {
        do { return .success(try DNNLContext()) } catch let error as EngineError { return .failure(error) } catch {
            return .failure(.dnnl(call: "dnnl_engine_create", status: -1, context: "\(error)"))
        }
    }()

    static func get() throws -> DNNLContext { try shared.get() }

    private init() throws {
        var engine: dnnl_engine_t?
        try dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "dnnl_engine_create", "CPU engine")
        guard let engine else { throw EngineError.dnnl(call: "dnnl_engine_create", status: -1, context: "CPU engine") }
        var stream: dnnl_stream_t?
        let status = dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue))
        guard status == dnnl_success, let stream else {
            dnnl_engine_destroy(engine)
            throw EngineError.dnnl(call: "dnnl_stream_create", status: Int(status.rawValue), context: "CPU stream")
        }
        self.engine = engine
        self.stream = stream
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }
}

/// Owns a oneDNN primitive descriptor.
final class DNNLPrimitiveDesc {
    let handle: dnnl_primitive_desc_t

    init(_ handle: dnnl_primitive_desc_t) { self.handle = handle }

    deinit { dnnl_primitive_desc_destroy(handle) }

    /// The memory descriptor this primitive wants for `what` (e.g. `dnnl_query_weights_md`).
    func memoryDesc(_ what: dnnl_query_t) -> dnnl_memory_desc_t? {
        dnnl_primitive_desc_query_md(handle, what, 0)?.pointee
    }

    /// The implementation oneDNN chose, e.g. `jit:avx512_core`.
    var implementation: String {
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(handle, dnnl_query_impl_info_str, 0, &name) == dnnl_success,
              let name else { return "?" }
        return String(cString: name)
    }
}

/// Owns a oneDNN primitive, and runs it with a scratchpad of its own for each execution.
///
/// Every primitive descriptor zoo creates asks for `dnnl_scratchpad_mode_user` (`DNNL.attr`):
/// in the library's default mode, some implementations (the Winograd convolution among them)
/// use a *thread-local* global scratchpad, sized by the primitives created on the executing thread,
/// so a primitive run on a thread that created none (or only smaller ones) reads a null or too
/// small buffer (a crash inside the JIT kernel, or wrong values).
final class DNNLPrimitive {
    let handle: dnnl_primitive_t
    /// What the primitive needs as scratchpad (zero bytes when nothing).
    private let scratchpadDesc: dnnl_memory_desc_t?
    private let scratchpadSize: Int

    init(_ desc: DNNLPrimitiveDesc, context: String) throws {
        var prim: dnnl_primitive_t?
        try dnnlCheck(dnnl_primitive_create(&prim, desc.handle), "dnnl_primitive_create", context)
        guard let prim else { throw EngineError.dnnl(call: "dnnl_primitive_create", status: -1, context: context) }
        handle = prim
        if var md = desc.memoryDesc(dnnl_query_scratchpad_md) {
            scratchpadSize = dnnl_memory_desc_get_size(&md)
            scratchpadDesc = md
        } else {
            scratchpadSize = 0
            scratchpadDesc = nil
        }
    }

    deinit { dnnl_primitive_destroy(handle) }

    /// Runs the primitive on `args` and waits for it.
    func execute(_ args: [dnnl_exec_arg_t], on ctx: DNNLContext, context: @autoclosure () -> String) throws {
        guard scratchpadSize > 0, let scratchpadDesc else {
            try run(args, on: ctx, context: context())
            return
        }
        let pool = DNNLScratchpadPool.shared
        let buffer = pool.take(scratchpadSize)
        defer { pool.give(buffer) }
        let scratchpad = try DNNLMemory(scratchpadDesc, ctx, pointer: buffer.pointer, context: context())
        try withExtendedLifetime(scratchpad) {
            try run(args + [dnnl_exec_arg_t(arg: DNNLArg.scratchpad, memory: scratchpad.handle)], on: ctx, context: context())
        }
    }

    private func run(_ args: [dnnl_exec_arg_t], on ctx: DNNLContext, context: @autoclosure () -> String) throws {
        try args.withUnsafeBufferPointer { buf in
            try dnnlCheck(dnnl_primitive_execute(handle, ctx.stream, Int32(buf.count), buf.baseAddress),
                          "dnnl_primitive_execute", context())
        }
        try dnnlCheck(dnnl_stream_wait(ctx.stream), "dnnl_stream_wait", context())
    }
}

/// Owns a oneDNN memory object and the storage it allocated (returned to `DNNLBufferPool`).
final class DNNLMemory {
    let handle: dnnl_memory_t
    private let owned: UnsafeMutableRawPointer?
    private let ownedSize: Int
    /// Storage the memory points into that this object keeps alive (a memory-mapped file, or
    /// the memory a view of some rows belongs to).
    private let keepAlive: Any?
    var desc: dnnl_memory_desc_t

    /// Memory for `desc` over caller storage `pointer` (not owned; `keepAlive` holds it, if given),
    /// or self-allocated when `pointer` is nil and `allocate` is true, or with no storage yet
    /// (`setData` before use).
    init(_ desc: dnnl_memory_desc_t, _ ctx: DNNLContext, pointer: UnsafeMutableRawPointer?, allocate: Bool = true,
         keepAlive: Any? = nil, context: @autoclosure () -> String) throws {
        var d = desc
        var owned: UnsafeMutableRawPointer? = nil
        var data = pointer
        var ownedSize = 0
        if data == nil, allocate {
            (owned, ownedSize) = DNNLBufferPool.shared.take(max(dnnl_memory_desc_get_size(&d), 4))
            data = owned
        }
        var mem: dnnl_memory_t?
        let status = dnnl_memory_create(&mem, &d, ctx.engine, data)
        guard status == dnnl_success, let mem else {
            if let owned { DNNLBufferPool.shared.give(owned, ownedSize) }
            throw EngineError.dnnl(call: "dnnl_memory_create", status: Int(status.rawValue), context: context())
        }
        self.handle = mem
        self.owned = owned
        self.ownedSize = ownedSize
        self.keepAlive = keepAlive
        self.desc = desc
    }

    deinit {
        dnnl_memory_destroy(handle)
        if let owned { DNNLBufferPool.shared.give(owned, ownedSize) }
    }

    /// Points this memory at caller storage for the next execution.
    func setData(_ pointer: UnsafeMutableRawPointer, context: @autoclosure () -> String) throws {
        try dnnlCheck(dnnl_memory_set_data_handle(handle, pointer), "dnnl_memory_set_data_handle", context())
    }

    var byteCount: Int {
        var d = desc
        return dnnl_memory_desc_get_size(&d)
    }
}

/// Helpers building memory descriptors and copying between layouts.
enum DNNL {
    /// A descriptor of `dims` in layout `tag` (`dnnl_format_tag_any` lets a primitive choose),
    /// float32 unless `type` says otherwise.
    static func desc(_ dims: [Int], _ tag: dnnl_format_tag_t, type: dnnl_data_type_t = dnnl_f32,
                     context: @autoclosure () -> String) throws -> dnnl_memory_desc_t {
        var md = dnnl_memory_desc_t()
        let d = dims.map { dnnl_dim_t($0) }
        try dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(d.count), d, type, tag),
                      "dnnl_memory_desc_init_by_tag", context())
        return md
    }

    /// New primitive attributes with a user-provided scratchpad (see `DNNLPrimitive`), optionally
    /// with post-ops: the destination's prior content added (`sum`), then ReLU. The caller destroys them.
    static func attr(sum: Bool = false, relu: Bool = false, context: @autoclosure () -> String) throws -> dnnl_primitive_attr_t {
        var attr: dnnl_primitive_attr_t?
        try dnnlCheck(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create", context())
        guard let attr else { throw EngineError.dnnl(call: "dnnl_primitive_attr_create", status: -1, context: context()) }
        do {
            try dnnlCheck(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user),
                          "dnnl_primitive_attr_set_scratchpad_mode", context())
            if sum || relu {
                var ops: dnnl_post_ops_t?
                try dnnlCheck(dnnl_post_ops_create(&ops), "dnnl_post_ops_create", context())
                defer { dnnl_post_ops_destroy(ops) }
                if sum { try dnnlCheck(dnnl_post_ops_append_sum(ops, 1.0), "dnnl_post_ops_append_sum", context()) }
                if relu {
                    try dnnlCheck(dnnl_post_ops_append_eltwise(ops, 1.0, dnnl_eltwise_relu, 0, 0),
                                  "dnnl_post_ops_append_eltwise", context())
                }
                try dnnlCheck(dnnl_primitive_attr_set_post_ops(attr, ops), "dnnl_primitive_attr_set_post_ops", context())
            }
        } catch {
            dnnl_primitive_attr_destroy(attr)
            throw error
        }
        return attr
    }

    /// The primitive descriptor oneDNN picks for the operation descriptor `opDesc` with `attr`
    /// (fails with call `dnnl_primitive_desc_create` when it has no implementation).
    static func primitiveDesc(_ opDesc: UnsafeRawPointer, attr: dnnl_primitive_attr_t, ctx: DNNLContext,
                              context: @autoclosure () -> String) throws -> DNNLPrimitiveDesc {
        var handle: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&handle, opDesc, attr, ctx.engine, nil), "dnnl_primitive_desc_create", context())
        guard let handle else { throw EngineError.dnnl(call: "dnnl_primitive_desc_create", status: -1, context: context()) }
        return DNNLPrimitiveDesc(handle)
    }

    static func equal(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
        var a = a, b = b
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    /// `equal` for layouts that may be absent (two absent ones are equal).
    static func equal(_ a: dnnl_memory_desc_t?, _ b: dnnl_memory_desc_t?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (a?, b?): return equal(a, b)
        default: return false
        }
    }

    /// Writes `values` (plain, `dims` in layout `tag`) into `to` with a one-off reorder, each
    /// value multiplied by its output channel's factor in `scales` when given (see `DNNLReorder`).
    /// oneDNN's reorders into its Winograd layouts ignore output scales: for those the values
    /// are folded first (`folded`), the same float32 products.
    static func reorderWeights(_ values: UnsafeBufferPointer<Float>, dims: [Int], tag: dnnl_format_tag_t, scales: [Float]?,
                               into to: DNNLMemory, _ ctx: DNNLContext, context: @autoclosure () -> String) throws {
        let user = try desc(dims, tag, context: context())
        func write(_ source: UnsafeBufferPointer<Float>, scales: [Float]?) throws {
            guard let base = source.baseAddress else { return }
            let from = try DNNLMemory(user, ctx, pointer: UnsafeMutableRawPointer(mutating: base), context: context())
            try reorder(from, to, ctx, scales: scales, context: context())
        }
        if let scales, to.desc.format_kind == dnnl_format_kind_wino {
            try folded(values, scales: scales).withUnsafeBufferPointer { try write($0, scales: nil) }
        } else {
            try write(values, scales: scales)
        }
    }

    /// `values` (output channels outermost) with each output channel's values multiplied by its
    /// factor in `scales`.
    static func folded(_ values: UnsafeBufferPointer<Float>, scales: [Float]) -> [Float] {
        let perOut = values.count / max(scales.count, 1)
        return values.indices.map { values[$0] * scales[$0 / perOut] }
    }

    /// Copies `from` into `to` (each with its own layout) with a one-off reorder primitive.
    static func reorder(_ from: DNNLMemory, _ to: DNNLMemory, _ ctx: DNNLContext, scales: [Float]? = nil,
                        context: @autoclosure () -> String) throws {
        try DNNLReorder(from, to, ctx, scales: scales, context: context()).run(ctx)
    }
}

/// A reorder primitive between two fixed memories, created once and run many times.
final class DNNLReorder {
    let primitive: DNNLPrimitive
    let from: DNNLMemory
    let to: DNNLMemory
    let context: String

    /// A reorder from `from` to `to`; with `scales`, one factor per output channel of a
    /// convolution's weights (`oihw` or `goihw`, the output channels counted across groups), each
    /// value is multiplied by its channel's factor as it is written.
    init(_ from: DNNLMemory, _ to: DNNLMemory, _ ctx: DNNLContext, scales: [Float]? = nil, context: String) throws {
        var pd: dnnl_primitive_desc_t?
        var src = from.desc, dst = to.desc
        let attr = try DNNL.attr(context: context)
        defer { dnnl_primitive_attr_destroy(attr) }
        if let scales {
            // Output channels are dimension 0 of oihw, dimensions 0 and 1 (group, channel) of goihw.
            let mask: Int32 = src.ndims == 5 ? 0b11 : 0b1
            try dnnlCheck(dnnl_primitive_attr_set_output_scales(attr, dnnl_dim_t(scales.count), mask, scales),
                          "dnnl_primitive_attr_set_output_scales", context)
        }
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &src, ctx.engine, &dst, ctx.engine, attr),
                      "dnnl_reorder_primitive_desc_create", context)
        guard let pd else { throw EngineError.dnnl(call: "dnnl_reorder_primitive_desc_create", status: -1, context: context) }
        primitive = try DNNLPrimitive(DNNLPrimitiveDesc(pd), context: context)
        self.from = from
        self.to = to
        self.context = context
    }

    func run(_ ctx: DNNLContext) throws {
        try primitive.execute([dnnl_exec_arg_t(arg: DNNLArg.src, memory: from.handle),
                               dnnl_exec_arg_t(arg: DNNLArg.dst, memory: to.handle)], on: ctx, context: context)
    }
}

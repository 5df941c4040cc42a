import Foundation

/// Writes a detectron2-zoo-style pickle with the tensor shapes of a full-size COCO
/// R50-FPN Mask R-CNN (`mask_rcnn_R_50_FPN_3x`): protocol 3, `{"model": {name: ndarray},
/// "__author__": ...}`, each array as `_reconstruct` + BUILD with a BINBYTES payload, the same
/// opcodes as the fixture zoo files (fixtures README 1.1). Values are random float32.
enum FullSizePickle {
    /// `(name, shape)` in state_dict order.
    static func shapes() -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        func conv(_ name: String, _ o: Int, _ i: Int, _ k: Int, norm: Bool, bias: Bool = false) {
            out.append(("\(name).weight", [o, i, k, k]))
            if bias { out.append(("\(name).bias", [o])) }
            if norm {
                for p in ["weight", "bias", "running_mean", "running_var"] { out.append(("\(name).norm.\(p)", [o])) }
            }
        }
        let b = "backbone.bottom_up"
        conv("\(b).stem.conv1", 64, 3, 7, norm: true)
        var channels = 64
        for (stage, blocks, width) in [(2, 3, 64), (3, 4, 128), (4, 6, 256), (5, 3, 512)] {
            let outChannels = width * 4
            for block in 0..<blocks {
                let prefix = "\(b).res\(stage).\(block)"
                if block == 0 { conv("\(prefix).shortcut", outChannels, channels, 1, norm: true) }
                conv("\(prefix).conv1", width, block == 0 ? channels : outChannels, 1, norm: true)
                conv("\(prefix).conv2", width, width, 3, norm: true)
                conv("\(prefix).conv3", outChannels, width, 1, norm: true)
            }
            channels = outChannels
        }
        for (level, c) in [(2, 256), (3, 512), (4, 1024), (5, 2048)] {
            conv("backbone.fpn_lateral\(level)", 256, c, 1, norm: false, bias: true)
            conv("backbone.fpn_output\(level)", 256, 256, 3, norm: false, bias: true)
        }
        conv("proposal_generator.rpn_head.conv", 256, 256, 3, norm: false, bias: true)
        conv("proposal_generator.rpn_head.objectness_logits", 3, 256, 1, norm: false, bias: true)
        conv("proposal_generator.rpn_head.anchor_deltas", 12, 256, 1, norm: false, bias: true)
        out += [("roi_heads.box_head.fc1.weight", [1024, 256 * 7 * 7]), ("roi_heads.box_head.fc1.bias", [1024]),
                ("roi_heads.box_head.fc2.weight", [1024, 1024]), ("roi_heads.box_head.fc2.bias", [1024]),
                ("roi_heads.box_predictor.cls_score.weight", [81, 1024]), ("roi_heads.box_predictor.cls_score.bias", [81]),
                ("roi_heads.box_predictor.bbox_pred.weight", [320, 1024]), ("roi_heads.box_predictor.bbox_pred.bias", [320])]
        for i in 1...4 { conv("roi_heads.mask_head.mask_fcn\(i)", 256, 256, 3, norm: false, bias: true) }
        out += [("roi_heads.mask_head.deconv.weight", [256, 256, 2, 2]), ("roi_heads.mask_head.deconv.bias", [256])]
        conv("roi_heads.mask_head.predictor", 80, 256, 1, norm: false, bias: true)
        for i in 0..<5 { out.append(("proposal_generator.anchor_generator.cell_anchors.\(i)", [3, 4])) }
        return out
    }

    /// Writes the pickle; returns the number of parameters.
    static func write(to url: URL) throws -> Int {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var out = [UInt8]()
        func flush() throws { try handle.write(contentsOf: out); out.removeAll(keepingCapacity: true) }
        func unicode(_ text: String) {
            let utf8 = Array(text.utf8)
            out.append(0x58)  // BINUNICODE
            out += withUnsafeBytes(of: UInt32(utf8.count).littleEndian, Array.init)
            out += utf8
        }
        func int(_ value: Int) {
            if (0..<256).contains(value) { out += [0x4B, UInt8(value)] }  // BININT1
            else { out.append(0x4A); out += withUnsafeBytes(of: Int32(value).littleEndian, Array.init) }  // BININT
        }
        func put(_ index: UInt8) { out += [0x71, index] }  // BINPUT
        func get(_ index: UInt8) { out += [0x68, index] }  // BINGET

        out += [0x80, 0x03, 0x7D]  // PROTO 3, EMPTY_DICT
        put(0)
        out.append(0x28)  // MARK
        unicode("model")
        out.append(0x7D)
        put(1)
        out.append(0x28)
        var rng: UInt64 = 0x9E37_79B9_7F4A_7C15
        var parameters = 0
        var first = true
        for (name, shape) in shapes() {
            unicode(name)
            if first {
                out += Array("cnumpy.core.multiarray\n_reconstruct\n".utf8); put(2)
                out += Array("cnumpy\nndarray\n".utf8); put(3)
            } else { get(2); get(3) }
            int(0); out.append(0x85)  // (0,)
            out += [0x43, 0x01, UInt8(ascii: "b"), 0x87, 0x52]  // SHORT_BINBYTES b'b', TUPLE3, REDUCE
            out.append(0x28)  // MARK for the state tuple
            int(1)
            out.append(0x28); shape.forEach { int($0) }; out.append(0x74)  // shape tuple
            if first {
                out += Array("cnumpy\ndtype\n".utf8); put(4)
                unicode("f4"); out += [0x89, 0x88, 0x87, 0x52]  // ('f4', False, True), REDUCE
                out.append(0x28); int(3); unicode("<"); out += [0x4E, 0x4E, 0x4E]; int(-1); int(-1); int(0); out.append(0x74)
                out.append(0x62)  // BUILD
                put(5)
                first = false
            } else { get(5) }
            out.append(0x89)  // is_fortran False
            let count = shape.reduce(1, *)
            parameters += count
            out.append(0x42)  // BINBYTES
            out += withUnsafeBytes(of: UInt32(count * 4).littleEndian, Array.init)
            try flush()
            var values = [Float](repeating: 0, count: count)
            for i in 0..<count {
                rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
                values[i] = Float(Int32(truncatingIfNeeded: rng >> 32)) * 1e-10
            }
            try values.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
            out += [0x74, 0x62]  // TUPLE (state), BUILD
        }
        out.append(0x75)  // SETITEMS (model)
        unicode("__author__")
        unicode("Detectron2 Model Zoo")
        out += [0x75, 0x2E]  // SETITEMS, STOP
        try flush()
        return parameters
    }
}

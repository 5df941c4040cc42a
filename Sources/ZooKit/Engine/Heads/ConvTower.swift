/// A chain of convolutions run in oneDNN's blocked layout: one reorder in, one out.
enum ConvTower {
    /// Leaves each output but the last in bfloat16 where the next conv computes in it.
    static func chainOutputTypes(_ convs: [Conv2d]) {
        for (conv, next) in zip(convs, convs.dropFirst()) { conv.bfloat16Output = next.computesInBFloat16 }
    }

    /// `convs` applied in order to `[N, C, H, W]` input (unchanged when `convs` is empty).
    static func forward(_ convs: [Conv2d], _ input: Tensor, name: String) throws -> Tensor {
        guard !convs.isEmpty, input.count > 0 else { return input }
        return try forwardKeepingLayout(convs, input, name: name).tensor(context: "\(name) output")
    }

    /// The same, the result left in oneDNN memory (`nChw16c`, or the plain input when `convs` is empty).
    static func forwardKeepingLayout(_ convs: [Conv2d], _ input: Tensor, name: String) throws -> DNNLTensor {
        var x = try DNNLTensor(plain: input, context: "\(name) input")
        guard !convs.isEmpty else { return x }
        x = try x.blocked(context: "\(name) input")
        for conv in convs { x = try conv.forward(x) }
        return x
    }
}

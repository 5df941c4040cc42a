/// A chain of convolutions run in oneDNN's blocked layout: one reorder in, one out.
enum ConvTower {
    /// `convs` applied in order to `[N, C, H, W]` input (unchanged when `convs` is empty).
    static func forward(_ convs: [Conv2d], _ input: Tensor, name: String) throws -> Tensor {
        guard !convs.isEmpty, input.count > 0 else { return input }
        var x = try DNNLTensor(plain: input, context: "\(name) input").blocked(context: "\(name) input")
        for conv in convs { x = try conv.forward(x) }
        return try x.tensor(context: "\(name) output")
    }
}

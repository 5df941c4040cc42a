import Foundation

extension Conv2d {
    /// Times `runs` passes (after `warmup` untimed ones) on `input` held in oneDNN's `nChw16c`
    /// layout, with output in the same layout, as a model's convolutions run: no reorders are
    /// timed, and the input runs whole, as one oneDNN convolution (never in bands of rows).
    /// Returns the oneDNN implementation and the seconds of each timed pass. For benchmarks.
    public func timeBlocked(_ input: Tensor, warmup: Int, runs: Int) throws -> (implementation: String, seconds: [Double]) {
        let blocked = try DNNLTensor(plain: input, context: "Conv2d \(name) timing input").blocked(computeType, context: "Conv2d \(name) timing input")
        let implementation = try blockedPlan(for: blocked, DNNLContext.get()).implementation
        var seconds: [Double] = []
        for i in 0..<(warmup + runs) {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try forwardWhole(blocked)
            if i >= warmup { seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        return (implementation, seconds)
    }
}

import Testing
@testable import ZooKit

@Suite("RPN, box, mask and keypoint heads against naive references")
struct HeadsTests {
    @Test("StandardRPNHead per level")
    func rpnHead() throws {
        var w = RandomWeights(seed: 31)
        let p = "proposal_generator.rpn_head"
        w.conv(p + ".conv", out: 8, in: 8, k: 3, norm: false)
        w.conv(p + ".objectness_logits", out: 3, in: 8, k: 1, norm: false)
        w.conv(p + ".anchor_deltas", out: 12, in: 8, k: 1, norm: false)
        let head = try StandardRPNHead(StateDict(w.tensors), inChannels: 8)
        let levels = [w.rng.tensor([1, 8, 8, 12]), w.rng.tensor([1, 8, 4, 6])]
        let (obj, del) = try head.forward(levels)
        #expect(obj.count == 2 && del.count == 2)
        for (i, f) in levels.enumerated() {
            let t = NaiveOps.relu(w.naiveConv(p + ".conv", f, padding: 1))
            #expect(relativeError(obj[i], w.naiveConv(p + ".objectness_logits", t)) < 1e-5)
            #expect(relativeError(del[i], w.naiveConv(p + ".anchor_deltas", t)) < 1e-5)
        }
    }

    @Test("FastRCNNConvFCHead and FastRCNNOutputLayers")
    func boxHead() throws {
        var w = RandomWeights(seed: 32)
        w.linear("roi_heads.box_head.fc1", out: 16, in: 4 * 7 * 7)
        w.linear("roi_heads.box_head.fc2", out: 16, in: 16)
        w.linear("roi_heads.box_predictor.cls_score", out: 4, in: 16)
        w.linear("roi_heads.box_predictor.bbox_pred", out: 12, in: 16)
        let sd = StateDict(w.tensors)
        let head = try FastRCNNConvFCHead(sd, inputShape: [4, 7, 7], fcDim: 16)
        let predictor = try FastRCNNOutputLayers(sd, inputSize: head.outputSize, numClasses: 3)
        #expect(sd.unusedKeys.isEmpty)
        let pooled = w.rng.tensor([5, 4, 7, 7])
        let feats = try head.forward(pooled)
        func lin(_ p: String, _ x: Tensor) -> Tensor {
            NaiveOps.linear(x, w.tensors[p + ".weight"] ?? Tensor(shape: [0]), w.tensors[p + ".bias"] ?? Tensor(shape: [0]))
        }
        let flat = Tensor(shape: [5, 196], scalars: pooled.scalars)
        let want = NaiveOps.relu(lin("roi_heads.box_head.fc2", NaiveOps.relu(lin("roi_heads.box_head.fc1", flat))))
        #expect(relativeError(feats, want) < 1e-5)
        let (scores, deltas) = try predictor.forward(feats)
        #expect(relativeError(scores, lin("roi_heads.box_predictor.cls_score", want)) < 1e-5)
        #expect(relativeError(deltas, lin("roi_heads.box_predictor.bbox_pred", want)) < 1e-5)
        #expect(throws: EngineError.weightShape(key: "roi_heads.box_predictor.cls_score.weight", expected: [6, 16], actual: [4, 16])) {
            try FastRCNNOutputLayers(sd, inputSize: 16, numClasses: 5)
        }
    }

    @Test("MaskRCNNConvUpsampleHead gives [N, K, 28, 28] logits")
    func maskHead() throws {
        var w = RandomWeights(seed: 33)
        let p = "roi_heads.mask_head"
        for i in 1...4 { w.conv("\(p).mask_fcn\(i)", out: 6, in: i == 1 ? 5 : 6, k: 3, norm: false) }
        w.deconv(p + ".deconv", in: 6, out: 6, k: 2)
        w.conv(p + ".predictor", out: 3, in: 6, k: 1, norm: false)
        let head = try MaskRCNNConvUpsampleHead(StateDict(w.tensors), inChannels: 5, numClasses: 3, convDim: 6)
        let x = w.rng.tensor([2, 5, 14, 14])
        var t = x
        for i in 1...4 { t = NaiveOps.relu(w.naiveConv("\(p).mask_fcn\(i)", t, padding: 1)) }
        t = NaiveOps.relu(NaiveOps.convTranspose2d(t, w.tensors[p + ".deconv.weight"] ?? Tensor(shape: [0]),
                                                   w.tensors[p + ".deconv.bias"], stride: 2, padding: 0))
        let want = w.naiveConv(p + ".predictor", t)
        let got = try head.forward(x)
        #expect(got.shape == [2, 3, 28, 28])
        #expect(relativeError(got, want) < 1e-5)
    }

    @Test("The mask head's predicted-class path equals the full logits' predicted channels", arguments: [
        // (detections, channels, classes): 23 detections of 256 channels take three matrix products.
        (23, 256, 80), (5, 20, 1), (3, 24, 4),
    ])
    func maskHeadPredictedClass(_ p: (Int, Int, Int)) throws {
        let (n, c, numClasses) = p
        var w = RandomWeights(seed: 34)
        let prefix = "roi_heads.mask_head"
        for i in 1...2 { w.conv("\(prefix).mask_fcn\(i)", out: c, in: c, k: 3, norm: false) }
        w.deconv(prefix + ".deconv", in: c, out: c, k: 2)
        w.conv(prefix + ".predictor", out: numClasses, in: c, k: 1, norm: false)
        let head = try MaskRCNNConvUpsampleHead(StateDict(w.tensors), inChannels: c, numClasses: numClasses, numConv: 2,
                                                convDim: c, classAgnostic: numClasses == 1, algorithm: .winograd)
        let x = NaiveOps.relu(w.rng.tensor([n, c, 14, 14]))
        let classes = (0..<n).map { ($0 * 7 + 3) % max(numClasses, 1) }
        let want = GeneralizedRCNN.predictedClassChannel(try head.forward(x), classes: classes)
        let got = try head.forwardPredictedClass(x, classes: classes)
        #expect(got.shape == [n, 28, 28])
        #expect(relativeError(got, want) < 1e-5)
    }

    @Test("KRCNNConvDeconvUpsampleHead gives [N, K, 56, 56] heatmaps")
    func keypointHead() throws {
        var w = RandomWeights(seed: 34)
        let p = "roi_heads.keypoint_head"
        for i in 1...8 { w.conv("\(p).conv_fcn\(i)", out: 6, in: i == 1 ? 5 : 6, k: 3, norm: false) }
        w.deconv(p + ".score_lowres", in: 6, out: 4, k: 4)
        let head = try KRCNNConvDeconvUpsampleHead(StateDict(w.tensors), inChannels: 5, numKeypoints: 4,
                                                   convDims: Array(repeating: 6, count: 8))
        let x = w.rng.tensor([2, 5, 14, 14])
        var t = x
        for i in 1...8 { t = NaiveOps.relu(w.naiveConv("\(p).conv_fcn\(i)", t, padding: 1)) }
        let low = NaiveOps.convTranspose2d(t, w.tensors[p + ".score_lowres.weight"] ?? Tensor(shape: [0]),
                                           w.tensors[p + ".score_lowres.bias"], stride: 2, padding: 1)
        let (gotLow, gotHeat) = try head.forwardWithLowres(x)
        #expect(gotLow.shape == [2, 4, 28, 28])
        #expect(relativeError(gotLow, low) < 1e-5)
        #expect(gotHeat.shape == [2, 4, 56, 56])
        #expect(relativeError(gotHeat, NaiveOps.bilinear(low, oh: 56, ow: 56)) < 1e-5)
        let (noLow, noHeat) = try head.forwardWithLowres(Tensor(shape: [0, 5, 14, 14]))
        #expect(noLow.shape == [0, 4, 28, 28] && noHeat.shape == [0, 4, 56, 56])
    }
}

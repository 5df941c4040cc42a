import Foundation

/// detectron2's `GeneralizedRCNN` at inference (`rcnn.py`), for the R-CNN FPN family: a ResNet-FPN
/// backbone, the standard RPN, `StandardROIHeads` with the FC box head and, when the config turns
/// them on, the mask head and the keypoint head.
///
/// `predict` is `DefaultPredictor.__call__`: preprocess, `inference`, `detector_postprocess`.
public final class GeneralizedRCNN {
    /// The resolved config the model was built from.
    public let config: RCNNConfig
    /// The number format of the convolutions (`ConvolutionPrecision`).
    public let precision: ConvolutionPrecision
    /// Checkpoint keys the model did not use (detectron2 lists them in one warning).
    public let unusedWeights: [String]

    /// The modules, readable for inspection (FLOP counts, oneDNN implementations).
    public let backbone: ResNetFPN
    public let rpnHead: StandardRPNHead
    let anchorGenerator: DefaultAnchorGenerator
    let rpnBox2Box: Box2BoxTransform
    let boxPooler: ROIPooler
    public let boxHead: FastRCNNConvFCHead
    public let boxPredictor: FastRCNNOutputLayers
    let roiBox2Box: Box2BoxTransform
    let maskPooler: ROIPooler?
    public let maskHead: MaskRCNNConvUpsampleHead?
    let keypointPooler: ROIPooler?
    public let keypointHead: KRCNNConvDeconvUpsampleHead?

    /// Serialises `predict` (see there).
    private let predictLock = NSLock()
    /// Memory for the poolers' outputs (guarded by `predictLock`): the box pooler's output is
    /// handed to the mask or keypoint pooler once the box head is done with it, and the last one
    /// to the next image's box pooler, so their pages are reused instead of faulted in afresh
    /// (50 MB for 1000 proposals) and at most one pooled output is held at a time.
    private var pooledStorage: [Float] = []

    /// FPN levels the RPN reads (`p2`..`p6`) and the ROI heads read (`p2`..`p5`).
    let rpnFeatures: [String]
    let roiFeatures: [String]

    /// Builds the model from `weights` (detectron2 keys), checking every key the config needs.
    /// The convolutions read their weights where they lie (views of a weights file stay views): a
    /// FrozenBN becomes a factor per output channel, applied as the weights are laid out for oneDNN.
    ///
    /// - Parameter algorithm: `.winograd` (the default) runs the 3x3 stride-1 convolutions with
    ///   oneDNN's Winograd kernels where it has them (within float noise of `.direct`).
    /// - Parameter precision: `.bfloat16` runs the other convolutions in bfloat16 (opt-in, faster,
    ///   further from detectron2's answers); it throws `EngineError.precisionUnavailable` on a CPU
    ///   without AVX512-BF16.
    public init(config: RCNNConfig, weights: consuming [String: Tensor], algorithm: ConvolutionAlgorithm = .winograd,
                precision: ConvolutionPrecision = .float32) throws {
        // Configs from files and overrides were checked when made; one built in code is checked here.
        try config.validate()
        try Self.checkSupported(config)
        try precision.checkAvailable()
        self.config = config
        self.precision = precision
        let m = config.model
        let state = StateDict(consume weights)

        backbone = try ResNetFPN(
            state, depth: m.resnets.depth, numGroups: m.resnets.numGroups, widthPerGroup: m.resnets.widthPerGroup,
            strideInOneByOne: m.resnets.strideIn1x1, stemOutChannels: m.resnets.stemOutChannels,
            res2OutChannels: m.resnets.res2OutChannels, fpnOutChannels: m.fpn.outChannels, algorithm: algorithm,
            precision: precision)
        let channels = m.fpn.outChannels

        rpnFeatures = m.rpn.inFeatures
        roiFeatures = m.roiHeads.inFeatures
        let rpnStrides = try rpnFeatures.map(Self.stride(ofFeature:))
        let roiScales = try roiFeatures.map { 1.0 / Double(try Self.stride(ofFeature: $0)) }

        // DefaultAnchorGenerator broadcasts a single list of sizes / ratios to every level.
        let levels = rpnFeatures.count
        let sizes = m.anchorGenerator.sizes.count == 1 ? Array(repeating: m.anchorGenerator.sizes[0], count: levels)
            : m.anchorGenerator.sizes
        let ratios = m.anchorGenerator.aspectRatios.count == 1
            ? Array(repeating: m.anchorGenerator.aspectRatios[0], count: levels) : m.anchorGenerator.aspectRatios
        guard sizes.count == levels, ratios.count == levels else {
            throw EngineError.unsupported(key: "MODEL.ANCHOR_GENERATOR.SIZES",
                                          value: "\(m.anchorGenerator.sizes) for \(levels) RPN levels",
                                          supported: ["one list, or one list per RPN.IN_FEATURES level"])
        }
        anchorGenerator = DefaultAnchorGenerator(sizes: sizes, aspectRatios: ratios, strides: rpnStrides,
                                                 offset: m.anchorGenerator.offset)
        let anchorsPerCell = Set(anchorGenerator.numCellAnchors)
        guard anchorsPerCell.count == 1, let numAnchors = anchorsPerCell.first else {
            throw EngineError.unsupported(key: "MODEL.ANCHOR_GENERATOR", value: "different anchor counts per level",
                                          supported: ["the same number of anchors at every level"])
        }
        rpnHead = try StandardRPNHead(state, inChannels: channels, numAnchors: numAnchors, algorithm: algorithm,
                                      precision: precision)
        rpnBox2Box = Box2BoxTransform(weights: m.rpn.bboxRegWeights)

        let box = m.roiBoxHead
        boxPooler = ROIPooler(outputSize: box.poolerResolution, scales: roiScales,
                              samplingRatio: box.poolerSamplingRatio, aligned: box.poolerType == "ROIAlignV2")
        boxHead = try FastRCNNConvFCHead(
            state, inputShape: [channels, box.poolerResolution, box.poolerResolution], numConv: box.numConv,
            convDim: box.convDim, convNorm: !box.norm.isEmpty, numFC: box.numFC, fcDim: box.fcDim, precision: precision)
        let boxFeatureSize = box.numFC > 0 ? box.fcDim
            : (box.numConv > 0 ? box.convDim : channels) * box.poolerResolution * box.poolerResolution
        boxPredictor = try FastRCNNOutputLayers(state, inputSize: boxFeatureSize, numClasses: m.roiHeads.numClasses,
                                                classAgnosticBoxReg: box.clsAgnosticBBoxReg)
        roiBox2Box = Box2BoxTransform(weights: box.bboxRegWeights)

        // The heads' batch: at most DETECTIONS_PER_IMAGE boxes (any number when it is negative).
        let headRows = config.test.detectionsPerImage > 0 ? config.test.detectionsPerImage : nil
        if m.maskOn {
            let mask = m.roiMaskHead
            maskPooler = ROIPooler(outputSize: mask.poolerResolution, scales: roiScales,
                                   samplingRatio: mask.poolerSamplingRatio, aligned: mask.poolerType == "ROIAlignV2")
            maskHead = try MaskRCNNConvUpsampleHead(
                state, inChannels: channels, numClasses: m.roiHeads.numClasses, numConv: mask.numConv,
                convDim: mask.convDim, convNorm: !mask.norm.isEmpty, classAgnostic: mask.clsAgnosticMask,
                algorithm: algorithm, precision: precision, detectionsPerImage: headRows)
        } else {
            maskPooler = nil
            maskHead = nil
        }
        if m.keypointOn {
            let kp = m.roiKeypointHead
            keypointPooler = ROIPooler(outputSize: kp.poolerResolution, scales: roiScales,
                                       samplingRatio: kp.poolerSamplingRatio, aligned: kp.poolerType == "ROIAlignV2")
            keypointHead = try KRCNNConvDeconvUpsampleHead(
                state, inChannels: channels, numKeypoints: kp.numKeypoints, convDims: kp.convDims, algorithm: algorithm,
                precision: precision, detectionsPerImage: headRows)
        } else {
            keypointPooler = nil
            keypointHead = nil
        }
        // Anchors saved by older zoo files are recomputed by the model, as detectron2 ignores them.
        unusedWeights = state.unusedKeys.filter {
            !$0.hasPrefix("proposal_generator.anchor_generator.cell_anchors.") && $0 != "pixel_mean" && $0 != "pixel_std"
        }
    }

    /// Runs the model on one decoded image (channels in `INPUT.FORMAT` order), as
    /// `DefaultPredictor.__call__` does.
    ///
    /// Calls on one model run one at a time (each already uses every core through oneDNN): the
    /// layers cache primitives and weight copies per input shape, which concurrent calls would race on.
    public func predict(_ image: Image8) throws -> Prediction {
        predictLock.lock()
        defer { predictLock.unlock() }
        DNNLBufferPool.shared.startImage()
        var times = StageTimes()
        var clock = StageClock()
        let m = config.model
        // Pillow refuses a 0-pixel resize too; a small MAX_SIZE_TEST and a long, thin image give one.
        let resize = ResizeShortestEdge(shortEdgeLength: config.input.minSizeTest, maxSize: config.input.maxSizeTest)
        let target = resize.outputShape(for: image)
        guard target.height > 0, target.width > 0 else {
            throw EngineError.inputShape(
                layer: "ResizeShortestEdge (INPUT.MIN_SIZE_TEST \(resize.shortEdgeLength), MAX_SIZE_TEST \(resize.maxSize))",
                expected: "an image that resizes to at least 1x1 pixel; raise INPUT.MAX_SIZE_TEST",
                actual: [image.height, image.width])
        }
        let input = preprocess(image: image, minSize: config.input.minSizeTest, maxSize: config.input.maxSizeTest,
                               pixelMean: m.pixelMean.map(Float.init), pixelStd: m.pixelStd.map(Float.init),
                               sizeDivisibility: backbone.sizeDivisibility)
        times.preprocess = clock.lap()

        // The levels stay in oneDNN's blocked layout for the RPN and the ROI poolers.
        let blockedFeatures = try backbone.forwardBlocked(input.tensor)
        let roiMaps = try roiFeatures.map { try Self.feature($0, in: blockedFeatures) }
        times.backbone = clock.lap()

        let proposals = try proposals(features: blockedFeatures, imageHeight: input.resizedHeight,
                                      imageWidth: input.resizedWidth)
        times.rpn = clock.lap()

        let profile = LayerProfile.shared
        var pooled = try profile.measure("box_pooler") {
            try boxPooler(blockedFeatures: roiMaps, boxes: proposals.boxes, reusing: &pooledStorage)
        }
        let boxFeatures = try profile.measure("box_head fc1, fc2") { try boxHead.forward(pooled) }
        recyclePooled(&pooled)
        let (classLogits, boxDeltas) = try profile.measure("box_predictor") { try boxPredictor.forward(boxFeatures) }
        let detections = profile.measure("fast_rcnn_inference") { fastRCNNInference(
            classLogits: classLogits, boxDeltas: boxDeltas, proposals: proposals.boxes, box2box: roiBox2Box,
            imageHeight: input.resizedHeight, imageWidth: input.resizedWidth,
            scoreThreshold: m.roiHeads.scoreThreshTest, nmsThreshold: m.roiHeads.nmsThreshTest,
            topK: config.test.detectionsPerImage) }
        times.boxHead = clock.lap()

        // mask_rcnn_inference: the predicted class's channel, sigmoid; pasted after postprocess.
        var maskProbs: Tensor?
        if let maskHead, let maskPooler, !detections.boxes.isEmpty {
            var maskPooled = try profile.measure("mask_pooler") {
                try maskPooler(blockedFeatures: roiMaps, boxes: detections.boxes, reusing: &pooledStorage)
            }
            let logits = try profile.measure("mask_head (all)") {
                try maskHead.forwardPredictedClass(maskPooled, classes: detections.classes)
            }
            recyclePooled(&maskPooled)
            maskProbs = maskProbabilities(fromLogits: logits)
        }
        times.maskHead = clock.lap()

        var keypoints: [[Keypoint]]?
        if let keypointHead, let keypointPooler {
            if detections.boxes.isEmpty {
                keypoints = []
            } else {
                var keypointPooled = try profile.measure("keypoint_pooler") {
                    try keypointPooler(blockedFeatures: roiMaps, boxes: detections.boxes, reusing: &pooledStorage)
                }
                let heatmaps = try profile.measure("keypoint_head (all)") { try keypointHead.forward(keypointPooled) }
                recyclePooled(&keypointPooled)
                keypoints = profile.measure("heatmaps_to_keypoints") { heatmapsToKeypoints(heatmaps, boxes: detections.boxes) }
            }
        }
        times.keypointHead = clock.lap()

        // detector_postprocess: scale, clip, drop empty boxes, paste masks at the input's size.
        let post = DetectorPostprocess(resizedHeight: input.resizedHeight, resizedWidth: input.resizedWidth,
                                       outputHeight: image.height, outputWidth: image.width)
        let (scaledBoxes, kept) = post(detections.boxes)
        var results: [Detection] = []
        results.reserveCapacity(kept.count)
        for (box, i) in zip(scaledBoxes, kept) {
            results.append(Detection(classIndex: detections.classes[i], score: detections.scores[i], box: box,
                                     boxInput: detections.boxes[i],
                                     keypoints: keypoints.map { post.scaledKeypoints($0[i]) }))
        }
        if let maskProbs {
            let keptProbs = Self.rows(maskProbs, kept)
            let masks = profile.measure("paste_masks_in_image") {
                pasteMasksInImage(keptProbs, boxes: scaledBoxes, imageHeight: image.height, imageWidth: image.width)
            }
            for i in results.indices { results[i].mask = masks[i] }
        }
        times.postprocess = clock.lap()

        return Prediction(imageWidth: image.width, imageHeight: image.height, resizedWidth: input.resizedWidth,
                          resizedHeight: input.resizedHeight, paddedWidth: input.tensor.shape[3],
                          paddedHeight: input.tensor.shape[2], numProposals: proposals.boxes.count,
                          detections: results, times: times)
    }

    /// Takes a pooled output's memory back into `pooledStorage` for the next pooler, leaving
    /// `pooled` an empty tensor: the memory is then held only there, so the next pooler writes into
    /// it in place instead of copying it first.
    private func recyclePooled(_ pooled: inout Tensor) {
        pooledStorage = pooled.scalars
        pooled = Tensor(shape: [0])
    }

    /// `RPN.forward` at inference: head, anchors, `find_top_rpn_proposals`.
    func proposals(features: [String: DNNLTensor], imageHeight: Int, imageWidth: Int) throws -> RPNProposals {
        let maps = try rpnFeatures.map { try Self.feature($0, in: features) }
        let (objectness, deltas) = try rpnHead.forward(maps)
        let anchors = anchorGenerator.gridAnchors(featureSizes: maps.map { (height: $0.shape[2], width: $0.shape[3]) })
        return LayerProfile.shared.measure("find_top_rpn_proposals") { findTopRPNProposals(
            objectnessLogits: objectness, anchorDeltas: deltas, anchors: anchors, box2box: rpnBox2Box,
            imageHeight: imageHeight, imageWidth: imageWidth, preNMSTopK: config.model.rpn.preNMSTopKTest,
            postNMSTopK: config.model.rpn.postNMSTopKTest, nmsThreshold: config.model.rpn.nmsThresh,
            minBoxSize: Float(config.model.proposalGenerator.minSize)) }
    }

    /// `[N, K, M, M]` mask logits -> `[N, M, M]` of each detection's class (channel 0 when
    /// class-agnostic), as `mask_rcnn_inference` indexes them.
    static func predictedClassChannel(_ logits: Tensor, classes: [Int]) -> Tensor {
        let n = logits.shape[0], k = logits.shape[1], plane = logits.shape[2] * logits.shape[3]
        var out = Tensor(shape: [n, logits.shape[2], logits.shape[3]])
        logits.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for i in 0..<n {
                    let channel = k == 1 ? 0 : classes[i]
                    for j in 0..<plane { dst[i * plane + j] = src[(i * k + channel) * plane + j] }
                }
            }
        }
        return out
    }

    /// The rows `indices` of a tensor's first dimension.
    static func rows(_ t: Tensor, _ indices: [Int]) -> Tensor {
        let row = t.shape.dropFirst().reduce(1, *)
        var scalars: [Float] = []
        scalars.reserveCapacity(indices.count * row)
        for i in indices { scalars.append(contentsOf: t.scalars[(i * row)..<((i + 1) * row)]) }
        return Tensor(shape: [indices.count] + t.shape.dropFirst(), scalars: scalars)
    }

    static func feature<T>(_ name: String, in features: [String: T]) throws -> T {
        guard let map = features[name] else {
            throw EngineError.unsupported(key: "feature", value: name, supported: features.keys.sorted())
        }
        return map
    }

    /// FPN output `pN` has stride `2^N`.
    static func stride(ofFeature name: String) throws -> Int {
        guard name.hasPrefix("p"), let level = Int(name.dropFirst()), (2...6).contains(level) else {
            throw EngineError.unsupported(key: "IN_FEATURES", value: name, supported: ["p2", "p3", "p4", "p5", "p6"])
        }
        return 1 << level
    }

    /// The architecture pieces this engine implements; anything else is one clear error.
    static func checkSupported(_ config: RCNNConfig) throws {
        let m = config.model
        let poolers = ["ROIAlign", "ROIAlignV2"]
        var checks: [(String, String, [String])] = [
            ("MODEL.META_ARCHITECTURE", m.metaArchitecture, ["GeneralizedRCNN"]),
            ("MODEL.BACKBONE.NAME", m.backbone.name, ["build_resnet_fpn_backbone"]),
            ("MODEL.PROPOSAL_GENERATOR.NAME", m.proposalGenerator.name, ["RPN"]),
            ("MODEL.RPN.HEAD_NAME", m.rpn.headName, ["StandardRPNHead"]),
            ("MODEL.ROI_HEADS.NAME", m.roiHeads.name, ["StandardROIHeads"]),
            ("MODEL.ROI_BOX_HEAD.NAME", m.roiBoxHead.name, ["FastRCNNConvFCHead"]),
            ("MODEL.RESNETS.NORM", m.resnets.norm, ["FrozenBN"]),
            ("MODEL.FPN.NORM", m.fpn.norm, [""]),
            ("MODEL.FPN.FUSE_TYPE", m.fpn.fuseType, ["sum"]),
            ("MODEL.RESNETS.RES5_DILATION", String(m.resnets.res5Dilation), ["1"]),
            ("MODEL.ROI_BOX_HEAD.POOLER_TYPE", m.roiBoxHead.poolerType, poolers),
        ]
        // The mask and keypoint heads only when they are on.
        if m.maskOn {
            checks += [("MODEL.ROI_MASK_HEAD.NAME", m.roiMaskHead.name, ["MaskRCNNConvUpsampleHead"]),
                       ("MODEL.ROI_MASK_HEAD.POOLER_TYPE", m.roiMaskHead.poolerType, poolers)]
        }
        if m.keypointOn {
            checks += [("MODEL.ROI_KEYPOINT_HEAD.NAME", m.roiKeypointHead.name, ["KRCNNConvDeconvUpsampleHead"]),
                       ("MODEL.ROI_KEYPOINT_HEAD.POOLER_TYPE", m.roiKeypointHead.poolerType, poolers)]
        }
        for (key, value, supported) in checks where !supported.contains(value) {
            throw EngineError.unsupported(key: key, value: value.isEmpty ? "\"\"" : value, supported: supported)
        }
        if config.input.format != "BGR" && config.input.format != "RGB" {
            throw EngineError.unsupported(key: "INPUT.FORMAT", value: config.input.format, supported: ["BGR", "RGB"])
        }
    }
}

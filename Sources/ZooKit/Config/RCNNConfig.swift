import Foundation

/// The inference settings of a detectron2 R-CNN model: the keys of detectron2's config that the
/// engine reads, with detectron2's defaults (`detectron2/config/defaults.py`). Nested types are
/// named after the config sections (`MODEL.RESNETS` is `model.resnets`, of type `ResNets`).
public struct RCNNConfig: Sendable, Equatable {
    /// `MODEL.*`.
    public var model = Model()
    /// `INPUT.*` (test-time keys).
    public var input = Input()
    /// `TEST.*`.
    public var test = Test()

    /// detectron2's defaults for every key the engine reads.
    public static let defaults = RCNNConfig()

    /// `MODEL`.
    public struct Model: Sendable, Equatable {
        /// `META_ARCHITECTURE`, e.g. "GeneralizedRCNN".
        public var metaArchitecture = "GeneralizedRCNN"
        /// `MASK_ON`.
        public var maskOn = false
        /// `KEYPOINT_ON`.
        public var keypointOn = false
        /// `PIXEL_MEAN`, in `INPUT.FORMAT` channel order.
        public var pixelMean: [Double] = [103.530, 116.280, 123.675]
        /// `PIXEL_STD`, in `INPUT.FORMAT` channel order.
        public var pixelStd: [Double] = [1.0, 1.0, 1.0]
        /// `WEIGHTS`: checkpoint path or URL.
        public var weights = ""
        /// `BACKBONE`.
        public var backbone = Backbone()
        /// `RESNETS`.
        public var resnets = ResNets()
        /// `FPN`.
        public var fpn = FPN()
        /// `ANCHOR_GENERATOR`.
        public var anchorGenerator = AnchorGenerator()
        /// `PROPOSAL_GENERATOR`.
        public var proposalGenerator = ProposalGenerator()
        /// `RPN`.
        public var rpn = RPN()
        /// `ROI_HEADS`.
        public var roiHeads = ROIHeads()
        /// `ROI_BOX_HEAD`.
        public var roiBoxHead = ROIBoxHead()
        /// `ROI_MASK_HEAD`.
        public var roiMaskHead = ROIMaskHead()
        /// `ROI_KEYPOINT_HEAD`.
        public var roiKeypointHead = ROIKeypointHead()
    }

    /// `MODEL.BACKBONE`.
    public struct Backbone: Sendable, Equatable {
        /// `NAME`, e.g. "build_resnet_fpn_backbone".
        public var name = "build_resnet_backbone"
    }

    /// `MODEL.RESNETS`.
    public struct ResNets: Sendable, Equatable {
        /// `DEPTH`: 18, 34, 50, 101 or 152.
        public var depth = 50
        /// `OUT_FEATURES`, e.g. ["res2", "res3", "res4", "res5"].
        public var outFeatures = ["res4"]
        /// `NUM_GROUPS` (> 1: ResNeXt).
        public var numGroups = 1
        /// `WIDTH_PER_GROUP`.
        public var widthPerGroup = 64
        /// `STRIDE_IN_1X1`: the stage stride sits in the first 1x1 conv (MSRA) rather than the 3x3.
        public var strideIn1x1 = true
        /// `RES5_DILATION`: 1 or 2.
        public var res5Dilation = 1
        /// `RES2_OUT_CHANNELS`.
        public var res2OutChannels = 256
        /// `STEM_OUT_CHANNELS`.
        public var stemOutChannels = 64
        /// `NORM`, e.g. "FrozenBN".
        public var norm = "FrozenBN"
    }

    /// `MODEL.FPN`.
    public struct FPN: Sendable, Equatable {
        /// `IN_FEATURES`.
        public var inFeatures: [String] = []
        /// `OUT_CHANNELS`.
        public var outChannels = 256
        /// `FUSE_TYPE`: "sum" or "avg".
        public var fuseType = "sum"
        /// `NORM`: "" for none.
        public var norm = ""
    }

    /// `MODEL.ANCHOR_GENERATOR`.
    public struct AnchorGenerator: Sendable, Equatable {
        /// `NAME`.
        public var name = "DefaultAnchorGenerator"
        /// `SIZES`: per feature map (or one list for all), sqrt of anchor areas in input pixels.
        public var sizes: [[Double]] = [[32, 64, 128, 256, 512]]
        /// `ASPECT_RATIOS` (height / width), per feature map or one list for all.
        public var aspectRatios: [[Double]] = [[0.5, 1.0, 2.0]]
        /// `OFFSET`, in units of the stride.
        public var offset = 0.0
    }

    /// `MODEL.PROPOSAL_GENERATOR`.
    public struct ProposalGenerator: Sendable, Equatable {
        /// `NAME`, e.g. "RPN".
        public var name = "RPN"
        /// `MIN_SIZE`: proposals narrower or lower than this are dropped.
        public var minSize = 0.0
    }

    /// `MODEL.RPN`.
    public struct RPN: Sendable, Equatable {
        /// `HEAD_NAME`, e.g. "StandardRPNHead".
        public var headName = "StandardRPNHead"
        /// `IN_FEATURES`.
        public var inFeatures = ["res4"]
        /// `PRE_NMS_TOPK_TEST` (per feature level).
        public var preNMSTopKTest = 6000
        /// `POST_NMS_TOPK_TEST`.
        public var postNMSTopKTest = 1000
        /// `NMS_THRESH`.
        public var nmsThresh = 0.7
        /// `BBOX_REG_WEIGHTS` (dx, dy, dw, dh).
        public var bboxRegWeights: [Double] = [1.0, 1.0, 1.0, 1.0]
        /// `CONV_DIMS` ([-1]: as many channels as the input).
        public var convDims = [-1]
    }

    /// `MODEL.ROI_HEADS`.
    public struct ROIHeads: Sendable, Equatable {
        /// `NAME`, e.g. "StandardROIHeads".
        public var name = "Res5ROIHeads"
        /// `NUM_CLASSES` (foreground classes).
        public var numClasses = 80
        /// `IN_FEATURES`.
        public var inFeatures = ["res4"]
        /// `SCORE_THRESH_TEST`.
        public var scoreThreshTest = 0.05
        /// `NMS_THRESH_TEST`.
        public var nmsThreshTest = 0.5
    }

    /// `MODEL.ROI_BOX_HEAD`.
    public struct ROIBoxHead: Sendable, Equatable {
        /// `NAME`, e.g. "FastRCNNConvFCHead".
        public var name = ""
        /// `NUM_FC`.
        public var numFC = 0
        /// `FC_DIM`.
        public var fcDim = 1024
        /// `NUM_CONV`.
        public var numConv = 0
        /// `CONV_DIM`.
        public var convDim = 256
        /// `NORM`.
        public var norm = ""
        /// `POOLER_RESOLUTION`.
        public var poolerResolution = 14
        /// `POOLER_SAMPLING_RATIO` (0: adaptive).
        public var poolerSamplingRatio = 0
        /// `POOLER_TYPE`: "ROIAlign" or "ROIAlignV2".
        public var poolerType = "ROIAlignV2"
        /// `BBOX_REG_WEIGHTS` (dx, dy, dw, dh).
        public var bboxRegWeights: [Double] = [10.0, 10.0, 5.0, 5.0]
        /// `CLS_AGNOSTIC_BBOX_REG`.
        public var clsAgnosticBBoxReg = false
    }

    /// `MODEL.ROI_MASK_HEAD`.
    public struct ROIMaskHead: Sendable, Equatable {
        /// `NAME`, e.g. "MaskRCNNConvUpsampleHead".
        public var name = "MaskRCNNConvUpsampleHead"
        /// `NUM_CONV`.
        public var numConv = 0
        /// `CONV_DIM`.
        public var convDim = 256
        /// `NORM`.
        public var norm = ""
        /// `POOLER_RESOLUTION`.
        public var poolerResolution = 14
        /// `POOLER_SAMPLING_RATIO`.
        public var poolerSamplingRatio = 0
        /// `POOLER_TYPE`.
        public var poolerType = "ROIAlignV2"
        /// `CLS_AGNOSTIC_MASK`.
        public var clsAgnosticMask = false
    }

    /// `MODEL.ROI_KEYPOINT_HEAD`.
    public struct ROIKeypointHead: Sendable, Equatable {
        /// `NAME`.
        public var name = "KRCNNConvDeconvUpsampleHead"
        /// `NUM_KEYPOINTS`.
        public var numKeypoints = 17
        /// `CONV_DIMS`.
        public var convDims = [Int](repeating: 512, count: 8)
        /// `POOLER_RESOLUTION`.
        public var poolerResolution = 14
        /// `POOLER_SAMPLING_RATIO`.
        public var poolerSamplingRatio = 0
        /// `POOLER_TYPE`.
        public var poolerType = "ROIAlignV2"
    }

    /// `INPUT`.
    public struct Input: Sendable, Equatable {
        /// `MIN_SIZE_TEST` (0: no resize).
        public var minSizeTest = 800
        /// `MAX_SIZE_TEST`.
        public var maxSizeTest = 1333
        /// `FORMAT`: channel order of the network input ("BGR" or "RGB").
        public var format = "BGR"
    }

    /// `TEST`.
    public struct Test: Sendable, Equatable {
        /// `DETECTIONS_PER_IMAGE`.
        public var detectionsPerImage = 100
    }
}

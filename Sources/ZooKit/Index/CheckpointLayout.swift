/// How the tensors are named and stored in an entry's weights file.
public enum CheckpointLayout: String, CaseIterable, Sendable {
    /// detectron2 model zoo output: a pickled dict with "model" (numpy arrays under detectron2's
    /// module names, e.g. `backbone.fpn_lateral2.weight`) and "__author__".
    case detectron2 = "detectron2"
    /// Detectron (Caffe2) checkpoints: Caffe2 blob names (`res2_0_branch2a_w`), under "blobs" for
    /// detection models; BatchNorm fused into an affine layer. Read with
    /// `detectron2/checkpoint/c2_model_loading.py` `convert_c2_detectron_names`.
    case detectron = "detectron"
    /// detectron2's own ImageNetPretrained re-conversions (MSRA/FAIR ResNets): Caffe2-style names,
    /// BatchNorm kept unfused; detectron2 loads them with name-matching heuristics.
    case detectron2ImageNet = "detectron2_imagenet"
    /// A torchvision ResNet converted by detectron2's `tools/convert-torchvision-to-d2.py`
    /// ("__author__": "torchvision", `stem.conv1.weight`, `res2.0.conv1.norm.weight`, ...).
    case torchvision = "torchvision"
}

extension ZooEntry {
    /// The Checkpoint/ layout to load this entry's weights file with; nil for the ImageNet backbone
    /// layouts, which detectron2 only loads by name-matching heuristics into a detection model.
    public var checkpointLayout: CheckpointLayout? {
        switch layout {
        case .detectron2: return .detectron2
        case .detectron: return .detectron
        case .detectron2ImageNet, .torchvision: return nil
        }
    }
}

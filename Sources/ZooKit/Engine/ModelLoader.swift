import Foundation

/// A model ready to run, with what a result needs to name it.
public struct LoadedModel {
    /// The network.
    public var network: GeneralizedRCNN
    /// The name results carry: the zoo entry's name or the weights file's stem.
    public var name: String
    /// The weights file the network was built from.
    public var weightsFile: URL
    /// The config's name: a zoo config path or the YAML file given.
    public var configName: String?
    /// Class and keypoint names, when known.
    public var dataset: DatasetMetadata?

    /// Class names for results (`"class N"` where the dataset does not say).
    public var classNames: [String] {
        dataset?.thingClasses ?? []
    }
}

/// Turns `zoo run`'s MODEL argument (a zoo id or config path, or a .pkl / .safetensors file) and
/// options into a `LoadedModel`.
public enum ModelLoader {
    /// Loads `model`.
    ///
    /// - Parameters:
    ///   - model: a zoo id (`137781281`), a zoo config path, or a path to a `.pkl` or `.safetensors` file.
    ///   - configFile: a detectron2 YAML config; required for files, optional for zoo entries.
    ///   - datasetName: an index dataset whose names label the results (defaults to the entry's).
    ///   - overrides: dotted config keys applied last (e.g. `MODEL.ROI_HEADS.SCORE_THRESH_TEST`).
    ///   - index: the model index.
    ///   - algorithm, precision: how the convolutions compute (see `GeneralizedRCNN.init`); an
    ///     unavailable precision is refused before any weights are fetched or read.
    ///   - weightsForEntry: returns the local weights file of a zoo entry (fetching it if needed).
    public static func load(model: String, configFile: URL?, datasetName: String?,
                            overrides: [String: ConfigValue], index: ZooIndex,
                            algorithm: ConvolutionAlgorithm = .winograd, precision: ConvolutionPrecision = .float32,
                            weightsForEntry: (ZooEntry) throws -> URL) throws -> LoadedModel {
        var config: RCNNConfig
        var weightsFile: URL
        var name: String
        var configName: String?
        var dataset: String? = datasetName
        // Where the config came from, for errors about keys `overrides` does not set.
        let configLabel: String
        try precision.checkAvailable()

        let asFile = URL(fileURLWithPath: model)
        if FileManager.default.fileExists(atPath: asFile.path) {
            guard let configFile else { throw ModelLoaderError.configRequired(file: model) }
            config = try RCNNConfig.load(contentsOf: configFile)
            configLabel = configFile.path
            weightsFile = asFile
            name = asFile.deletingPathExtension().lastPathComponent
            configName = configFile.lastPathComponent
        } else {
            let entry: ZooEntry
            do {
                entry = try index.lookup(model)
            } catch IndexError.unknownModel where isPathLike(model) {
                // A zoo config path is path-like too, so the index is asked first.
                throw ModelLoaderError.noSuchFile(path: model)
            }
            if let configFile {
                config = try RCNNConfig.load(contentsOf: configFile)
                configLabel = configFile.path
                configName = configFile.lastPathComponent
            } else {
                guard entry.hasInferenceSettings else { throw ModelLoaderError.noInferenceSettings(id: entry.id, config: entry.config) }
                config = try RCNNConfig.defaults.applying(entry.inference.mapValues(ConfigValue.init(indexValue:)),
                                                          source: entry.inferenceLabel, base: entry.inferenceLabel)
                configLabel = entry.inferenceLabel
                configName = entry.config
            }
            weightsFile = try convertedOnFirstUse(try weightsForEntry(entry), entry: entry)
            name = entry.name
            dataset = dataset ?? entry.dataset
        }
        config = try config.applying(overrides, base: configLabel)
        // The model takes the loaded tensors over (views of the file's mapping, read in place).
        let weights = try Checkpoint.loadWeights(from: weightsFile).tensors
        let network: GeneralizedRCNN
        do {
            network = try GeneralizedRCNN(config: config, weights: consume weights, algorithm: algorithm, precision: precision)
        } catch let error as EngineError {
            switch error {
            case .missingWeight, .weightShape: throw ModelLoaderError.weightsMismatch(file: weightsFile.path, problem: error)
            default: throw error
            }
        }
        let metadata = try dataset.map { try index.dataset(named: $0) }
        if let metadata, metadata.thingClasses.count != config.model.roiHeads.numClasses {
            throw ModelLoaderError.datasetMismatch(dataset: metadata.name, classes: metadata.thingClasses.count,
                                                   modelClasses: config.model.roiHeads.numClasses)
        }
        return LoadedModel(network: network, name: name, weightsFile: weightsFile, configName: configName,
                           dataset: metadata)
    }
}

extension ModelLoader {
    /// Whether a MODEL argument reads as a file path rather than a zoo id or name: it has a `/`
    /// or a weights or config extension.
    static func isPathLike(_ model: String) -> Bool {
        model.contains("/") || ["pkl", "safetensors", "yaml"].contains((model as NSString).pathExtension.lowercased())
    }

    /// A zoo `.pkl` is converted once to safetensors beside it (the engine's native format, no
    /// pickle parsing on later runs); the safetensors file is used from then on.
    static func convertedOnFirstUse(_ pkl: URL, entry: ZooEntry) throws -> URL {
        guard pkl.pathExtension == "pkl" else { return pkl }
        let converted = CheckpointConverter.defaultOutput(for: pkl)
        if FileManager.default.fileExists(atPath: converted.path) { return converted }
        let known = ModelCache().record(forURL: entry.weightsURL)?.sha256
        _ = try CheckpointConverter.convert(pkl, to: converted, modelID: entry.id, config: entry.config,
                                            sourceSHA256: known)
        return converted
    }
}

/// Why a MODEL argument could not be turned into a model.
public enum ModelLoaderError: Error, CustomStringConvertible, Equatable {
    case configRequired(file: String)
    /// A MODEL argument that reads as a path names no file (and no zoo entry).
    case noSuchFile(path: String)
    case noInferenceSettings(id: String, config: String)
    case datasetMismatch(dataset: String, classes: Int, modelClasses: Int)
    /// The weights file does not fit the config (a missing or misshapen weight).
    case weightsMismatch(file: String, problem: EngineError)

    public var description: String {
        switch self {
        case let .configRequired(file):
            return "\(file): a weights file needs its detectron2 config; pass --config FILE.yaml"
        case let .noSuchFile(path):
            return "\(path): no such file, and no zoo entry has that id, config or name; check the path (relative paths start at the current directory) or run `zoo list`"
        case let .noInferenceSettings(id, config):
            return "zoo entry \(id) (\(config)) has no inference settings in the index yet; pass its config with --config FILE.yaml"
        case let .datasetMismatch(dataset, classes, modelClasses):
            return "dataset \(dataset) names \(classes) classes but the model predicts \(modelClasses); choose another with --dataset"
        case let .weightsMismatch(file, problem):
            return "\(file): \(problem)"
        }
    }
}

extension ConfigValue {
    /// The config value an index entry's `inference` table holds.
    public init(indexValue: IndexValue) {
        switch indexValue {
        case .null: self = .null
        case let .bool(b): self = .bool(b)
        case let .number(x): self = x.rounded() == x && abs(x) < 1e15 ? .int(Int(x)) : .double(x)
        case let .string(s): self = .string(s)
        case let .array(a): self = .list(a.map(ConfigValue.init(indexValue:)))
        case let .object(pairs): self = .list(pairs.map { ConfigValue(indexValue: $0.1) })
        }
    }
}

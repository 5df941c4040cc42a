import Foundation
import Testing
@testable import ZooKit

/// A result holding NaN or infinity (a model with broken weights) is one clear error naming the
/// image and the field, not JSONEncoder's dump of its coding path.
@Suite struct PredictionRecordFiniteTests {
    static func record(_ detection: Detection, image: String = "photos/a.png") -> PredictionRecord {
        let prediction = Prediction(imageWidth: 64, imageHeight: 48, resizedWidth: 64, resizedHeight: 48,
                                    paddedWidth: 64, paddedHeight: 64, numProposals: 1, detections: [detection],
                                    times: StageTimes())
        return PredictionRecord(prediction: prediction, config: RCNNConfig.defaults, model: "m", weights: "w.pkl",
                                configName: nil, image: image, classNames: ["cat"])
    }

    static let box = Box(x0: 1, y0: 2, x1: 30, y1: 40)

    @Test func finiteRecordsEncode() throws {
        let line = try Self.record(Detection(classIndex: 0, score: 0.5, box: Self.box, boxInput: Self.box)).jsonLine()
        #expect(String(decoding: line, as: UTF8.self).contains("\"score\":0.5"))
    }

    @Test func nanScoreNamesTheImageAndField() throws {
        let record = Self.record(Detection(classIndex: 0, score: .nan, box: Self.box, boxInput: Self.box))
        let error = #expect(throws: PredictionRecordError.self) { try record.jsonLine() }
        #expect(error == .nonFinite(image: "photos/a.png", field: "instances[0].score", value: .nan))
        let message = error.map { String(describing: $0) } ?? ""
        #expect(message.contains("photos/a.png") && message.contains("instances[0].score"), "\(message)")
        #expect(!message.contains("\n") && !message.contains("codingPath"), "\(message)")
    }

    @Test func infiniteBoxAndKeypointLogitAreFound() throws {
        var box = Self.box
        box.x1 = .infinity
        let boxError = #expect(throws: PredictionRecordError.self) {
            try Self.record(Detection(classIndex: 0, score: 0.5, box: box, boxInput: Self.box)).jsonLine()
        }
        #expect(boxError == .nonFinite(image: "photos/a.png", field: "instances[0].box_xyxy[2]", value: .infinity))
        let keypoints = [Keypoint(x: 3, y: 4, score: 0.9, logit: 1), Keypoint(x: 3, y: 4, score: 0.9, logit: -.infinity)]
        let keypointError = #expect(throws: PredictionRecordError.self) {
            try Self.record(Detection(classIndex: 0, score: 0.5, box: Self.box, boxInput: Self.box, keypoints: keypoints)).checkFinite()
        }
        #expect(keypointError == .nonFinite(image: "photos/a.png", field: "instances[0].keypoint_logits[1]", value: -.infinity))
    }

    @Test func imageNameWithANewlineStaysOnOneLine() throws {
        let record = Self.record(Detection(classIndex: 0, score: .nan, box: Self.box, boxInput: Self.box), image: "a\nb.png")
        let error = #expect(throws: PredictionRecordError.self) { try record.jsonLine() }
        let message = error.map { String(describing: $0) } ?? ""
        #expect(message.contains("a\\u{a}b.png") && !message.contains("\n"), "\(message)")
    }
}

import Foundation
import Testing
@testable import ZooKit

/// A mutation loop over the fixture pickles: every mutant must load or fail with a
/// `PickleError`/`CheckpointError`, never crash, hang or throw anything else.
/// `ZOO_FUZZ_ITERATIONS` raises the count (default 3000); counts are printed.
@Suite struct PickleFuzzTests {
    /// xorshift64*, fixed seed: the same mutants on every run.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12
            state ^= state << 25
            state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
    }

    static func seeds() throws -> [(name: String, data: Data)] {
        let folder = WeightManifest.models.appendingPathComponent("pickle_variants")
        var seeds: [(String, Data)] = try ["zoo_p3_numpy1.pkl", "zoo_p2_py3.pkl", "zoo_p4_numpy2.pkl", "zoo_p5_numpy2.pkl", "c2_py2_p2.pkl"]
            .map { ($0, try Data(contentsOf: folder.appendingPathComponent($0))) }
        for (name, base64, _) in PickleCases.all where name.hasSuffix("_C_p0") || name.hasSuffix("_F_p5") || name.hasPrefix("ordered") {
            if let data = Data(base64Encoded: base64) { seeds.append((name, data)) }
        }
        return seeds
    }

    /// One random edit of `data`.
    static func mutate(_ data: Data, _ rng: inout Generator) -> Data {
        var bytes = [UInt8](data)
        guard !bytes.isEmpty else { return data }
        let edits = Int.random(in: 1...4, using: &rng)
        for _ in 0..<edits {
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<8, using: &rng) {
            case 0: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1: bytes[at] = [0x00, 0xFF, 0x7F, 0x80, 0x28, 0x2E, 0x94, 0x71][Int.random(in: 0..<8, using: &rng)]
            case 2: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            case 3:  // a length-looking field set large
                for k in 0..<min(4, bytes.count - at) { bytes[at + k] = k == 3 ? 0x7F : 0xFF }
            case 4: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...64, using: &rng)))
            case 5:
                let end = min(bytes.count, at + Int.random(in: 1...64, using: &rng))
                bytes.insert(contentsOf: bytes[at..<end], at: Int.random(in: 0...bytes.count, using: &rng))
            case 6: bytes.removeSubrange(at...)
            default:
                bytes.insert(UInt8.random(in: 0...255, using: &rng), at: at)
            }
            if bytes.isEmpty { break }
        }
        return Data(bytes)
    }

    @Test func mutantsNeverCrash() throws {
        let iterations = ProcessInfo.processInfo.environment["ZOO_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 3000
        let seeds = try Self.seeds()
        var rng = Generator(state: 0x5EED_2026_C0FF_EE00)
        var accepted = 0, checkpoints = 0
        var pickleErrors: [String: Int] = [:]
        var checkpointErrors = 0
        for _ in 0..<iterations {
            let seed = seeds[Int.random(in: 0..<seeds.count, using: &rng)]
            let mutant = Self.mutate(seed.data, &rng)
            do {
                let document = try PickleReader.read(data: mutant, label: "mutant")
                accepted += 1
                let contents = try PickleCheckpoint.contents(of: document, file: "mutant")
                for (_, array) in contents.arrays { _ = try array.floatTensor() }
                checkpoints += 1
            } catch let error as PickleError {
                pickleErrors[Self.kindName(error.kind), default: 0] += 1
                #expect(error.offset >= 0 && error.offset <= mutant.count)
            } catch is CheckpointError {
                checkpointErrors += 1
            } catch {
                Issue.record("unexpected error type: \(error)")
            }
        }
        let summary = pickleErrors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print("pickle fuzz: \(iterations) mutants of \(seeds.count) seeds: \(accepted) unpickled (\(checkpoints) loaded as checkpoints), \(checkpointErrors) CheckpointError, PickleError: \(summary)")
        #expect(accepted + pickleErrors.values.reduce(0, +) == iterations)
        // The mutations must exercise both outcomes, or the loop tests nothing.
        #expect(checkpoints > 0 && !pickleErrors.isEmpty)
    }

    static func kindName(_ kind: PickleError.Kind) -> String {
        switch kind {
        case .truncated: return "truncated"
        case .unknownOpcode: return "unknownOpcode"
        case .forbiddenOpcode: return "forbiddenOpcode"
        case .forbiddenGlobal: return "forbiddenGlobal"
        case .stackUnderflow: return "stackUnderflow"
        case .missingMark: return "missingMark"
        case .memoMissing: return "memoMissing"
        case .unsupportedProtocol: return "unsupportedProtocol"
        case .badOperand: return "badOperand"
        case .unsupportedDType: return "unsupportedDType"
        case .badArray: return "badArray"
        case .keyTooLong: return "keyTooLong"
        case .excessiveWork: return "excessiveWork"
        }
    }
}

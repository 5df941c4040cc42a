import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ZooKit

/// Hand-built JPEG streams: one quantisation table of ones and Huffman tables holding a single
/// one-bit code for symbol 0 (DC: difference 0, AC: end of block), so every block decodes to
/// mid-grey and the entropy data of a scan is a known number of zero bits.
enum TinyJPEG {
    static let soi: [UInt8] = [0xFF, 0xD8]
    static let eoi: [UInt8] = [0xFF, 0xD9]

    static func segment(_ marker: UInt8, _ payload: [UInt8]) -> [UInt8] {
        [0xFF, marker] + be16(payload.count + 2) + payload
    }

    static func be16(_ value: Int) -> [UInt8] { [UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)] }

    static let dqt = segment(0xDB, [0x00] + [UInt8](repeating: 1, count: 64))

    /// A Huffman table (`classAndID`: 0x00 DC 0, 0x10 AC 0) with one code, "0", for symbol 0.
    static func dht(_ classAndID: UInt8) -> [UInt8] {
        segment(0xC4, [classAndID, 1] + [UInt8](repeating: 0, count: 15) + [0])
    }

    /// A frame header (0xC0 baseline, 0xC2 progressive), components 1...n unsampled, table 0.
    static func sof(_ marker: UInt8, width: Int, height: Int, components: Int) -> [UInt8] {
        var payload: [UInt8] = [8] + be16(height) + be16(width) + [UInt8(components)]
        for id in 1...components { payload += [UInt8(id), 0x11, 0] }
        return segment(marker, payload)
    }

    /// A scan header over components 1...n with Huffman tables 0.
    static func sos(components: Int, ss: UInt8 = 0, se: UInt8, ah: UInt8 = 0, al: UInt8 = 0) -> [UInt8] {
        var payload: [UInt8] = [UInt8(components)]
        for id in 1...components { payload += [UInt8(id), 0x00] }
        return segment(0xDA, payload + [ss, se, ah << 4 | al])
    }

    static func blocks(width: Int, height: Int) -> Int { ((width + 7) / 8) * ((height + 7) / 8) }

    /// A complete baseline JPEG with `components` components (no APP14 marker, so 2 is an unknown
    /// colour space and 4 is CMYK).
    static func baseline(width: Int, height: Int, components: Int) -> [UInt8] {
        let bits = blocks(width: width, height: height) * components * 2     // DC "0", then EOB "0"
        return soi + dqt + dht(0x00) + dht(0x10) + sof(0xC0, width: width, height: height, components: components)
            + sos(components: components, se: 63) + [UInt8](repeating: 0, count: (bits + 7) / 8) + eoi
    }

    /// A grayscale progressive JPEG: a DC first scan at half precision, then `scans - 1` DC
    /// refinement scans, the same one repeated (libjpeg warns about the bogus progression and
    /// decodes it). With `dataBytes`, the stream stops after that many bytes of the first
    /// scan's entropy data, with no EOI.
    static func progressiveGray(width: Int, height: Int, scans: Int, dataBytes: Int? = nil) -> [UInt8] {
        let scanBytes = (blocks(width: width, height: height) + 7) / 8       // one bit a block
        var jpeg = soi + dqt + dht(0x00) + sof(0xC2, width: width, height: height, components: 1)
            + sos(components: 1, se: 0, al: 1)
        if let dataBytes { return jpeg + [UInt8](repeating: 0, count: dataBytes) }
        jpeg += [UInt8](repeating: 0, count: scanBytes)
        let refinement = sos(components: 1, se: 0, ah: 1, al: 0) + [UInt8](repeating: 0, count: scanBytes)
        for _ in 1..<scans { jpeg += refinement }
        return jpeg + eoi
    }
}

@Suite("JPEG hostile inputs")
struct JPEGHostileTests {
    /// Decodes `bytes` and returns the `ImageError` thrown, checking its message is one line
    /// naming the file; nil if it decoded.
    private func error(decoding bytes: [UInt8], named name: String) -> ImageError? {
        do {
            _ = try ImageDecoder.decode(data: Data(bytes), name: name, channelOrder: .bgr)
            return nil
        } catch let e as ImageError {
            #expect(e.description.contains(name), "message must name the file: \(e)")
            #expect(!e.description.contains("\n"))
            return e
        } catch {
            Issue.record("expected an ImageError, got \(error)")
            return nil
        }
    }

    @Test func theHandBuiltStreamsDecode() throws {
        let progressive = try ImageDecoder.decode(data: Data(TinyJPEG.progressiveGray(width: 16, height: 16, scans: 10)),
                                                  name: "p.jpg", channelOrder: .bgr)
        #expect(progressive.width == 16 && progressive.height == 16)
        #expect(progressive.pixels.allSatisfy { $0 == 128 })
        let baseline = try ImageDecoder.decode(data: Data(TinyJPEG.baseline(width: 16, height: 8, components: 3)),
                                               name: "b.jpg", channelOrder: .bgr)
        #expect(baseline.width == 16 && baseline.height == 8)
        #expect(baseline.pixels.allSatisfy { $0 == 128 })
    }

    @Test func exactlyTheScanLimitDecodes() throws {
        let jpeg = TinyJPEG.progressiveGray(width: 16, height: 16, scans: ImageDecoder.maxJPEGScans)
        let image = try ImageDecoder.decode(data: Data(jpeg), name: "500.jpg", channelOrder: .bgr)
        #expect(image.width == 16 && image.pixels.allSatisfy { $0 == 128 })
    }

    @Test("More scans than the limit are refused", arguments: [ImageDecoder.maxJPEGScans + 1, 5000])
    func tooManyScans(scans: Int) {
        let jpeg = TinyJPEG.progressiveGray(width: 16, height: 16, scans: scans)
        let e = error(decoding: jpeg, named: "scans.jpg")
        #expect(e == .tooManyScans(file: "scans.jpg", limit: 500))
        #expect(e?.description == "JPEG image scans.jpg is refused: progressive JPEG with more than 500 scans; re-encode it")
    }

    /// A ~130-byte progressive JPEG claiming 13000x13000 gray pixels (338 MB of coefficients,
    /// 507 MB of output) whose data ends in the first scan. Decoding must stop at the end of the
    /// data, not run every scan over every block and then allocate the output. Measured on this
    /// thread: page faults (memory first touched) and CPU time.
    @Test func truncatedProgressiveBombStopsAtTheEndOfTheData() {
        let jpeg = TinyJPEG.progressiveGray(width: 13_000, height: 13_000, scans: 1, dataBytes: 16)
        #expect(jpeg.count < 200)
        let before = ThreadUsage.now()
        let e = error(decoding: jpeg, named: "bomb.jpg")
        let after = ThreadUsage.now()
        #expect(e == .truncated(file: "bomb.jpg", format: "JPEG", reason: "Premature end of JPEG file"))
        if let before, let after {
            let touchedMB = Double(after.minorFaults - before.minorFaults) * 4096 / 1_000_000
            #expect(touchedMB < 64, "decoding touched about \(Int(touchedMB)) MB")
            #expect(after.cpuSeconds - before.cpuSeconds < 0.1, "decoding took \(after.cpuSeconds - before.cpuSeconds) s of CPU")
        }
    }

    @Test("The colour-space error names the colour space",
          arguments: [(2, "unknown colour space with 2 components"), (4, "CMYK colour space")])
    func unsupportedColourSpace(components: Int, expected: String) {
        let jpeg = TinyJPEG.baseline(width: 8, height: 8, components: components)
        let e = error(decoding: jpeg, named: "odd.jpg")
        #expect(e == .unsupported(file: "odd.jpg", format: "JPEG", reason: expected))
    }
}

/// This thread's resource use (Linux's RUSAGE_THREAD), so tests running alongside do not count.
private struct ThreadUsage {
    var minorFaults: Int
    var cpuSeconds: Double

    static func now() -> ThreadUsage? {
        #if os(Linux)
        var usage = rusage()
        let rusageThread: __rusage_who_t = 1                // RUSAGE_THREAD, which Glibc leaves out
        guard getrusage(rusageThread, &usage) == 0 else { return nil }
        let seconds = { (t: timeval) in Double(t.tv_sec) + Double(t.tv_usec) / 1_000_000 }
        return ThreadUsage(minorFaults: usage.ru_minflt, cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime))
        #else
        return nil
        #endif
    }
}

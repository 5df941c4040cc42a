import Foundation
import Testing
@testable import ZooKit

@Suite("Digests and cache layout")
struct DigestAndCacheTests {
    @Test("md5 and sha256 match the published test vectors for \"abc\"")
    func digestVectors() throws {
        let md5 = try StreamingDigest(.md5)
        md5.update(Data("a".utf8))
        md5.update(Data("bc".utf8))
        #expect(md5.finalizeHex() == "900150983cd24fb0d6963f7d28e17f72")
        let sha = try StreamingDigest(.sha256)
        sha.update(Data("abc".utf8))
        #expect(sha.finalizeHex() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-abc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data("abc".utf8).write(to: file)
        #expect(try md5Hex(of: file) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(try sha256Hex(of: file) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(try FileDigests(of: file) == FileDigests(md5: "900150983cd24fb0d6963f7d28e17f72",
                                                         sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", size: 3))
    }

    @Test("the md5 tail search gives data whose md5 starts with the prefix")
    func tailSearch() throws {
        let data = TestCheckpoint.data
        let md5 = try StreamingDigest(.md5)
        md5.update(data)
        #expect(md5.finalizeHex().hasPrefix(TestCheckpoint.prefix))
    }

    @Test("md5 prefixes are read from detectron2's file names")
    func prefixFromName() {
        #expect(md5Prefix(inFileName: "model_final_280758.pkl") == "280758")
        #expect(md5Prefix(inFileName: "model_final_a54504.pkl") == "a54504")
        #expect(md5Prefix(inFileName: "R-50.pkl") == nil)
        #expect(md5Prefix(inFileName: "model_final.pkl") == nil)
        #expect(md5Prefix(inFileName: "metrics.json") == nil)
        #expect(md5Prefix(inFileName: "model_final_28075.pkl") == nil)
    }

    @Test("the cache root comes from ZOO_CACHE, then XDG_CACHE_HOME, then HOME")
    func cacheRoot() {
        #expect(ModelCache(environment: ["ZOO_CACHE": "/a/b", "XDG_CACHE_HOME": "/x", "HOME": "/h"]).root.path == "/a/b")
        #expect(ModelCache(environment: ["XDG_CACHE_HOME": "/x", "HOME": "/h"]).root.path == "/x/zoo")
        #expect(ModelCache(environment: ["HOME": "/h"]).root.path == "/h/.cache/zoo")
        let roots = ModelCache(environment: ["HOME": "/h", "FVCORE_CACHE": "/f"]).detectron2Roots.map(\.path)
        #expect(roots.first == "/f")
        #expect(roots.contains("/h/.torch/iopath_cache"))
    }

    @Test("cache paths mirror the URL path, without escaping the root")
    func cachePaths() {
        let cache = ModelCache(root: URL(fileURLWithPath: "/c"))
        let url = "https://dl.fbaipublicfiles.com/detectron2/COCO-Detection/faster_rcnn_R_50_FPN_3x/137849458/model_final_280758.pkl"
        #expect(cache.path(forURL: url).path == "/c/detectron2/COCO-Detection/faster_rcnn_R_50_FPN_3x/137849458/model_final_280758.pkl")
        #expect(cache.path(forURL: "https://x.org/../../etc/passwd").path == "/c/etc/passwd")
    }

    @Test("a mirror replaces the canonical base, with or without a trailing slash")
    func mirrors() {
        var options = FetchOptions(environment: ["HOME": "/h", "ZOO_MIRROR": "http://m.local/zoo"])
        let url = "https://dl.fbaipublicfiles.com/detectron2/a/b.pkl"
        #expect(options.sourceURL(for: url) == "http://m.local/zoo/detectron2/a/b.pkl")
        options.mirror = "file:///srv/mirror/"
        #expect(options.sourceURL(for: url) == "file:///srv/mirror/detectron2/a/b.pkl")
        #expect(options.sourceURL(for: "https://other.org/x.pkl") == "https://other.org/x.pkl")
        options.mirror = nil
        #expect(options.sourceURL(for: url) == url)
        #expect(FetchOptions(environment: ["HOME": "/h", "ZOO_OFFLINE": "1"]).offline)
        #expect(!FetchOptions(environment: ["HOME": "/h"]).offline)
    }
}

import Foundation
import Testing
@testable import ZooKit

@Suite("Shard")
struct ShardTests {
    @Test(arguments: [("0/4", 0, 4), ("3/4", 3, 4), ("0/1", 0, 1), (" 2 / 3 ", 2, 3), ("99/100", 99, 100)])
    func parsesZeroBasedKOverN(text: String, index: Int, count: Int) throws {
        let shard = try Shard(parsing: text)
        #expect(shard.index == index && shard.count == count)
        #expect(shard == (try Shard(index: index, count: count)))
        #expect(shard.description == "\(index)/\(count)")
    }

    @Test(arguments: ["4/4", "-1/4", "1/0", "0/0", "a/b", "1", "1/2/3", "", "/", "1/", "1.5/4"])
    func rejectsWhatIsNotKOverN(text: String) {
        #expect(throws: BatchError.self) { try Shard(parsing: text) }
        do {
            _ = try Shard(parsing: text)
        } catch {
            #expect("\(error)".contains("--shard"))
        }
    }

    @Test func shardsPartitionEveryListExactly() throws {
        for count in 1...7 {
            for size in 0...23 {
                let items = Array(0..<size)
                var seen: [Int] = []
                var sizes: [Int] = []
                for index in 0..<count {
                    let shard = try Shard(index: index, count: count)
                    let part = shard.select(items)
                    #expect(part == items.filter { shard.contains(position: $0) })
                    #expect(part == part.sorted())
                    seen += part
                    sizes.append(part.count)
                }
                #expect(seen.sorted() == items, "N=\(count), \(size) items")
                #expect((sizes.max() ?? 0) - (sizes.min() ?? 0) <= 1)
            }
        }
    }

    @Test func shardsOfAnExpandedTreeAgreeAcrossRuns() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let names = (0..<13).map { "set/\($0 % 3)/img\($0).jpg" }
        try tree.make(names)
        let first = try ImageInputs.expand(["set"], base: tree.root)
        let second = try ImageInputs.expand(["set/2", "set/0", "set/1"], base: tree.root)
        #expect(first == second)
        var union = Set<String>()
        for index in 0..<4 {
            let part = try Shard(index: index, count: 4).select(first).map(\.path)
            #expect(union.isDisjoint(with: part))
            union.formUnion(part)
        }
        #expect(union == Set(names))
        #expect(Shard.all.select(first) == first)
    }
}

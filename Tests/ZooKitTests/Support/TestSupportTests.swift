import Foundation
import Testing

@Suite struct TestSupportTests {
    @Test func fixturesAreCopiedIntoTheRepository() {
        #expect(FileManager.default.fileExists(atPath: TestSupport.fixtures.appendingPathComponent("README.md").path))
    }
}

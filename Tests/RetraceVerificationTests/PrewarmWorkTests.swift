import Dispatch
import Synchronization
import Testing

@testable import RetraceVerification

/// A scan's gathering thread joins the second core's signature checks (Verifier.whilePrewarming):
/// the two must between them check every item, and none twice.
@Suite("Shared prewarm work")
struct PrewarmWorkTests {
    @Test("threads draining one work check every item exactly once", arguments: [0, 1, 2, 3, 1_000, 20_000])
    func everyItemOnce(count: Int) {
        let seen = Mutex([Int](repeating: 0, count: count))
        let work = PrewarmWork(count: count) { position in seen.withLock { $0[position] += 1 } }
        DispatchQueue.concurrentPerform(iterations: 4) { _ in work.drain() }
        work.drain()
        #expect(seen.withLock { $0 } == [Int](repeating: 1, count: count))
    }
}

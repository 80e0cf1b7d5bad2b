import MerkleLog
import RetraceCrypto
import RetraceLedger
import RetraceStorage
import Synchronization
import Testing

/// A reader that counts how often the heads map is built from scratch: from the chain rows
/// (`chainHeads`) or by replaying the log from entry 0.
struct BuildCountingReader: ForwardingLedgerReader {
    final class Count: Sendable {
        let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var total: Int { value.withLock { $0 } }
    }

    let base: any LedgerReader
    let builds: Count

    func chainHeads(below size: UInt64) throws -> [ChainLink] {
        builds.add()
        return try base.chainHeads(below: size)
    }

    func forEachEntry(from: UInt64, to: UInt64, _ body: (StoredEntry) throws -> Void) throws {
        if from == 0 { builds.add() }
        try base.forEachEntry(from: from, to: to, body)
    }
}

/// The verifier's heads map is built once per process and then moved forward with the log; which
/// versions it keeps decides whether a scan against another checkpoint moves a kept one forward or
/// builds the whole map again.
@Suite("Heads map versions kept by a verifier")
struct HeadsIndexVersionTests {
    @Test("asked about older checkpoints after newer ones, it moves the map forward instead of rebuilding it each time")
    func olderCheckpointsAfterNewer() throws {
        let story = try StoryLedger()
        for number in 0..<12 { try story.sell(try StoryLedger.product("HV-\(number)")) }
        let checkpoints = try story.store.read { try $0.checkpoints() }
        try #require(checkpoints.count >= 10)
        let latest = checkpoints[checkpoints.count - 1].size
        let newer = checkpoints[(checkpoints.count - 4)..<(checkpoints.count - 1)].map(\.size)
        let older = checkpoints[1...3].map(\.size)
        let index = HeadsIndex()
        let builds = BuildCountingReader.Count()
        try story.store.read { base in
            let reader = BuildCountingReader(base: base, builds: builds)
            // The latest, then three newer ones in order (a fresh start below the latest: one build,
            // then two moves forward), then three older ones in order, as the verdict benchmark's
            // moved-head pass does: one build for the first, then moves forward.
            for size in [latest] + newer + older {
                let map = try index.map(at: size, reader: reader)
                let stored = try #require(try base.checkpoint(size: size))
                let note = try SignedNote(parsing: stored.note)
                #expect(map.root == (try Checkpoint(parsing: note.text)).headsRoot, "map at \(size)")
            }
        }
        #expect(builds.total == 3, "built \(builds.total) times")
    }
}

import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceServer
import RetraceSimulation
import RetraceStorage
import Synchronization
import Testing

/// Group commit's limit: a transaction takes whole requests from the front of the queue while their
/// statements fit, and always at least one (a request larger than the limit commits alone).
@Suite("Group commit's statement limit")
struct AppendSequencerTests {
    @Test(
        "concurrent requests of 1, 2 and 5 statements under a limit of 3: none split, none lost, none over the limit but a lone one"
    )
    func limit() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("retrace-seq-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let parties = try TestParties()
        let ledger = try Ledger.create(
            store: try SQLiteLedgerStore.create(path: directory.appendingPathComponent("l.sqlite").path),
            origin: TestParties.origin,
            logSigner: parties.log,
            governance: [parties.governance.verifier],
            roster: parties.signedRoster(time: DemoStory.start),
            clock: { DemoStory.start.adding(seconds: 86_400) }
        )
        let commits = Mutex<[(requests: Int, statements: Int)]>([])
        let sequencer = AppendSequencer(ledger: ledger, maxStatementsPerCommit: 3) { requests, statements in
            commits.withLock { $0.append((requests, statements)) }
        }
        let sizes = (0..<24).map { [1, 2, 5][$0 % 3] }
        var batches: [[SignedStatement]] = []
        for (request, size) in sizes.enumerated() {
            batches.append(
                try (0..<size).map { item in
                    try parties.sign(
                        .commission,
                        product: try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("SEQ\(request)x\(item)")),
                        previous: nil,
                        by: "northwind",
                        at: DemoStory.start.adding(seconds: 3_600)
                    )
                }
            )
        }
        let outcomes = await withTaskGroup(of: (Int, AppendSequencer.Outcome).self) { group in
            for (request, batch) in batches.enumerated() {
                group.addTask { (request, await sequencer.append(batch)) }
            }
            var all: [Int: AppendSequencer.Outcome] = [:]
            for await (request, outcome) in group { all[request] = outcome }
            return all
        }
        for (request, size) in sizes.enumerated() {
            let receipts = try #require(try? outcomes[request]?.get().receipts, "request \(request) was refused")
            #expect(receipts.count == size)
            // One request's statements are consecutive in the log: never split across commits.
            let indexes = receipts.map(\.index)
            #expect(indexes == Array(indexes[0]..<(indexes[0] + UInt64(size))))
        }
        let seen = commits.withLock { $0 }
        #expect(seen.reduce(0) { $0 + $1.requests } == sizes.count)
        #expect(seen.reduce(0) { $0 + $1.statements } == sizes.reduce(0, +))
        for commit in seen {
            #expect(commit.statements <= 3 || commit.requests == 1, "\(commit)")
        }
        #expect(try ledger.store.read { try $0.treeSize() } == 1 + UInt64(sizes.reduce(0, +)))
    }
}

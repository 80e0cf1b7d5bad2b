import Foundation
import RetraceAudit
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Testing

@Suite("A 100,000-event ledger")
struct LargeLedgerTests {
    /// Issue 2: the whole path at a size where anything quadratic, or anything that loads the ledger
    /// into memory, would show. Figures are printed for the record, never asserted.
    @Test("appends 100,000 generated events and verifies end to end with the independent auditor")
    func hundredThousand() throws {
        let fixture = try LedgerFixture()
        defer { fixture.remove() }
        let generator = LedgerGenerator(configuration: .forEvents(100_000, seed: 2026), parties: fixture.parties)
        var appended = 0
        var lastCheckpoint: String?
        let start = Date()
        let summary = try generator.run { batch in
            let result = try fixture.ledger.append(batch)
            appended += result.receipts.count
            lastCheckpoint = result.checkpoint ?? lastCheckpoint
        }
        let appendSeconds = Date().timeIntervalSince(start)
        #expect(appended == summary.events)
        #expect(appended >= 100_000)
        let size = try fixture.ledger.store.read { try $0.treeSize() }
        #expect(size == UInt64(appended) + 1)  // + the first roster

        let parties = fixture.parties
        let auditor = Auditor(
            trustRoots: [parties.governance.verifier],
            logKey: parties.log.verifier,
            origin: TestParties.origin
        )
        let auditStart = Date()
        let report = try auditor.audit(store: fixture.ledger.store)
        let auditSeconds = Date().timeIntervalSince(auditStart)
        #expect(report.passed, "\(report.failures.prefix(3))")
        #expect(report.entriesChecked == size)
        #expect(report.treeSize == size)
        #expect(report.checkpointsChecked >= 1)
        // Every checkpoint's heads root equals the map the auditor recomputed from the log alone.
        #expect(report.headsRootsChecked == report.checkpointsChecked)

        // An auditor that trusted the checkpoint of the first half checks only what came after.
        let half = try #require(
            try fixture.ledger.store.read { reader in
                try reader.checkpoints().first { $0.size >= size / 2 }
            }
        )
        let incremental = try auditor.audit(store: fixture.ledger.store, since: half.note)
        #expect(incremental.passed, "\(incremental.failures.prefix(3))")
        #expect(incremental.headsRootsChecked >= 1)
        print(
            "100k ledger: \(appended) events appended in \(Int(appendSeconds)) s (debug build, with generation), "
                + "audited in \(Int(auditSeconds)) s, heads map recomputed and checked against "
                + "\(report.headsRootsChecked) checkpoints"
        )
    }
}

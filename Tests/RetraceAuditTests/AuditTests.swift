import Foundation
import GRDB
import MerkleLog
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Synchronization
import Testing

/// The story ledger every audit test starts from, built once (about 2,300 events).
enum Shared {
    static let story: StoryLedger = {
        do { return try StoryLedger.build(products: 300) } catch { preconditionFailure("story ledger: \(error)") }
    }()

    static func auditor(
        _ story: StoryLedger = story,
        threads: Int = 2,
        keepGoing: Bool = false,
        residentChains: Int = Auditor.defaultResidentChains
    ) -> Auditor {
        Auditor(
            trustRoots: story.governance,
            logKey: story.logKey,
            origin: TestParties.origin,
            threads: threads,
            keepGoing: keepGoing,
            residentChains: residentChains
        )
    }

    static func open(_ path: String) throws -> SQLiteLedgerStore {
        try SQLiteLedgerStore.open(path: path, readOnly: true)
    }
}

struct CleanAuditTests {
    @Test("a clean story ledger of thousands of events audits clean from SQLite, with every checkpoint checked")
    func cleanSQLite() throws {
        let story = Shared.story
        #expect(story.entryCount > 2_000)
        let calls = Mutex<[UInt64]>([])
        let auditor = Auditor(
            trustRoots: story.governance,
            logKey: story.logKey,
            origin: TestParties.origin,
            progress: { done, total in
                calls.withLock { $0.append(done) }
                #expect(total == story.entryCount)
            }
        )
        let report = try auditor.audit(store: Shared.open(story.path))
        #expect(report.failures == [], "\(report.failures.prefix(3))")
        #expect(report.passed)
        #expect(report.entriesChecked == story.entryCount)
        #expect(report.treeSize == story.entryCount)
        #expect(report.checkpointsChecked == UInt64(story.checkpoints.count))
        let latest = try Checkpoint.open(try #require(story.checkpoints.last), verifiers: [story.logKey], origin: nil)
        #expect(report.rootHash == latest.rootHash)
        #expect(calls.withLock { $0.last } == story.entryCount)
    }

    @Test("the same ledger's export audits clean, with the same root, on one and on two threads")
    func cleanExport() throws {
        let story = Shared.story
        let two = try Shared.auditor().audit(exportAt: story.exportPath)
        #expect(two.failures == [], "\(two.failures.prefix(3))")
        #expect(two.entriesChecked == story.entryCount)
        #expect(two.checkpointsChecked == UInt64(story.checkpoints.count))
        let one = try Shared.auditor(threads: 1).audit(exportAt: story.exportPath)
        #expect(one == two)
        let stored = try Shared.auditor().audit(store: Shared.open(story.path))
        #expect(stored.rootHash == two.rootHash)
    }

    @Test("an incremental audit from an earlier checkpoint checks only the new entries and passes")
    func incrementalClean() throws {
        let story = Shared.story
        let trusted = story.checkpoints[story.checkpoints.count / 2]
        let size = try Checkpoint.open(trusted, verifiers: [story.logKey], origin: nil).size
        let report = try Shared.auditor().audit(store: Shared.open(story.path), since: trusted)
        #expect(report.failures == [], "\(report.failures.prefix(3))")
        #expect(report.entriesChecked == story.entryCount - size)
        #expect(report.treeSize == story.entryCount)
        let full = try Shared.auditor().audit(store: Shared.open(story.path))
        #expect(report.rootHash == full.rootHash)
        // From the newest checkpoint there is nothing new to check.
        let none = try Shared.auditor().audit(
            store: Shared.open(story.path),
            since: try #require(story.checkpoints.last)
        )
        #expect(none.passed)
        #expect(none.entriesChecked == 0)
    }

    @Test("a trusted checkpoint that the log key did not sign is refused before anything is read")
    func untrustedCheckpoint() throws {
        let story = Shared.story
        let forged = try Checkpoint(origin: TestParties.origin, size: 10, rootHash: [UInt8](repeating: 7, count: 32))
            .sign(with: story.parties.signer("woodgrove")).serialized
        #expect {
            try Shared.auditor().audit(store: Shared.open(story.path), since: forged)
        } throws: { ($0 as? AuditError)?.code == .untrustedCheckpoint }
    }

    @Test("a file that is not an export, and a missing file, cannot be checked: thrown, not reported")
    func notAnExport() throws {
        let story = Shared.story
        let path = try story.writeExport([Array("{\"hello\":1}".utf8)], name: "not-export")
        #expect { try Shared.auditor().audit(exportAt: path) } throws: { ($0 as? AuditError)?.code == .notALedger }
        #expect { try Shared.auditor().audit(exportAt: path + ".missing") } throws: {
            ($0 as? AuditError)?.code == .unreadable
        }
    }

    @Test("throughput with one and two threads is printed (a figure, not an assertion)")
    func throughput() throws {
        // RETRACE_AUDIT_BENCH_PRODUCTS=2000 builds a larger ledger (about 7.7 entries per product) for this figure.
        let requested = ProcessInfo.processInfo.environment["RETRACE_AUDIT_BENCH_PRODUCTS"].flatMap { Int($0) }
        let story = try requested.map { try StoryLedger.build(products: $0, seed: 1) } ?? Shared.story
        defer { if requested != nil { story.remove() } }
        var figures: [String] = []
        for threads in [1, 2] {
            for source in ["sqlite", "export"] {
                let auditor = Shared.auditor(story, threads: threads)
                let start = DispatchTime.now().uptimeNanoseconds
                let report =
                    source == "sqlite"
                    ? try auditor.audit(store: Shared.open(story.path)) : try auditor.audit(exportAt: story.exportPath)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                #expect(report.passed)
                figures.append(
                    "\(source) threads=\(threads): \(report.entriesChecked) entries in "
                        + String(format: "%.3f s = %.0f entries/s", seconds, Double(report.entriesChecked) / seconds)
                )
            }
        }
        let key = try Ed25519PrivateKey.generate()
        let message = [UInt8](repeating: 1, count: 400)
        let signature = try key.sign(message)
        let start = DispatchTime.now().uptimeNanoseconds
        var valid = 0
        for _ in 0..<2_000 where key.publicKey.isValidSignature(signature, for: message) { valid += 1 }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        figures.append(String(format: "OpenSSL Ed25519 verify, one core: %.0f/s", Double(valid) / seconds))
        print("AUDIT THROUGHPUT\n" + figures.joined(separator: "\n"))
    }
}

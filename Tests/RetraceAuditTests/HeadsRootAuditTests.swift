import CanonicalJSON
import Foundation
import GRDB
import MerkleLog
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Testing

/// The audit recomputes the heads map from the log alone and compares it with every checkpoint.
@Suite("Audit of the heads map")
struct HeadsRootAuditTests {
    /// The story's checkpoint of `offset` (in size order) re-signed with the log key, committing to `heads`.
    static func resigned(offset: Int, heads: [UInt8]) throws -> (size: UInt64, note: String) {
        let story = Shared.story
        let note = try Attacker.query { db in
            try String.fetchOne(
                db,
                sql: "SELECT note FROM checkpoints ORDER BY size LIMIT 1 OFFSET ?",
                arguments: [offset]
            )
        }
        let checkpoint = try Checkpoint.open(try #require(note), verifiers: [story.logKey], origin: nil)
        #expect(checkpoint.headsRoot != nil, "the story's checkpoints commit to heads")
        let wrong = try Checkpoint(
            origin: checkpoint.origin,
            size: checkpoint.size,
            rootHash: checkpoint.rootHash,
            headsRoot: heads
        )
        return (checkpoint.size, try wrong.sign(with: story.parties.log).serialized)
    }

    @Test("a checkpoint whose heads root is wrong, signed by the log key, fails A20 naming that checkpoint")
    func wrongRootInSQLite() throws {
        let (size, note) = try Self.resigned(offset: 6, heads: [UInt8](repeating: 9, count: 32))
        let path = try Attacker.tamper("wrong-heads") { db in
            try db.execute(sql: "UPDATE checkpoints SET note = ? WHERE size = ?", arguments: [note, size])
        }
        expectDetected(try auditFile(path), index: size - 1, rule: AuditRule.headsRoot)
    }

    @Test("the same in an export: the first checkpoint whose heads root differs is named")
    func wrongRootInExport() throws {
        let story = Shared.story
        let (size, note) = try Self.resigned(offset: 3, heads: [UInt8](repeating: 0, count: 32))
        var lines = try story.exportLines()
        let original = try Attacker.query { db in
            try String.fetchOne(db, sql: "SELECT note FROM checkpoints WHERE size = ?", arguments: [Int64(size)])
        }
        let target = try #require(
            lines.firstIndex { line in
                guard case .object(let object)? = try? CanonicalJSONShim.decode(line) else { return false }
                return object["checkpoint"]?.stringValue == original
            }
        )
        lines[target] = try CanonicalJSON.encode(.object(["checkpoint": .string(note)]))
        let path = try story.writeExport(lines, name: "wrong-heads")
        let report = try Shared.auditor().audit(exportAt: path)
        expectDetected(report, index: size - 1, rule: AuditRule.headsRoot)
        #expect(report.firstFailure?.reason.contains("checkpoint \(size)'s heads root") == true)
        // The untouched export passes: every heads root is reproduced from the entries.
        #expect(try Shared.auditor().audit(exportAt: story.exportPath).passed)
    }

    @Test(
        "a ledger from before the map (no heads lines) audits clean, and its next checkpoint carries the map built from the log"
    )
    func migration() throws {
        let story = Shared.story
        let notes = try Attacker.query { db in
            try String.fetchAll(db, sql: "SELECT note FROM checkpoints ORDER BY size")
        }
        let path = try Attacker.tamper("pre-map") { db in
            for note in notes {
                let old = try Checkpoint.open(note, verifiers: [story.logKey], origin: nil)
                let plain = try Checkpoint(origin: old.origin, size: old.size, rootHash: old.rootHash)
                try db.execute(
                    sql: "UPDATE checkpoints SET note = ? WHERE size = ?",
                    arguments: [try plain.sign(with: story.parties.log).serialized, Int64(old.size)]
                )
            }
        }
        #expect(try auditFile(path).passed)
        let store = try SQLiteLedgerStore.open(path: path)
        let clock = Timestamp(secondsSinceEpoch: StoryLedger.start.secondsSinceEpoch + 86_400 * 400)
        let ledger = try Ledger.open(store: store, logSigner: story.parties.log, clock: { clock })
        let product = try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("AFTER-MAP-1"))
        let result = try ledger.append([
            try story.parties.sign(
                .commission,
                product: product,
                previous: nil,
                by: "northwind",
                at: clock,
                details: ["massGrams": .integer(900), "materials": .object(["aluminium": .integer(400)])]
            )
        ])
        let note = try #require(result.checkpoint)
        let checkpoint = try Checkpoint.open(note, verifiers: [story.logKey], origin: nil)
        #expect(checkpoint.headsRoot == result.headsRoot)
        let report = try Shared.auditor().audit(store: Shared.open(path))
        #expect(report.passed, "\(report.failures.prefix(3))")
    }

    @Test("an incremental audit from a checkpoint with a heads root checks the stored chain heads against it")
    func incremental() throws {
        let story = Shared.story
        let trusted = story.checkpoints[story.checkpoints.count / 2]
        #expect(try Shared.auditor().audit(store: Shared.open(story.path), since: trusted).passed)
        let size = try Checkpoint.open(trusted, verifiers: [story.logKey], origin: nil).size
        // A product's newest link below the trusted size deleted: the stored heads no longer give its root.
        let path = try Attacker.tamper("incremental-heads") { db in
            try db.execute(
                sql: """
                    DELETE FROM chain_links WHERE (chain, seq) = (SELECT chain, seq FROM chain_links
                    WHERE chain != 'roster' AND idx < ? ORDER BY idx DESC LIMIT 1)
                    """,
                arguments: [Int64(size)]
            )
        }
        let report = try Shared.auditor().audit(store: Shared.open(path), since: trusted)
        #expect(!report.passed)
        #expect(report.failures.contains { $0.rule == AuditRule.headsRoot }, "\(report.failures.prefix(3))")
    }
}

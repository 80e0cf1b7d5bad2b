import CanonicalJSON
import Foundation
import GRDB
import MerkleLog
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Testing

/// The tamper campaign on the export file: any line changed, dropped or swapped.
struct ExportTamperTests {
    /// The export's lines and, for each entry index, the line it is on.
    static func lines() throws -> (lines: [[UInt8]], lineOf: [UInt64: Int]) {
        let lines = try Shared.story.exportLines()
        var lineOf: [UInt64: Int] = [:]
        for (number, line) in lines.enumerated() where line.starts(with: Array("{\"entry\":".utf8)) {
            if case .object(let object) = try CanonicalJSON.decode(line), case .integer(let index)? = object["index"] {
                lineOf[UInt64(index)] = number
            }
        }
        return (lines, lineOf)
    }

    func audit(
        _ lines: [[UInt8]],
        _ name: String,
        keepGoing: Bool = false,
        finalNewline: Bool = true
    ) throws
        -> AuditReport
    {
        try Shared.auditor(keepGoing: keepGoing).audit(
            exportAt: Shared.story.writeExport(lines, name: name, finalNewline: finalNewline)
        )
    }

    static func edit(_ line: [UInt8], _ transform: (String) -> String) -> [UInt8] {
        Array(transform(String(decoding: line, as: UTF8.self)).utf8)
    }

    @Test(
        "a changed detail, signer, received time or index in one line is named at that entry",
        arguments: [0, 1, 2, 3]
    )
    func changedLine(variant: Int) throws {
        var (lines, lineOf) = try Self.lines()
        let target: UInt64 = 1_000 + UInt64(variant) * 97
        let number = try #require(lineOf[target])
        let woodgrove = try Digest(bytes: Shared.story.parties.signer("woodgrove").verifier.publicKey.fingerprint).hex
        let expected: String
        switch variant {
        case 0:
            lines[number] = Self.edit(lines[number]) { Attacker.replaceValue(of: "previous", in: $0, with: woodgrove) }
            expected = AuditRule.signature
        case 1:
            lines[number] = Self.edit(lines[number]) { Attacker.replaceValue(of: "signer", in: $0, with: woodgrove) }
            expected = AuditRule.signature
        case 2:
            lines[number] = Self.edit(lines[number]) {
                Attacker.replaceValue(of: "received", in: $0, with: "2026-01-01T00:00:00Z")
            }
            expected = AuditRule.receivedOrder
        default:
            lines[number] = Self.edit(lines[number]) {
                $0.replacingOccurrences(of: "\"index\":\(target)", with: "\"index\":\(target + 5)")
            }
            expected = AuditRule.entrySequence
        }
        expectDetected(try audit(lines, "changed-\(variant)"), index: target, rule: expected)
    }

    @Test("a line made non-canonical (a space added) is refused as malformed at that entry")
    func nonCanonical() throws {
        var (lines, lineOf) = try Self.lines()
        let number = try #require(lineOf[1_500])
        lines[number] = Self.edit(lines[number]) { $0.replacingOccurrences(of: "\"index\":", with: "\"index\": ") }
        expectDetected(try audit(lines, "spaced"), index: 1_500, rule: AuditRule.entryFormat)
    }

    @Test("a dropped entry line, and two swapped entry lines, are named at the first affected index")
    func droppedAndSwapped() throws {
        var (lines, lineOf) = try Self.lines()
        let dropped = lines
        var withoutOne = dropped
        withoutOne.remove(at: try #require(lineOf[700]))
        expectDetected(try audit(withoutOne, "dropped"), index: 700, rule: AuditRule.entrySequence)

        lines.swapAt(try #require(lineOf[900]), try #require(lineOf[1_300]))
        let report = try audit(lines, "swapped", keepGoing: true)
        #expect(report.firstFailure?.index == 900)
        #expect(report.failures.contains { $0.index == 1_300 })
    }

    @Test("a dropped newest checkpoint line leaves entries uncovered; a truncated file is named")
    func checkpointsAndTruncation() throws {
        let (lines, _) = try Self.lines()
        let lastCheckpoint = try #require(lines.lastIndex(where: isCheckpointLine))
        var withoutCheckpoint = lines
        withoutCheckpoint.remove(at: lastCheckpoint)
        let story = Shared.story
        let previous = try Checkpoint.open(
            story.checkpoints[story.checkpoints.count - 2],
            verifiers: [story.logKey],
            origin: nil
        )
        expectDetected(
            try audit(withoutCheckpoint, "no-checkpoint"),
            index: previous.size,
            rule: AuditRule.uncoveredEntries
        )

        // Cut in the middle of the last entry line.
        var cut = Array(lines.dropLast())
        cut[cut.count - 1] = Array(cut[cut.count - 1].prefix(40))
        let truncated = try audit(cut, "truncated", finalNewline: false)
        #expect(truncated.firstFailure?.rule == AuditRule.entrySequence)
        #expect(truncated.firstFailure?.index == story.entryCount - 1)
    }

    @Test("an export whose header names another log key fails as a header problem, not silently")
    func foreignHeader() throws {
        var (lines, _) = try Self.lines()
        let other = try NoteSigner.generate(name: "log.other.test").verifier.description
        lines[0] = Self.edit(lines[0]) { Attacker.replaceValue(of: "logKey", in: $0, with: other) }
        expectDetected(try audit(lines, "header"), index: nil, rule: AuditRule.header)
    }
}

func isCheckpointLine(_ line: [UInt8]) -> Bool { line.starts(with: Array("{\"checkpoint\":".utf8)) }

/// Incremental audits: only entries after the trusted checkpoint are judged, yet the products they
/// touch are re-verified from their earlier entries, each proven in the trusted root.
struct IncrementalAuditTests {
    static func trusted(_ position: Int) throws -> (note: String, size: UInt64) {
        let story = Shared.story
        let note = story.checkpoints[position]
        return (note, try Checkpoint.open(note, verifiers: [story.logKey], origin: nil).size)
    }

    @Test("an entry tampered after the trusted checkpoint is named at its index")
    func tamperedAfter() throws {
        let (note, size) = try Self.trusted(10)
        let target = try Attacker.index(of: "sell", offset: 250)
        #expect(target > size)
        let path = try Attacker.tamper("incremental-after") { db in
            try Attacker.rewrite(db, target) { $0.replacingOccurrences(of: "\"online\"", with: "\"onlinf\"") }
        }
        let report = try Shared.auditor().audit(store: Shared.open(path), since: note)
        expectDetected(report, index: target, rule: AuditRule.signature)
    }

    @Test("an earlier entry of a product touched later is re-verified against the trusted root")
    func tamperedBefore() throws {
        let (note, size) = try Self.trusted(10)
        // The last event before the trusted size of a product that has events after it too.
        let target: UInt64 = try Attacker.query { db in
            let index = try Int64.fetchOne(
                db,
                sql: "SELECT idx FROM chain_links WHERE idx < ? AND chain != 'roster' AND chain IN "
                    + "(SELECT chain FROM chain_links WHERE idx >= ?) ORDER BY idx DESC LIMIT 1",
                arguments: [size, size]
            )
            return UInt64(index ?? 0)
        }
        let path = try Attacker.tamper("incremental-before") { db in
            try Attacker.rewrite(db, target) { Attacker.replaceValue(of: "time", in: $0, with: "2026-03-02T09:00:01Z") }
        }
        let report = try Shared.auditor().audit(store: Shared.open(path), since: note)
        expectDetected(report, index: target, rule: AuditRule.consistency)
    }

    @Test("an earlier entry of a product touched later that cannot be unpacked is named, and the audit goes on")
    func unreadableBefore() throws {
        let (note, size) = try Self.trusted(10)
        let target: UInt64 = try Attacker.query { db in
            let index = try Int64.fetchOne(
                db,
                sql: "SELECT idx FROM chain_links WHERE idx < ? AND chain != 'roster' AND chain IN "
                    + "(SELECT chain FROM chain_links WHERE idx >= ?) ORDER BY idx DESC LIMIT 1",
                arguments: [size, size]
            )
            return UInt64(index ?? 0)
        }
        let path = try Attacker.tamper("incremental-unreadable") { db in
            let stored = try [UInt8](
                Data.fetchOne(db, sql: "SELECT bytes FROM entries WHERE idx = ?", arguments: [target]) ?? Data()
            )
            #expect(stored.first == 0x01, "entry \(target) is not stored packed")
            try db.execute(
                sql: "UPDATE entries SET bytes = ? WHERE idx = ?",
                arguments: [Data(stored + [0xF7]), target]
            )
        }
        let report = try Shared.auditor(keepGoing: true).audit(store: Shared.open(path), since: note)
        expectDetected(report, index: target, rule: AuditRule.entryFormat)
        #expect(report.firstFailure?.reason.contains("invalid token") == true, "\(report.failures)")
        #expect(report.entriesChecked == Shared.story.entryCount - size)
    }

    @Test(
        "a history rewritten and re-signed by the log operator fails the consistency proof from the trusted checkpoint"
    )
    func rewrittenHistory() throws {
        // Same keys, another story: the operator's second history.
        let other = try StoryLedger.build(products: 40, seed: 3)
        defer { other.remove() }
        let (note, size) = try Self.trusted(2)
        #expect(other.entryCount > size)
        let auditor = Shared.auditor()
        let full = try auditor.audit(store: Shared.open(other.path))
        #expect(full.passed, "an auditor who never saw the old checkpoints accepts the rewritten ledger")
        let report = try auditor.audit(store: Shared.open(other.path), since: note)
        expectDetected(report, index: size, rule: AuditRule.consistency)
    }

    @Test("a ledger rolled back behind the trusted checkpoint is refused")
    func rolledBack() throws {
        let story = Shared.story
        let newest = try #require(story.checkpoints.last)
        let path = try Attacker.tamper("rollback") { db in
            try db.execute(sql: "DELETE FROM checkpoints WHERE size = (SELECT MAX(size) FROM checkpoints)")
        }
        let report = try Shared.auditor().audit(store: Shared.open(path), since: newest)
        #expect(report.firstFailure?.rule == AuditRule.consistency, "\(report.failures)")
    }
}

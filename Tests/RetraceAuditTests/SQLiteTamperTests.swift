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

/// The tamper campaign on the SQLite file: every stored field class, deleted and reordered rows,
/// moved events, checkpoints, truncation and splicing. Each must be found at the right index.
struct SQLiteTamperTests {
    // MARK: Entry bytes (a careful attacker also fixes the leaf hash and id columns)

    @Test("a changed byte in a statement's details breaks its signature at that index")
    func detailsByte() throws {
        let target = try Attacker.index(of: "sell", offset: 200)
        let path = try Attacker.tamper("details") { db in
            try Attacker.rewrite(db, target) { $0.replacingOccurrences(of: "\"online\"", with: "\"onlinf\"") }
        }
        expectDetected(
            try auditFile(path),
            index: target,
            rule: AuditRule.signature,
            product: try Attacker.product(at: target)
        )
    }

    @Test("a naive edit of entry bytes is caught by the stored leaf hash at that index")
    func detailsByteNaive() throws {
        let target = try Attacker.index(of: "inspect", offset: 37)
        let path = try Attacker.tamper("details-naive") { db in
            try Attacker.rewrite(db, target, fixColumns: false) {
                $0.replacingOccurrences(of: "\"as-new\"", with: "\"as-new!\"")
            }
        }
        expectDetected(try auditFile(path), index: target, rule: AuditRule.storedLeafHash)
    }

    @Test("entries are stored packed, and a changed packed byte is caught at that index")
    func packedByte() throws {
        let target = try Attacker.index(of: "sell", offset: 120)
        let stored = try Attacker.query { db in
            try [UInt8](
                Data.fetchOne(db, sql: "SELECT bytes FROM entries WHERE idx = ?", arguments: [target]) ?? Data()
            )
        }
        #expect(stored.first == 0x01, "entry \(target) is not stored packed")
        // Byte 20 lies inside the packed signature: the entry unpacks to other bytes.
        let path = try Attacker.tamper("packed-byte") { db in
            var changed = stored
            changed[20] ^= 0x40
            try db.execute(sql: "UPDATE entries SET bytes = ? WHERE idx = ?", arguments: [Data(changed), target])
        }
        expectDetected(try auditFile(path), index: target, rule: AuditRule.storedLeafHash)

        let invalid = try Attacker.tamper("packed-token") { db in
            try db.execute(
                sql: "UPDATE entries SET bytes = ? WHERE idx = ?",
                arguments: [Data(stored + [0xF7]), target]
            )
        }
        // A finding at that index, and the audit goes on after it: the tree carries on with the
        // stored leaf hash (the checkpoints' roots still agree), every entry is counted.
        let report = try auditFile(invalid, keepGoing: true)
        expectDetected(report, index: target, rule: AuditRule.entryFormat)
        #expect(
            report.firstFailure?.reason.contains("entry \(target): a packed entry has the invalid token") == true,
            "\(report.failures)"
        )
        #expect(report.entriesChecked == Shared.story.entryCount)
        #expect(!report.failures.contains { $0.rule == AuditRule.checkpointRoot }, "\(report.failures)")
    }

    @Test("a changed statement time, signer or signature is refused at that index")
    func timeSignerSignature() throws {
        let target = try Attacker.index(of: "receive", offset: 99)
        let time = try Attacker.tamper("time") { db in
            try Attacker.rewrite(db, target) { Attacker.replaceValue(of: "time", in: $0, with: "2026-03-02T09:00:01Z") }
        }
        expectDetected(try auditFile(time), index: target, rule: AuditRule.signature)

        let woodgrove = try Digest(bytes: Shared.story.parties.signer("woodgrove").verifier.publicKey.fingerprint).hex
        let signer = try Attacker.tamper("signer") { db in
            try Attacker.rewrite(db, target) { Attacker.replaceValue(of: "signer", in: $0, with: woodgrove) }
        }
        expectDetected(try auditFile(signer), index: target, rule: AuditRule.signature)

        let other = try Attacker.query { db in try Attacker.bytes(db, target + 1) }
        let otherSignature = try LogEntry(parsing: other).signed.signature
        let signature = try Attacker.tamper("signature") { db in
            try Attacker.rewrite(db, target) {
                Attacker.replaceValue(of: "signature", in: $0, with: Base64.encode(otherSignature))
            }
        }
        expectDetected(try auditFile(signature), index: target, rule: AuditRule.signature)
    }

    @Test("a received time moved backwards is refused at that index, and the checkpoint root no longer matches")
    func receivedTime() throws {
        let target = try Attacker.index(of: "sell", offset: 230)
        let path = try Attacker.tamper("received") { db in
            try Attacker.rewrite(db, target) {
                Attacker.replaceValue(of: "received", in: $0, with: "2026-01-01T00:00:00Z")
            }
        }
        expectDetected(try auditFile(path), index: target, rule: AuditRule.receivedOrder)
        let all = try auditFile(path, keepGoing: true)
        #expect(all.failures.contains { $0.rule == AuditRule.checkpointRoot && ($0.index ?? .max) <= target })
    }

    @Test("a stored leaf_hash, event_id or Merkle node changed alone is named at its index")
    func derivedColumns() throws {
        let target = try Attacker.index(of: "ship", offset: 10)
        let leaf = try Attacker.tamper("leaf") { db in
            try db.execute(sql: "UPDATE entries SET leaf_hash = zeroblob(32) WHERE idx = ?", arguments: [target])
        }
        expectDetected(try auditFile(leaf), index: target, rule: AuditRule.storedLeafHash)

        let eventID = try Attacker.tamper("event-id") { db in
            try db.execute(sql: "UPDATE entries SET event_id = zeroblob(32) WHERE idx = ?", arguments: [target])
        }
        expectDetected(try auditFile(eventID), index: target, rule: AuditRule.storedColumns)

        let node = try Attacker.tamper("node") { db in
            try db.execute(sql: "UPDATE nodes SET hash = zeroblob(32) WHERE level = 3 AND idx = 100")
        }
        expectDetected(try auditFile(node), index: 800, rule: AuditRule.storedNodes)

        let missingNode = try Attacker.tamper("node-missing") { db in
            try db.execute(sql: "DELETE FROM nodes WHERE level = 0 AND idx = ?", arguments: [target])
        }
        expectDetected(try auditFile(missingNode), index: target, rule: AuditRule.storedNodes)

        // The last leaf ends its chunk's run of level-0 nodes: no stored node follows it in the
        // range read.
        let last = try Attacker.query { db in try UInt64.fetchOne(db, sql: "SELECT MAX(idx) FROM entries") } ?? 0
        let missingLast = try Attacker.tamper("node-missing-last") { db in
            try db.execute(sql: "DELETE FROM nodes WHERE level = 0 AND idx = ?", arguments: [last])
        }
        expectDetected(try auditFile(missingLast), index: last, rule: AuditRule.storedNodes)
    }

    @Test("a changed batch member is refused at the batch statement's index")
    func memberBytes() throws {
        let batch = try Attacker.index(of: "recycle", offset: 5)
        let path = try Attacker.tamper("member") { db in
            try db.execute(
                sql: "UPDATE batch_members SET bytes = CAST(replace(CAST(bytes AS TEXT), '/21/S', '/21/T') AS BLOB) "
                    + "WHERE idx = ? AND position = 1",
                arguments: [batch]
            )
        }
        expectDetected(try auditFile(path), index: batch, rule: AuditRule.batchMembers)

        let dropped = try Attacker.tamper("member-dropped") { db in
            try db.execute(sql: "DELETE FROM batch_members WHERE idx = ? AND position = 0", arguments: [batch])
        }
        expectDetected(try auditFile(dropped), index: batch, rule: AuditRule.batchMembers)
    }

    @Test("a changed chain link (state, or an entry it names) or product passport is named at the link's index")
    func chainLinksAndProducts() throws {
        let target = try Attacker.index(of: "sell", offset: 50)
        let product = try Attacker.product(at: target)
        // Only the head link stores a state (schema 2): a superseded link given one (the head's, so
        // valid JSON of a real state, but not the state after this step) ...
        let state = try Attacker.tamper("link-state") { db in
            try db.execute(
                sql: "UPDATE chain_links SET state = (SELECT state FROM chain_links WHERE chain = ? "
                    + "ORDER BY seq DESC LIMIT 1) WHERE chain = ? AND idx = ?",
                arguments: [product, product, target]
            )
        }
        expectDetected(try auditFile(state), index: target, rule: AuditRule.storedChainLinks, product: product)
        // ... the head's state changed (the next append would judge from it) or emptied.
        let head = try #require(
            try Attacker.query { db in
                try Int64.fetchOne(
                    db,
                    sql: "SELECT idx FROM chain_links WHERE chain = ? ORDER BY seq DESC LIMIT 1",
                    arguments: [product]
                )
            }
        )
        let headEdits = [
            (
                "head-state",
                "UPDATE chain_links SET state = CAST(replace(CAST(state AS TEXT), '\"phase\":\"', '\"phase\":\"x') "
                    + "AS BLOB) WHERE chain = ? AND idx = ? AND instr(CAST(state AS TEXT), '\"phase\":\"') > 0"
            ),
            ("head-state-emptied", "UPDATE chain_links SET state = x'' WHERE chain = ? AND idx = ?"),
        ]
        for (name, sql) in headEdits {
            let path = try Attacker.tamper(name) { db in
                try db.execute(sql: sql, arguments: [product, head])
                #expect(db.changesCount == 1, "\(name)")
            }
            expectDetected(try auditFile(path), index: UInt64(head), rule: AuditRule.storedChainLinks, product: product)
        }

        // A link's event id is its entry's (schema 4): a link pointed at another product's entry
        // names that entry's event, which the replayed chain does not have; the replay of the
        // stored links names the entry it was pointed at ...
        let moved = try Attacker.tamper("link-moved") { db in
            try db.execute(
                sql: "UPDATE chain_links SET idx = ? WHERE chain = ? AND idx = ?",
                arguments: [target - 1, product, target]
            )
        }
        expectDetected(try auditFile(moved), index: target - 1, rule: AuditRule.storedChainLinks, product: product)
        // ... and pointing a link at an entry the ledger does
        // not hold is found, not a reason to stop.
        let dangling = try Attacker.tamper("link-dangling") { db in
            try db.execute(
                sql: "UPDATE chain_links SET idx = 4000000000 WHERE chain = ? AND idx = ?",
                arguments: [product, target]
            )
        }
        let danglingReport = try auditFile(dangling)
        expectDetected(danglingReport, index: UInt64(head), rule: AuditRule.storedChainLinks, product: product)
        #expect(
            danglingReport.firstFailure?.reason.contains("points at entry 4000000000, which the ledger does not hold")
                == true,
            "\(danglingReport.failures)"
        )

        let deleted = try Attacker.tamper("link-deleted") { db in
            try db.execute(sql: "DELETE FROM chain_links WHERE chain = ? AND idx = ?", arguments: [product, target])
        }
        #expect(try auditFile(deleted).firstFailure?.rule == AuditRule.storedChainLinks)

        let commission = try Attacker.query { db in
            try Int64.fetchOne(db, sql: "SELECT idx FROM chain_links WHERE chain = ? AND seq = 0", arguments: [product])
        }
        let passport = try Attacker.tamper("passport") { db in
            try db.execute(sql: "UPDATE products SET passport = zeroblob(32) WHERE product = ?", arguments: [product])
        }
        expectDetected(
            try auditFile(passport),
            index: commission.map(UInt64.init),
            rule: AuditRule.storedProducts,
            product: product
        )
        // The row's serial and GTIN must make the product's own Digital Link: a dock looks up
        // scanned serials by that column.
        for (column, sql) in [
            ("serial", "UPDATE products SET serial = serial || '9' WHERE product = ?"),
            ("serial-invalid", "UPDATE products SET serial = serial || ' ' WHERE product = ?"),
        ] {
            let tampered = try Attacker.tamper(column) { db in try db.execute(sql: sql, arguments: [product]) }
            expectDetected(
                try auditFile(tampered),
                index: commission.map(UInt64.init),
                rule: AuditRule.storedProducts,
                product: product
            )
        }
    }

    @Test("stored links and products rows of a product the log never commissioned are found by a full audit")
    func inventedRows() throws {
        let target = try Attacker.index(of: "sell", offset: 50)
        let product = try Attacker.product(at: target)
        // A copy of a real product's rows under a key no entry names: a verdict that trusted the
        // derived tables would find a history there.
        let invented = product + "7"
        let links = try Attacker.tamper("invented-links") { db in
            try db.execute(
                sql: "INSERT INTO chain_links (chain, seq, idx, state) SELECT ?, seq, idx, state FROM chain_links "
                    + "WHERE chain = ?",
                arguments: [invented, product]
            )
        }
        for report in [try auditFile(links), try auditFile(links, keepGoing: true)] {
            expectDetected(report, index: nil, rule: AuditRule.storedChainLinks, product: invented)
            #expect(report.failures.count == 1, "\(report.failures)")
            #expect(report.firstFailure?.reason.contains("for a chain no entry of the log extends") == true)
        }
        let row = try Attacker.tamper("invented-product") { db in
            try db.execute(
                sql: "INSERT INTO products (product, gtin, serial, passport) SELECT ?, gtin, serial || '7', passport "
                    + "FROM products WHERE product = ?",
                arguments: [invented, product]
            )
        }
        expectDetected(try auditFile(row), index: nil, rule: AuditRule.storedProducts, product: invented)
        // Before every real key and after them all: the ranges' open ends are read too.
        for (name, key) in [("invented-first", "class/0"), ("invented-last", "zzz")] {
            let path = try Attacker.tamper(name) { db in
                try db.execute(
                    sql: "INSERT INTO chain_links (chain, seq, idx, state) VALUES (?, 0, 0, x'')",
                    arguments: [key]
                )
            }
            expectDetected(try auditFile(path), index: nil, rule: AuditRule.storedChainLinks, product: key)
        }
    }

    @Test("a stored link row that cannot be read stops the end of the audit alike on one and two threads")
    func unreadableLinkRow() throws {
        let target = try Attacker.index(of: "sell", offset: 50)
        let product = try Attacker.product(at: target)
        // A link whose sequence is text: the range read of the end cannot make a link of it. On two
        // threads that read is on the reading thread while a helper compares: the error must reach
        // the caller, not hang either thread.
        let path = try Attacker.tamper("link-sequence-text") { db in
            try db.execute(sql: "UPDATE chain_links SET seq = 'x' WHERE chain = ? AND seq = 0", arguments: [product])
        }
        var outcomes: [String] = []
        for (threads, resident) in [(2, Auditor.defaultResidentChains), (2, 8), (1, 8)] {
            let outcome = Result {
                try Shared.auditor(threads: threads, residentChains: resident).audit(store: Shared.open(path))
            }
            switch outcome {
            case .success(let report): outcomes.append("report: \(report.failures)")
            case .failure(let error): outcomes.append("error: \(error)")
            }
        }
        #expect(outcomes.first?.contains("expected an integer") == true, "\(outcomes)")
        #expect(Set(outcomes).count == 1, "\(outcomes)")
    }

    // MARK: Rows deleted, reordered, moved

    @Test("a deleted entry row is named at its index")
    func deletedEntry() throws {
        let target = try Attacker.index(of: "return-authorize", offset: 77)
        let path = try Attacker.tamper("delete") { db in
            try db.execute(sql: "DELETE FROM entries WHERE idx = ?", arguments: [target])
        }
        expectDetected(try auditFile(path), index: target, rule: AuditRule.entrySequence)
    }

    @Test("two entries swapped are named at the first; with all their columns swapped too, both positions fail")
    func swappedEntries() throws {
        let first = try Attacker.index(of: "sell", offset: 120)
        let second = try Attacker.index(of: "sell", offset: 240)
        let bytesOnly = try Attacker.tamper("swap") { db in
            let a = try Attacker.bytes(db, first)
            let b = try Attacker.bytes(db, second)
            try Attacker.store(db, first, b, fixColumns: false)
            try Attacker.store(db, second, a, fixColumns: false)
        }
        expectDetected(try auditFile(bytesOnly), index: first, rule: AuditRule.storedLeafHash)

        let careful = try Attacker.tamper("swap-careful") { db in
            let a = try Attacker.bytes(db, first)
            let b = try Attacker.bytes(db, second)
            try db.execute(sql: "UPDATE entries SET event_id = zeroblob(32) WHERE idx = ?", arguments: [first])
            try Attacker.store(db, second, a)
            try Attacker.store(db, first, b)
        }
        let report = try auditFile(careful, keepGoing: true)
        #expect(!report.passed)
        let indexes = Set(report.failures.compactMap(\.index))
        #expect(indexes.contains(first), "\(report.failures.prefix(5))")
        #expect(indexes.contains(second), "\(report.failures.prefix(5))")
        #expect((report.firstFailure?.index ?? .max) <= first + 1, "\(report.failures.prefix(5))")
    }

    @Test("an event moved to another product (rewritten, not re-signed) is refused at its index")
    func movedEvent() throws {
        let target = try Attacker.index(of: "sell", offset: 90)
        let product = try Attacker.product(at: target)
        let other = try Attacker.product(at: try Attacker.index(of: "sell", offset: 91))
        let path = try Attacker.tamper("move") { db in
            try Attacker.rewrite(db, target) {
                $0.replacingOccurrences(of: "\"product\":\"\(product)\"", with: "\"product\":\"\(other)\"")
            }
        }
        expectDetected(try auditFile(path), index: target, rule: AuditRule.signature, product: other)
    }

    // MARK: Checkpoints

    @Test("a replaced checkpoint note, a changed root column, and a dropped newest checkpoint are each found")
    func checkpoints() throws {
        let story = Shared.story
        let (size, otherNote): (UInt64, String) = try Attacker.query { db in
            let sizes = try Int64.fetchAll(db, sql: "SELECT size FROM checkpoints ORDER BY size")
            let note = try String.fetchOne(
                db,
                sql: "SELECT note FROM checkpoints WHERE size = ?",
                arguments: [sizes[5]]
            )
            return (UInt64(sizes[10]), note ?? "")
        }
        let replaced = try Attacker.tamper("checkpoint-note") { db in
            try db.execute(sql: "UPDATE checkpoints SET note = ? WHERE size = ?", arguments: [otherNote, size])
        }
        expectDetected(try auditFile(replaced), index: size - 1, rule: AuditRule.checkpointRoot)

        let forged = try Checkpoint(origin: TestParties.origin, size: size, rootHash: [UInt8](repeating: 1, count: 32))
            .sign(with: story.parties.signer("woodgrove")).serialized
        let unsigned = try Attacker.tamper("checkpoint-forged") { db in
            try db.execute(sql: "UPDATE checkpoints SET note = ? WHERE size = ?", arguments: [forged, size])
        }
        expectDetected(try auditFile(unsigned), index: size - 1, rule: AuditRule.checkpointSignature)

        let root = try Attacker.tamper("checkpoint-root") { db in
            try db.execute(sql: "UPDATE checkpoints SET root = zeroblob(32) WHERE size = ?", arguments: [size])
        }
        expectDetected(try auditFile(root), index: size - 1, rule: AuditRule.checkpointRoot)

        let previous = try Checkpoint.open(
            story.checkpoints[story.checkpoints.count - 2],
            verifiers: [story.logKey],
            origin: nil
        )
        let dropped = try Attacker.tamper("checkpoint-dropped") { db in
            try db.execute(sql: "DELETE FROM checkpoints WHERE size = (SELECT MAX(size) FROM checkpoints)")
        }
        expectDetected(try auditFile(dropped), index: previous.size, rule: AuditRule.uncoveredEntries)
    }

    @Test("entries removed from the end under a signed checkpoint are found; a truncated file is refused or found")
    func truncation() throws {
        let story = Shared.story
        let cut = story.entryCount - 150
        let removed = try Attacker.tamper("tail") { db in
            try db.execute(sql: "DELETE FROM entries WHERE idx >= ?", arguments: [cut])
        }
        let report = try auditFile(removed)
        #expect(!report.passed)
        #expect(report.firstFailure?.index == cut, "\(report.firstFailure?.description ?? "")")
        #expect(report.firstFailure?.rule == AuditRule.entrySequence)

        let truncated = try story.copy("truncated")
        let handle = try #require(FileHandle(forWritingAtPath: truncated))
        let length = try handle.seekToEnd()
        try handle.truncate(atOffset: length / 2)
        try handle.close()
        do {
            let report = try auditFile(truncated)
            #expect(!report.passed)
        } catch {
            #expect(error is AuditError || error is StorageError, "\(error)")
        }
    }

    // MARK: Splicing

    @Test("entries spliced in from another ledger, signed by that ledger's own keys, are refused at their index")
    func splice() throws {
        let foreign = try StoryLedger.build(
            products: 4,
            seed: 9,
            foreign: .init(
                log: NoteSigner.generate(name: "log.other.test"),
                governance: NoteSigner.generate(name: "gov.other.test"),
                northwind: NoteSigner.generate(name: "northwind.other.test")
            )
        )
        defer { foreign.remove() }
        let auditOwn = try Auditor(trustRoots: foreign.governance, logKey: foreign.logKey, origin: TestParties.origin)
            .audit(store: Shared.open(foreign.path))
        #expect(auditOwn.passed, "\(auditOwn.failures.prefix(3))")
        let queue = try DatabaseQueue(path: foreign.path, configuration: Attacker.readOnly)
        let (foreignRoster, foreignCommission) = try queue.read { db in
            (try Attacker.bytes(db, 0), try Attacker.bytes(db, 1))
        }
        try queue.close()

        let target = try Attacker.index(of: "commission", offset: 200)
        let event = try Attacker.tamper("splice-event") { db in try Attacker.store(db, target, foreignCommission) }
        expectDetected(try auditFile(event), index: target, rule: AuditRule.signature)

        let roster = try Attacker.tamper("splice-roster") { db in try Attacker.store(db, target, foreignRoster) }
        expectDetected(try auditFile(roster), index: target, rule: AuditRule.roster)

        // The other ledger's own checkpoints do not verify under this auditor's log key.
        let foreignNote = try #require(foreign.checkpoints.last)
        let note = try Attacker.tamper("splice-checkpoint") { db in
            try db.execute(
                sql: "UPDATE checkpoints SET note = ? WHERE size = (SELECT MAX(size) FROM checkpoints)",
                arguments: [foreignNote]
            )
        }
        expectDetected(
            try auditFile(note),
            index: Shared.story.entryCount - 1,
            rule: AuditRule.checkpointSignature
        )
    }

    @Test("a roster update changed after the fact is refused at its index")
    func rosterUpdate() throws {
        let target = try Attacker.index(of: "roster", offset: 1)
        #expect(target > 100)
        let path = try Attacker.tamper("roster") { db in
            try Attacker.rewrite(db, target) {
                Attacker.replaceValue(of: "time", in: $0, with: "2026-03-03T00:00:00Z")
            }
        }
        expectDetected(try auditFile(path), index: target, rule: AuditRule.roster, product: Ledger.rosterChain)
        let all = try auditFile(path, keepGoing: true)
        #expect(all.failures.contains { $0.index == target && $0.rule == AuditRule.roster })
    }

    @Test("keep going lists every failure of a ledger tampered in three places, in log order")
    func keepGoing() throws {
        let a = try Attacker.index(of: "sell", offset: 10)
        let b = try Attacker.index(of: "inspect", offset: 200)
        let c = try Attacker.index(of: "commission", offset: 250)
        let path = try Attacker.tamper("three") { db in
            try Attacker.rewrite(db, a) { $0.replacingOccurrences(of: "\"online\"", with: "\"onlinf\"") }
            try Attacker.rewrite(db, b) { $0.replacingOccurrences(of: "\"as-new\"", with: "\"good\"") }
            try Attacker.rewrite(db, c) { $0.replacingOccurrences(of: "L2026-03", with: "L2026-04") }
        }
        let report = try auditFile(path, keepGoing: true)
        let signatures = report.failures.filter { $0.rule == AuditRule.signature }.compactMap(\.index)
        #expect(signatures == [a, b, c], "\(report.failures)")
        #expect(report.entriesChecked == Shared.story.entryCount)
    }
}

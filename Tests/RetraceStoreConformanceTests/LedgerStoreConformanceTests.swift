import Foundation
import MerkleLog
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import Synchronization
import Testing

/// One suite, every storage engine: what the ledger above relies on (atomic, durable, serialised
/// write transactions; consistent reads; append-only tables; the same refusals) holds on SQLite and
/// on PostgreSQL alike, and a ledger written on either has the same bytes, roots and audit.
@Suite("LedgerStore conformance, SQLite and PostgreSQL", .serialized)
struct LedgerStoreConformanceTests {
    static let parties: TestParties = {
        do { return try TestParties() } catch { preconditionFailure("embedded test keys do not load: \(error)") }
    }()

    static func entry(_ index: UInt64, id: UInt8? = nil) -> StoredEntry {
        StoredEntry(
            index: index,
            eventID: [UInt8](repeating: id ?? UInt8(truncatingIfNeeded: index), count: 32),
            type: "commission",
            received: 1,
            leafHash: [UInt8](repeating: 1, count: 32),
            bytes: Array("{}".utf8),
            members: []
        )
    }

    /// A ledger with the test parties' first roster and a fixed clock, so two backends give the same bytes.
    static func ledger(on store: any LedgerStore) throws -> Ledger {
        try Ledger.create(
            store: store,
            origin: TestParties.origin,
            logSigner: parties.log,
            governance: [parties.governance.verifier],
            roster: parties.signedRoster(time: Timestamp(secondsSinceEpoch: 1_704_067_200)),
            clock: { Timestamp(secondsSinceEpoch: 1_900_000_000) }
        )
    }

    static func statements(_ events: Int) throws -> [SignedStatement] {
        var configuration = LedgerGenerator.Configuration.forEvents(events, seed: 3)
        configuration.cohortSize = 24
        configuration.returnRate = 0.9
        return try LedgerGenerator(configuration: configuration, parties: parties).collect()
    }

    @Test(
        "Range reads of links and products follow the keys' bytes, meet end to end, and see held rows",
        arguments: Backend.allCases
    )
    func rangeReads(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let store = try location.create()
        // Bytewise order: "Z" (0x5A) < "e" + U+0301 (0x65 0xCC 0x81) < "f" < "é" (0xC3 0xA9). Swift's
        // own `<` calls the two spellings of é equal, and a Unicode collation puts "Z" last.
        let keys = ["f", "\u{E9}", "Z", "e\u{301}"]
        let sorted = ["Z", "e\u{301}", "f", "\u{E9}"]
        try store.write { writer in
            for index in 0..<8 { try writer.insert(entry: Self.entry(UInt64(index))) }
            var index: UInt64 = 0
            for key in keys {
                for sequence in 0..<2 {
                    try writer.insert(
                        link: ChainLink(
                            chain: key,
                            sequence: Int64(sequence),
                            index: index,
                            eventID: [],
                            state: Array("\(key)\(sequence)".utf8)
                        )
                    )
                    index += 1
                }
                try writer.insert(
                    product: ProductRow(product: key, gtin: "09506000134352", serial: key, passport: [UInt8(index)])
                )
            }
        }
        func chains(_ links: [ChainLink]) -> [[UInt8]] { links.map { Array($0.chain.utf8) } }
        let bytes = sorted.map { Array($0.utf8) }
        let all = try store.read { try $0.chainLinks(after: nil, through: nil) }
        #expect(chains(all) == bytes.flatMap { [$0, $0] })
        #expect(all.map(\.sequence) == [0, 1, 0, 1, 0, 1, 0, 1])
        #expect(all.allSatisfy { $0.eventID.isEmpty })
        // Only the head keeps its state (the superseded link was emptied when the next was stored).
        #expect(all.map { String(decoding: $0.state, as: UTF8.self) } == sorted.flatMap { ["", "\($0)1"] })
        let products = try store.read { try $0.products(after: nil, through: nil) }
        #expect(products.map { Array($0.product.utf8) } == bytes)
        // Ranges (after, through] meeting end to end cover every row once.
        let bounds: [String?] = [nil, "e\u{301}", "e\u{301}z", "\u{E9}", nil]
        var pieces: [ChainLink] = []
        var rows: [ProductRow] = []
        for (lower, upper) in zip(bounds.dropLast(), bounds.dropFirst()) {
            pieces += try store.read { try $0.chainLinks(after: lower, through: upper) }
            rows += try store.read { try $0.products(after: lower, through: upper) }
        }
        #expect(pieces == all)
        #expect(rows == products)
        #expect(try store.read { try $0.chainLinks(after: "e\u{301}", through: "f") }.map(\.chain) == ["f", "f"])
        #expect(try store.read { try $0.products(after: "\u{E9}", through: nil) }.isEmpty)
        // Rows written in the same transaction are seen (PostgreSQL holds them until a read needs them).
        try store.write { writer in
            try writer.insert(
                link: ChainLink(chain: "a", sequence: 0, index: 0, eventID: [], state: Array("a0".utf8))
            )
            try writer.insert(product: ProductRow(product: "a", gtin: "09506000134352", serial: "a", passport: [9]))
            #expect(try writer.chainLinks(after: "Z", through: "a").map(\.chain) == ["a"])
            #expect(try writer.products(after: "Z", through: "a").map(\.product) == ["a"])
        }
    }

    @Test(
        "A new store is empty; create refuses an existing ledger; open of nothing is notFound",
        arguments: Backend.allCases
    )
    func createAndOpen(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        #expect(throws: StorageError(.notFound, "")) { try location.open() }
        let store = try location.create()
        #expect(try store.read { try $0.treeSize() } == 0)
        #expect(try store.read { try $0.latestCheckpoint() } == nil)
        #expect(throws: StorageError(.alreadyExists, "")) { try location.create() }
        #expect(try location.open().read { try $0.treeSize() } == 0)
    }

    @Test("Every ledger table refuses UPDATE and DELETE in the database itself", arguments: Backend.allCases)
    func appendOnly(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let store = try location.create()
        try store.write { writer in
            try writer.insert(entry: Self.entry(0))
            try writer.insert(nodes: [(NodeID(level: 0, index: 0), [UInt8](repeating: 1, count: 32))])
            try writer.setMetadata("format", "retrace/v1")
            try writer.insert(checkpoint: StoredCheckpoint(size: 1, root: [UInt8](repeating: 1, count: 32), note: "n"))
            try writer.insert(
                link: ChainLink(chain: "p", sequence: 0, index: 0, eventID: Self.entry(0).eventID, state: [])
            )
            try writer.insert(product: ProductRow(product: "p", gtin: "g", serial: "s", passport: [1]))
        }
        for sql in [
            "UPDATE entries SET bytes = '\\x00'", "DELETE FROM entries", "UPDATE nodes SET hash = '\\x00'",
            "DELETE FROM nodes", "DELETE FROM meta", "UPDATE checkpoints SET note = ''", "DELETE FROM chain_links",
            "DELETE FROM products",
        ] {
            let sqliteSQL = sql.replacingOccurrences(of: "'\\x00'", with: "x'00'")
            let (accepted, message) = try location.rawExecute(backend == .sqlite ? sqliteSQL : sql)
            #expect(!accepted, "\(sql) was accepted")
            #expect(message.contains("append-only"), "\(sql): \(message)")
        }
        if backend == .postgres {
            #expect(!(try location.rawExecute("TRUNCATE entries").accepted))
        }
        #expect(try store.read { try $0.treeSize() } == 1)
        #expect(try store.read { try $0.entry(at: 0) } == Self.entry(0))
    }

    @Test(
        "Only a chain's head keeps its derived state: the one UPDATE the schema allows empties a superseded one",
        arguments: Backend.allCases
    )
    func headKeepsState(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let store = try location.create()
        func link(_ chain: String, _ sequence: Int64, _ state: String) -> ChainLink {
            ChainLink(
                chain: chain,
                sequence: sequence,
                index: UInt64(sequence),
                eventID: [UInt8](repeating: UInt8(sequence), count: 32),
                state: Array(state.utf8)
            )
        }
        func states(_ chain: String) throws -> [String] {
            try store.read { try $0.chain(chain) }.map { String(decoding: $0.state, as: UTF8.self) }
        }
        // The entries the links name: a link's event id is read from its entry (schema 4).
        try store.write { writer in for index in 0..<3 { try writer.insert(entry: Self.entry(UInt64(index))) } }
        try store.write { try $0.insert(link: link("p", 0, "a")) }
        try store.write { try $0.insert(link: link("p", 1, "b")) }
        #expect(try states("p") == ["", "b"])
        // Three links in one transaction (on PostgreSQL, one batch of held rows).
        try store.write { writer in
            for (sequence, state) in ["x", "y", "z"].enumerated() {
                try writer.insert(link: link("q", Int64(sequence), state))
            }
        }
        #expect(try states("q") == ["", "", "z"])
        if backend == .postgres {
            // Sent together, a superseded link goes out already empty: no UPDATE, so no row version
            // left for vacuum (an updated row moves past the rows inserted after it).
            let order = try location.rawExecute(
                """
                SELECT CASE WHEN (SELECT ctid FROM chain_links WHERE chain = 'q' AND seq = 0)
                    < (SELECT ctid FROM chain_links WHERE chain = 'q' AND seq = 2) THEN 'in-place' ELSE 'rewritten' END
                """
            )
            #expect(order.message.contains("in-place"), "\(order.message)")
        }
        #expect(try store.read { try $0.head(of: "q") }?.state == Array("z".utf8))
        // A refused group leaves the superseded link's state where it was.
        struct Refused: Error {}
        try store.write { writer in
            _ = try? writer.withSavepoint {
                try writer.insert(link: link("p", 2, "c"))
                _ = try writer.chain("p")  // sends held rows on PostgreSQL, so the UPDATE runs inside the group
                throw Refused()
            }
        }
        #expect(try states("p") == ["", "b"])
        // Outside Retrace: emptying the head's state, giving a superseded link a state, or changing
        // any other column of a link are all refused.
        for sql in [
            "UPDATE chain_links SET state = '' WHERE chain = 'p' AND seq = 1",
            "UPDATE chain_links SET state = 'b' WHERE chain = 'p' AND seq = 0",
            "UPDATE chain_links SET idx = 7 WHERE chain = 'p' AND seq = 0",
            "UPDATE chain_links SET chain = 'r' WHERE chain = 'q' AND seq = 1",
        ] {
            let (accepted, message) = try location.rawExecute(
                backend == .sqlite ? sql.replacingOccurrences(of: "''", with: "x''") : sql
            )
            #expect(!accepted, "\(sql) was accepted")
            #expect(message.contains("append-only"), "\(sql): \(message)")
        }
        #expect(try states("p") == ["", "b"])
    }

    @Test(
        "A schema 1 ledger (a state at every link) reads and audits as it is; a writable open upgrades it at once",
        arguments: Backend.allCases
    )
    func upgradeFromSchema1(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let all = try Self.statements(140)
        let statements = all.dropLast(20)
        var written: [String: [Int64: [UInt8]]] = [:]
        do {
            let ledger = try Self.ledger(on: try location.create())
            for signed in statements {
                _ = try ledger.append([signed])
                for product in [signed.statement.product].compactMap(\.self) + signed.members.map(\.product) {
                    if let head = try ledger.store.read({ try $0.head(of: product.digitalLink) }) {
                        written[head.chain, default: [:]][head.sequence] = head.state
                    }
                }
            }
        }
        let long = try #require(written.filter { $0.value.count >= 4 }.keys.min())
        func literal(_ bytes: [UInt8]) -> String {
            backend == .sqlite ? "x'\(Hex.encode(bytes))'" : "'\\x\(Hex.encode(bytes))'::bytea"
        }
        // What schema 1 stored and allowed: every link's state, no UPDATE at all.
        let (oldTrigger, newTrigger, version): (String, String, String)
        if backend == .sqlite {
            oldTrigger =
                "CREATE TRIGGER chain_links_no_update BEFORE UPDATE ON chain_links BEGIN SELECT RAISE(ABORT, 'retrace: chain_links is append-only'); END;"
            newTrigger = "DROP TRIGGER chain_links_no_update;"
            version = "PRAGMA user_version = 1;"
        } else {
            oldTrigger =
                "CREATE TRIGGER chain_links_append_only BEFORE UPDATE OR DELETE ON chain_links FOR EACH ROW EXECUTE FUNCTION refuse_change();"
            newTrigger = "DROP TRIGGER chain_links_append_only ON chain_links;"
            version =
                "ALTER TABLE schema_info DISABLE TRIGGER USER; UPDATE schema_info SET value = '1' WHERE key = 'version'; ALTER TABLE schema_info ENABLE TRIGGER USER;"
        }
        func setStates(_ states: [(String, Int64, [UInt8])]) throws {
            let updates = states.map {
                "UPDATE chain_links SET state = \(literal($0.2)) WHERE chain = '\($0.0)' AND seq = \($0.1);"
            }
            let (accepted, message) = try location.rawExecute(newTrigger + updates.joined() + oldTrigger)
            #expect(accepted, "\(message)")
        }
        try location.restoreSchema3ChainLinks()
        try setStates(written.flatMap { chain, links in links.map { (chain, $0.key, $0.value) } })
        #expect(try location.rawExecute(version).accepted)

        let auditor = Auditor(
            trustRoots: [Self.parties.governance.verifier],
            logKey: Self.parties.log.verifier,
            origin: TestParties.origin
        )
        let oldLinks = try location.open(readOnly: true).read { try $0.chain(long) }
        #expect(oldLinks.allSatisfy { !$0.state.isEmpty })
        let clean = try auditor.audit(store: try location.open(readOnly: true))
        #expect(clean.passed, "\(clean.failures)")
        // A superseded state that is not the one replayed there is found, read as schema 1 too.
        try setStates([(long, 1, written[long]![3]!)])
        let tampered = try auditor.audit(store: try location.open(readOnly: true))
        #expect(tampered.failures.first?.rule == AuditRule.storedChainLinks)
        #expect(tampered.failures.first?.index == oldLinks[1].index)
        try setStates([(long, 1, written[long]![1]!)])

        // A writable open upgrades: superseded states emptied, heads kept, and the new rule enforced.
        let upgraded = try location.open()
        let links = try upgraded.read { try $0.chain(long) }
        #expect(links.map(\.eventID) == oldLinks.map(\.eventID))
        #expect(links.dropLast().allSatisfy { $0.state.isEmpty })
        #expect(links.last?.state == oldLinks.last?.state)
        let after = try auditor.audit(store: try location.open(readOnly: true))
        #expect(after.passed, "\(after.failures)")
        let refused = try location.rawExecute(
            "UPDATE chain_links SET state = \(literal([1])) WHERE chain = '\(long)' AND seq = 0"
        )
        #expect(!refused.accepted)
        // Opening again finds schema 4; appends go on and the ledger still audits.
        let ledger = try Ledger.open(
            store: try location.open(),
            logSigner: Self.parties.log,
            clock: { Timestamp(secondsSinceEpoch: 1_900_000_000) }
        )
        _ = try ledger.append(Array(all.suffix(20)))
        #expect(try ledger.store.read { try $0.treeSize() } == UInt64(all.count) + 1)
        let extended = try auditor.audit(store: try location.open(readOnly: true))
        #expect(extended.passed, "\(extended.failures)")
    }

    @Test(
        "A schema 2 ledger (entries verbatim) reads and audits as it is; once upgraded, new entries are packed",
        arguments: Backend.allCases
    )
    func upgradeFromSchema2(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let all = try Self.statements(140)
        let ledger = try Self.ledger(on: try location.create())
        _ = try ledger.append(Array(all.dropLast(20)))
        let size = try ledger.store.read { try $0.treeSize() }
        var entries: [StoredEntry] = []
        try ledger.store.read { reader in try reader.forEachEntry(from: 0, to: size) { entries.append($0) } }
        let packed = backend == .sqlite ? "substr(bytes, 1, 1) = x'01'" : "get_byte(bytes, 0) = 1"
        #expect(try location.rawScalar("SELECT count(*) FROM entries WHERE \(packed)") == "\(size)")

        // What schema 2 stored: every entry verbatim.
        let rewrite = entries.map {
            backend == .sqlite
                ? "UPDATE entries SET bytes = x'\(Hex.encode($0.bytes))' WHERE idx = \($0.index);"
                : "UPDATE entries SET bytes = '\\x\(Hex.encode($0.bytes))'::bytea WHERE idx = \($0.index);"
        }.joined()
        let script =
            backend == .sqlite
            ? "DROP TRIGGER entries_no_update; \(rewrite) PRAGMA user_version = 2; "
                + "CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, 'no'); END;"
            : "ALTER TABLE entries DISABLE TRIGGER USER; \(rewrite) ALTER TABLE entries ENABLE TRIGGER USER; "
                + "ALTER TABLE schema_info DISABLE TRIGGER USER; UPDATE schema_info SET value = '2' WHERE key = 'version'; "
                + "ALTER TABLE schema_info ENABLE TRIGGER USER;"
        let (accepted, message) = try location.rawExecute(script)
        #expect(accepted, "\(message)")
        try location.restoreSchema3ChainLinks()
        #expect(try location.rawScalar("SELECT count(*) FROM entries WHERE \(packed)") == "0")

        let auditor = Auditor(
            trustRoots: [Self.parties.governance.verifier],
            logKey: Self.parties.log.verifier,
            origin: TestParties.origin
        )
        var reread: [StoredEntry] = []
        try location.open(readOnly: true).read { reader in
            try reader.forEachEntry(from: 0, to: size) { reread.append($0) }
        }
        #expect(reread == entries)
        let clean = try auditor.audit(store: try location.open(readOnly: true))
        #expect(clean.passed, "\(clean.failures)")

        // A writable open brings it to version 4; what is appended from then on is packed, and
        // both kinds read and audit together.
        let upgraded = try Ledger.open(
            store: try location.open(),
            logSigner: Self.parties.log,
            clock: { Timestamp(secondsSinceEpoch: 1_900_000_000) }
        )
        let version =
            backend == .sqlite ? "PRAGMA user_version" : "SELECT value FROM schema_info WHERE key = 'version'"
        #expect(try location.rawScalar(version) == "4")
        _ = try upgraded.append(Array(all.suffix(20)))
        #expect(try location.rawScalar("SELECT count(*) FROM entries WHERE \(packed)") == "20")
        #expect(try location.rawScalar("SELECT count(*) FROM entries WHERE NOT (\(packed))") == "\(size)")
        let extended = try auditor.audit(store: try location.open(readOnly: true))
        #expect(extended.passed, "\(extended.failures)")
        #expect(extended.entriesChecked == size + 20)
    }

    @Test(
        "A schema 3 ledger (each link a copy of its entry's event id) reads as it is; the upgrade drops the copy",
        arguments: Backend.allCases
    )
    func upgradeFromSchema3(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let all = try Self.statements(140)
        let ledger = try Self.ledger(on: try location.create())
        _ = try ledger.append(Array(all.dropLast(20)))
        let size = try ledger.store.read { try $0.treeSize() }
        let chains = try ledger.store.read { try $0.chainHeads(below: size) }.map(\.chain)
        #expect(chains.count > 10)
        func links(_ store: any LedgerStore) throws -> [[ChainLink]] {
            try store.read { reader in try chains.map { try reader.chain($0) } }
        }
        let before = try links(ledger.store)
        let column =
            backend == .sqlite
            ? "SELECT count(*) FROM pragma_table_info('chain_links') WHERE name = 'event_id'"
            : "SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() "
                + "AND table_name = 'chain_links' AND column_name = 'event_id'"
        #expect(try location.rawScalar(column) == "0")

        try location.restoreSchema3ChainLinks()
        let version =
            backend == .sqlite ? "PRAGMA user_version" : "SELECT value FROM schema_info WHERE key = 'version'"
        let setVersion =
            backend == .sqlite
            ? "PRAGMA user_version = 3;"
            : "ALTER TABLE schema_info DISABLE TRIGGER USER; UPDATE schema_info SET value = '3' WHERE key = 'version'; "
                + "ALTER TABLE schema_info ENABLE TRIGGER USER;"
        #expect(try location.rawExecute(setVersion).accepted)
        #expect(try location.rawScalar(column) == "1")
        #expect(
            try location.rawScalar(
                "SELECT count(*) FROM chain_links AS l JOIN entries AS e ON e.idx = l.idx WHERE l.event_id = e.event_id"
            ) == location.rawScalar("SELECT count(*) FROM chain_links")
        )
        let auditor = Auditor(
            trustRoots: [Self.parties.governance.verifier],
            logKey: Self.parties.log.verifier,
            origin: TestParties.origin
        )
        // Read-only, as it is: the same links, and a clean audit.
        #expect(try links(location.open(readOnly: true)) == before)
        #expect(try location.rawScalar(version) == "3")
        let clean = try auditor.audit(store: try location.open(readOnly: true))
        #expect(clean.passed, "\(clean.failures)")

        // A writable open drops the column in one transaction; links read the same, the trigger
        // still refuses every change but the one, and appends go on.
        let upgraded = try Ledger.open(
            store: try location.open(),
            logSigner: Self.parties.log,
            clock: { Timestamp(secondsSinceEpoch: 1_900_000_000) }
        )
        #expect(try location.rawScalar(version) == "4")
        #expect(try location.rawScalar(column) == "0")
        #expect(try links(upgraded.store) == before)
        let long = try #require(before.first { $0.count >= 3 })
        let refused = try location.rawExecute(
            "UPDATE chain_links SET idx = idx + 1 WHERE chain = '\(long[0].chain)' AND seq = 0"
        )
        #expect(!refused.accepted)
        #expect(refused.message.contains("append-only"), "\(refused.message)")
        _ = try upgraded.append(Array(all.suffix(20)))
        let extended = try auditor.audit(store: try location.open(readOnly: true))
        #expect(extended.passed, "\(extended.failures)")
        #expect(extended.entriesChecked == size + 20)
    }

    @Test(
        "An entry that cannot be unpacked is an audit finding at its index; the audit reads on past it",
        arguments: Backend.allCases
    )
    func unreadableEntry(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let ledger = try Self.ledger(on: try location.create())
        _ = try ledger.append(try Self.statements(140))
        let size = try ledger.store.read { try $0.treeSize() }
        // Entries 70 and 71 damaged in the middle of what PostgreSQL reads as one chunk: the byte
        // 0xF7, a token no packing writes, after the stream.
        let hex = backend == .sqlite ? "hex(bytes)" : "encode(bytes, 'hex')"
        let damage = try [70, 71].map { index -> String in
            let stored = try location.rawScalar("SELECT \(hex) FROM entries WHERE idx = \(index)").lowercased()
            #expect(stored.hasPrefix("01"), "entry \(index) is not stored packed")
            let value = backend == .sqlite ? "x'\(stored)f7'" : "'\\x\(stored)f7'::bytea"
            return "UPDATE entries SET bytes = \(value) WHERE idx = \(index);"
        }.joined()
        let script =
            backend == .sqlite
            ? "DROP TRIGGER entries_no_update; \(damage)"
            : "ALTER TABLE entries DISABLE TRIGGER USER; \(damage) ALTER TABLE entries ENABLE TRIGGER USER;"
        let (accepted, message) = try location.rawExecute(script)
        #expect(accepted, "\(message)")
        #expect(throws: StorageError(.corrupt, "")) { try location.open(readOnly: true).read { try $0.entry(at: 70) } }

        let report = try Auditor(
            trustRoots: [Self.parties.governance.verifier],
            logKey: Self.parties.log.verifier,
            origin: TestParties.origin,
            keepGoing: true
        ).audit(store: try location.open(readOnly: true))
        #expect(report.entriesChecked == size)
        let unreadable = report.failures.filter { $0.rule == AuditRule.entryFormat }
        #expect(unreadable.map(\.index) == [70, 71], "\(report.failures)")
        #expect(unreadable.allSatisfy { $0.reason.contains("the stored entry cannot be read") }, "\(report.failures)")
        #expect(
            !report.failures.contains { $0.rule == AuditRule.checkpointRoot || $0.rule == AuditRule.entrySequence },
            "\(report.failures)"
        )
    }

    @Test(
        "A link naming an entry the ledger does not hold is refused when read, as a corrupt ledger",
        arguments: Backend.allCases
    )
    func danglingLink(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let store = try location.create()
        try store.write { writer in
            try writer.insert(entry: Self.entry(0))
            try writer.insert(
                link: ChainLink(chain: "a", sequence: 0, index: 0, eventID: Self.entry(0).eventID, state: [])
            )
        }
        #expect(try store.read { try $0.head(of: "a") }?.eventID == Self.entry(0).eventID)
        let empty = backend == .sqlite ? "x''" : "''::bytea"
        #expect(
            try location.rawExecute("INSERT INTO chain_links (chain, seq, idx, state) VALUES ('a', 1, 5, \(empty))")
                .accepted
        )
        for read in [
            { (reader: any LedgerReader) in _ = try reader.head(of: "a") },
            { (reader: any LedgerReader) in _ = try reader.chain("a") },
            { (reader: any LedgerReader) in _ = try reader.chainHeads(below: 10) },
        ] {
            do {
                try store.read(read)
                Issue.record("a link naming entry 5 was read")
            } catch let error as StorageError {
                #expect(error.code == .corrupt)
                #expect(error.reason == "chain link 1 of a points at entry 5, which the ledger does not hold")
            }
        }
    }

    @Test(
        "A write transaction that throws leaves nothing; a savepoint undoes only its own part",
        arguments: Backend.allCases
    )
    func rollbackAndSavepoint(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let store = try location.create()
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try store.write { writer in
                try writer.insert(entry: Self.entry(0))
                throw Refused()
            }
        }
        #expect(try store.read { try $0.treeSize() } == 0)
        let savepointOutcome = try store.write { writer -> String in
            try writer.insert(entry: Self.entry(0))
            var outcome = "not refused"
            do {
                try writer.withSavepoint {
                    try writer.insert(entry: Self.entry(1))
                    throw Refused()
                }
            } catch is Refused {
                outcome = "refused"
            }
            try writer.withSavepoint { try writer.insert(entry: Self.entry(2, id: 9)) }
            return outcome
        }
        #expect(savepointOutcome == "refused")
        #expect(
            try store.read { reader in [try reader.entry(at: 0), try reader.entry(at: 1), try reader.entry(at: 2)] }
                == [Self.entry(0), nil, Self.entry(2, id: 9)]
        )
    }

    @Test(
        "Inside a write, reads see the rows written before them; a refused group is undone exactly, sent or not",
        arguments: Backend.allCases
    )
    func readsSeeWritesAndGroupsUndoExactly(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let store = try location.create()
        struct Refused: Error {}
        let node = (NodeID(level: 0, index: 0), [UInt8](repeating: 7, count: 32))
        func link(_ chain: String, _ sequence: Int64, _ index: UInt64) -> ChainLink {
            ChainLink(chain: chain, sequence: sequence, index: index, eventID: Self.entry(index).eventID, state: [1])
        }
        try store.write { writer in
            try writer.insert(entry: Self.entry(0))
            try writer.insert(link: link("a", 0, 0))
        }
        let seen = try store.write { writer -> [String] in
            try writer.insert(entry: Self.entry(1))
            try writer.insert(link: link("a", 1, 1))
            try writer.insert(product: ProductRow(product: "a", gtin: "g", serial: "s", passport: [1]))
            try writer.insert(nodes: [node])
            var seen = [
                "size \(try writer.treeSize())",
                "entry \(try writer.entry(at: 1) == Self.entry(1))",
                "id \(try writer.entryIndex(eventID: Self.entry(1).eventID).map(String.init) ?? "none")",
                "head \(try writer.head(of: "a")?.sequence ?? -1)",
                "product \(try writer.product("a")?.serial ?? "none")",
                "node \(try writer.hashes(of: [node.0])[node.0] == node.1)",
                "heads \(try writer.heads(of: ["a", "z", "a"]).mapValues(\.sequence))",
                "ids \(try writer.entryIndices(eventIDs: [Self.entry(0).eventID, Self.entry(1).eventID, [9]]).values.sorted())",
                "entries \(try writer.entries(at: [1, 0, 7, 1]).mapValues { $0 == Self.entry($0.index) }.sorted { $0.key < $1.key })",
            ]
            // Refused before anything of its own reached the database.
            do {
                try writer.withSavepoint {
                    try writer.insert(entry: Self.entry(2))
                    try writer.insert(link: link("a", 2, 2))
                    throw Refused()
                }
            } catch is Refused {}
            // Refused after a read made it send its rows (inside its savepoint), and a nested
            // group refused after the same.
            do {
                try writer.withSavepoint {
                    try writer.insert(entry: Self.entry(2, id: 20))
                    try writer.insert(link: link("b", 0, 2))
                    seen.append("group chain \(try writer.chain("b").count)")
                    do {
                        try writer.withSavepoint {
                            try writer.insert(link: link("c", 0, 2))
                            seen.append("nested chain \(try writer.chain("c").count)")
                            throw Refused()
                        }
                    } catch is Refused {}
                    seen.append("nested undone \(try writer.head(of: "c") == nil)")
                    try writer.insert(link: link("a", 2, 2))
                    seen.append("group head \(try writer.head(of: "a")?.sequence ?? -1)")
                    throw Refused()
                }
            } catch is Refused {}
            seen.append("after size \(try writer.treeSize())")
            seen.append("after head \(try writer.head(of: "a")?.sequence ?? -1)")
            seen.append("after b \(try writer.chain("b").count)")
            try writer.withSavepoint {
                try writer.insert(entry: Self.entry(2, id: 30))
                try writer.insert(link: link("a", 2, 2))
            }
            return seen
        }
        #expect(
            seen == [
                "size 2", "entry true", "id 1", "head 1", "product s", "node true", "heads [\"a\": 1]", "ids [0, 1]",
                "entries [(key: 0, value: true), (key: 1, value: true)]", "group chain 1",
                "nested chain 1", "nested undone true", "group head 2", "after size 2", "after head 1",
                "after b 0",
            ]
        )
        let stored = try store.read { reader in
            [
                "size \(try reader.treeSize())", "entry \(try reader.entry(at: 2) == Self.entry(2, id: 30))",
                "refused id \(try reader.entryIndex(eventID: Self.entry(2, id: 20).eventID) == nil)",
                "a \(try reader.chain("a").map(\.sequence))", "b \(try reader.chain("b").count)",
                "c \(try reader.chain("c").count)", "product \(try reader.product("a")?.serial ?? "none")",
                "node \(try reader.hashes(of: [node.0])[node.0] == node.1)",
            ]
        }
        #expect(
            stored == [
                "size 3", "entry true", "refused id true", "a [0, 1, 2]", "b 0", "c 0", "product s", "node true",
            ]
        )
    }

    @Test(
        "A duplicate among rows written in one transaction refuses the whole transaction",
        arguments: Backend.allCases
    )
    func duplicateWithinOneWrite(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let store = try location.create()
        #expect(throws: StorageError(.conflict, "")) {
            try store.write { writer in
                try writer.insert(entry: Self.entry(0))
                try writer.insert(entry: Self.entry(1))
                try writer.insert(entry: Self.entry(2, id: 1))
            }
        }
        #expect(throws: StorageError(.conflict, "")) {
            try store.write { writer in
                try writer.insert(entry: Self.entry(0))
                try writer.insert(link: ChainLink(chain: "a", sequence: 0, index: 0, eventID: [1], state: []))
                try writer.insert(link: ChainLink(chain: "a", sequence: 0, index: 0, eventID: [2], state: []))
            }
        }
        #expect(try store.read { try $0.treeSize() } == 0)
        #expect(try store.read { try $0.chain("a") }.isEmpty)
    }

    @Test(
        "Same-size checkpoints: the same root is a no-op, another root is refused; duplicate ids conflict",
        arguments: Backend.allCases
    )
    func refusals(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let store = try location.create()
        let root = [UInt8](repeating: 1, count: 32)
        try store.write { try $0.insert(checkpoint: StoredCheckpoint(size: 1, root: root, note: "a")) }
        try store.write { try $0.insert(checkpoint: StoredCheckpoint(size: 1, root: root, note: "a")) }
        #expect(throws: StorageError(.corrupt, "")) {
            try store.write {
                try $0.insert(checkpoint: StoredCheckpoint(size: 1, root: [UInt8](repeating: 2, count: 32), note: "b"))
            }
        }
        try store.write { try $0.insert(entry: Self.entry(0)) }
        #expect(throws: StorageError(.conflict, "")) { try store.write { try $0.insert(entry: Self.entry(1, id: 0)) } }
        #expect(try store.read { try $0.checkpoints() }.count == 1)
        #expect(try store.read { try $0.treeSize() } == 1)
    }

    /// Also read by range, as an audit compares the nodes a chunk of entries completed: a range
    /// per level, in index order, absent nodes left out, the same hashes as the point reads.
    @Test(
        "Merkle nodes written through the store serve proofs that verify, and range reads in index order",
        arguments: Backend.allCases
    )
    func nodesServeProofs(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        let store = try location.create()
        let leaves = (0..<37).map { MerkleHash.leafHash([UInt8($0)]) }
        try store.write { writer in
            try writer.insert(
                nodes: MerkleTree.nodesToAppend(leafHashes: Array(leaves[..<20]), startingAt: 0, reader: writer)
            )
        }
        try store.write { writer in
            try writer.insert(
                nodes: MerkleTree.nodesToAppend(leafHashes: Array(leaves[20...]), startingAt: 20, reader: writer)
            )
        }
        let reference = try InMemoryMerkleStore(leafHashes: leaves)
        try store.read { reader in
            #expect(try MerkleTree.rootHash(size: 37, reader: reader) == reference.rootHash())
            let proof = try MerkleTree.inclusionProof(leafIndex: 21, treeSize: 37, reader: reader)
            try MerkleProof.verifyInclusion(
                leafHash: leaves[21],
                leafIndex: 21,
                treeSize: 37,
                proof: proof,
                rootHash: reference.rootHash()
            )
            let consistency = try MerkleTree.consistencyProof(from: 20, to: 37, reader: reader)
            try MerkleProof.verifyConsistency(
                size1: 20,
                size2: 37,
                proof: consistency,
                root1: reference.rootHash(size: 20),
                root2: reference.rootHash()
            )
            // Leaves 15..<25 span the two writes.
            let leafRange = try reader.nodeHashes(level: 0, indices: 15..<25)
            #expect(leafRange.map(\.index) == Array(15..<25))
            #expect(leafRange.map(\.hash) == Array(leaves[15..<25]))
            // Level 2 holds nodes 0...8 for 37 leaves; 7..<20 reaches past the last.
            let upper = try reader.nodeHashes(level: 2, indices: 7..<20)
            #expect(upper.map(\.index) == [7, 8])
            for node in upper {
                let id = NodeID(level: 2, index: node.index)
                #expect(try reader.hashes(of: [id])[id] == node.hash)
            }
            #expect(try reader.nodeHashes(level: 0, indices: 40..<50).isEmpty)
            #expect(try reader.nodeHashes(level: 1, indices: 3..<3).isEmpty)
            // The same nodes handed over one at a time, read in place (SQLite) or through
            // `nodeHashes` (the default).
            for (level, indices) in [(0, 15..<25), (2, 7..<20), (0, 40..<50), (1, 3..<3)] as [(Int, Range<UInt64>)] {
                var streamed: [(index: UInt64, hash: [UInt8])] = []
                try reader.forEachNodeHash(level: level, indices: indices) { streamed.append(($0, Array($1))) }
                let listed = try reader.nodeHashes(level: level, indices: indices)
                #expect(streamed.map(\.index) == listed.map(\.index))
                #expect(streamed.map(\.hash) == listed.map(\.hash))
            }
            var ends: [UInt64] = []
            try reader.forEachNodeHash(level: 0, indices: 35..<90) { index, _ in ends.append(index) }
            #expect(ends == [35, 36])
        }
    }

    @Test(
        "Two writers on one ledger (two store objects, as two processes) serialise: no index is lost or doubled",
        arguments: Backend.allCases
    )
    func writersSerialise(backend: Backend) throws {
        guard backend.available else { return }
        let location = try ScratchLocation(backend)
        defer { location.remove() }
        _ = try location.create()
        let stores = [try location.open(), try location.open()]
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for round in 0..<25 {
                do {
                    try stores[worker].write { writer in
                        let size = try writer.treeSize()
                        try writer.insert(
                            entry: Self.entry(size, id: UInt8(worker * 100 + round))
                        )
                    }
                } catch {
                    failures.withLock { $0.append("\(worker)/\(round): \(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        #expect(try stores[0].read { try $0.treeSize() } == 50)
    }

    @Test(
        "A ledger on either engine: the same entries, roots and checkpoints byte for byte, and the audit passes",
        arguments: Backend.allCases
    )
    func sameLedgerEverywhere(backend: Backend) throws {
        guard backend.available else { return }
        let statements = try Self.statements(700)
        // The reference: the same statements on SQLite.
        let reference = try ScratchLocation(.sqlite)
        let location = try ScratchLocation(backend)
        defer {
            reference.remove()
            location.remove()
        }
        let referenceLedger = try Self.ledger(on: try reference.create())
        let ledger = try Self.ledger(on: try location.create())
        for start in stride(from: 0, to: statements.count, by: 83) {
            let batch = Array(statements[start..<min(start + 83, statements.count)])
            _ = try referenceLedger.append(batch)
            _ = try ledger.append(batch)
        }
        // A refused statement (a replay) leaves the store as it was.
        let before = try ledger.store.read { try $0.latestCheckpoint() }
        #expect(throws: LedgerError.self) { try ledger.append([statements[10]]) }
        #expect(try ledger.store.read { try $0.latestCheckpoint() } == before)

        let size = try ledger.store.read { try $0.treeSize() }
        #expect(size == UInt64(statements.count) + 1)
        var mine: [StoredEntry] = []
        var theirs: [StoredEntry] = []
        try ledger.store.read { try $0.forEachEntry(from: 0, to: size) { mine.append($0) } }
        try referenceLedger.store.read { try $0.forEachEntry(from: 0, to: size) { theirs.append($0) } }
        #expect(mine == theirs)
        #expect(mine.contains { !$0.members.isEmpty }, "batch statements are stored with their members")
        // The bulk read answers what one read per index answers, members included; past the end, nothing.
        let asked = [size + 5, 0, size - 1, 3, 3] + mine.filter { !$0.members.isEmpty }.map(\.index)
        let bulk = try ledger.store.read { try $0.entries(at: asked) }
        #expect(bulk.count == Set(asked).count - 1)
        for index in asked where index < size { #expect(bulk[index] == mine[Int(index)]) }
        let checkpoints = try ledger.store.read { try $0.checkpoints() }
        #expect(try checkpoints == referenceLedger.store.read { try $0.checkpoints() })
        // A range of sizes answers what filtering them all answers: bounds included, in order.
        let sizes = checkpoints.map(\.size)
        #expect(sizes.count >= 4)
        for range in [sizes[1]...sizes[3], (sizes[1] + 1)...(sizes[3] - 1), 0...UInt64.max, (size + 1)...UInt64.max] {
            let ranged = try ledger.store.read { try $0.checkpoints(sizes: range) }
            #expect(ranged == checkpoints.filter { range.contains($0.size) }, "\(range)")
        }

        let report = try Auditor(
            trustRoots: [Self.parties.governance.verifier],
            logKey: Self.parties.log.verifier,
            origin: TestParties.origin
        ).audit(store: try location.open(readOnly: true))
        #expect(report.passed, "\(report.failures)")
        #expect(report.entriesChecked == size)
    }
}

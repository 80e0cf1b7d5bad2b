import CanonicalJSON
import Foundation
import GRDB
import MerkleLog
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceRules
import RetraceSimulation
import RetraceStorage
import Testing

/// Class chains (`product-class`, lifecycle.md §2.3) in the audit: replayed like product chains,
/// compared with their stored links (A17) and in the heads roots (A20), and judged by the class rules.
@Suite("Product-class chains in the audit")
struct ProductClassAuditTests {
    static let phoneGTIN = "09506000134352"

    /// A ledger with a commissioned phone, its GTIN's class chain (a first statement and a
    /// correction) and Contoso's own class statement; a checkpoint after each append.
    struct ClassLedger {
        let directory: URL
        let path: String
        let ledger: Ledger
        let parties: TestParties
        let clock: TestClock
        var statements: [SignedStatement] = []

        init() throws {
            parties = try TestParties()
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "retrace-class-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            path = directory.appendingPathComponent("ledger.sqlite").path
            let clock = TestClock(StoryLedger.start.secondsSinceEpoch + 86_400)
            self.clock = clock
            ledger = try Ledger.create(
                store: try SQLiteLedgerStore.create(path: path),
                origin: TestParties.origin,
                logSigner: parties.log,
                governance: [parties.governance.verifier],
                roster: parties.signedRoster(time: StoryLedger.start),
                clock: { clock.now }
            )
        }

        func sign(
            _ gtin: String,
            by party: String,
            previous: Digest?,
            name: String,
            minute: Int64
        ) throws
            -> SignedStatement
        {
            try parties.sign(
                .productClass,
                product: nil,
                previous: previous,
                by: party,
                at: StoryLedger.start.adding(seconds: 60 * minute),
                details: ["gtin": .string(gtin), "name": .string(name), "model": "NX-26"]
            )
        }

        mutating func append(_ signed: SignedStatement) throws {
            clock.advance(60)
            _ = try ledger.append([signed])
            statements.append(signed)
        }

        func export() throws -> [[UInt8]] {
            var lines: [[UInt8]] = []
            try ledger.export { lines.append(Array($0.dropLast())) }
            return lines
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    static func auditor(_ parties: TestParties, keepGoing: Bool = false) -> Auditor {
        Auditor(
            trustRoots: [parties.governance.verifier],
            logKey: parties.log.verifier,
            origin: TestParties.origin,
            threads: 2,
            keepGoing: keepGoing
        )
    }

    static func build() throws -> ClassLedger {
        var fixture = try ClassLedger()
        let phone = try SGTIN(gtin: GTIN(phoneGTIN), serial: Serial("PC-1"))
        try fixture.append(
            try fixture.parties.sign(.commission, product: phone, previous: nil, by: "northwind", at: StoryLedger.start)
        )
        let first = try fixture.sign(phoneGTIN, by: "northwind", previous: nil, name: "Phone X", minute: 1)
        try fixture.append(first)
        try fixture.append(
            try fixture.sign(phoneGTIN, by: "northwind", previous: first.id, name: "Phone X 2026", minute: 2)
        )
        try fixture.append(
            try fixture.sign("00614141123452", by: "contoso", previous: nil, name: "Sound Bar", minute: 3)
        )
        return fixture
    }

    @Test("a ledger holding class chains audits clean: from its store, its export, and incrementally")
    func auditsClean() throws {
        var fixture = try Self.build()
        defer { fixture.remove() }
        let store = try SQLiteLedgerStore.open(path: fixture.path, readOnly: true)
        let report = try Self.auditor(fixture.parties).audit(store: store)
        #expect(report.passed, "\(report.failures.prefix(3))")
        #expect(report.headsRootsChecked > 0)
        let exportPath = fixture.directory.appendingPathComponent("ledger.export").path
        try Data(fixture.export().flatMap { $0 + [0x0A] }).write(to: URL(fileURLWithPath: exportPath))
        let exported = try Self.auditor(fixture.parties).audit(exportAt: exportPath)
        #expect(exported.passed, "\(exported.failures.prefix(3))")
        // Incremental: a correction after a trusted checkpoint is judged on the class head the
        // audit loads from the stored chain (replayed and proven included).
        let trusted = try #require(try store.read { try $0.latestCheckpoint() })
        let head = fixture.statements[2].id
        try fixture.append(
            try fixture.sign(Self.phoneGTIN, by: "northwind", previous: head, name: "Phone X", minute: 4)
        )
        let incremental = try Self.auditor(fixture.parties).audit(
            store: try SQLiteLedgerStore.open(path: fixture.path, readOnly: true),
            since: trusted.note
        )
        #expect(incremental.passed, "\(incremental.failures.prefix(3))")
    }

    @Test("a products row stored under a class chain's key is found at the class's first statement")
    func classProductsRow() throws {
        let fixture = try Self.build()
        defer { fixture.remove() }
        let key = "class/\(Self.phoneGTIN)"
        let queue = try DatabaseQueue(path: fixture.path)
        try queue.write { db in
            try db.execute(
                sql: "INSERT INTO products (product, gtin, serial, passport) VALUES (?, ?, 'PC-1', zeroblob(32))",
                arguments: [key, Self.phoneGTIN]
            )
        }
        try queue.close()
        let store = try SQLiteLedgerStore.open(path: fixture.path, readOnly: true)
        let report = try Self.auditor(fixture.parties).audit(store: store)
        #expect(report.firstFailure?.rule == AuditRule.storedProducts, "\(report.failures)")
        #expect(report.firstFailure?.product == key)
        #expect(report.firstFailure?.index == 2, "\(report.failures)")
        #expect(report.firstFailure?.reason.contains("class chain") == true)
    }

    @Test("a class statement by a brand owner of another prefix is refused at append (L4)")
    func otherPrefixRefused() throws {
        var fixture = try Self.build()
        defer { fixture.remove() }
        let forged = try fixture.sign(
            Self.phoneGTIN,
            by: "contoso",
            previous: fixture.statements[2].id,
            name: "Phone X",
            minute: 5
        )
        #expect(throws: LedgerError.self) { try fixture.append(forged) }
        do { try fixture.append(forged) } catch let error as LedgerError {
            #expect(error.rule == Rule.ownPrefix, "\(error)")
            #expect(error.product == "class/\(Self.phoneGTIN)")
        }
        let wrongHead = try fixture.sign(
            Self.phoneGTIN,
            by: "northwind",
            previous: fixture.statements[1].id,
            name: "Phone X",
            minute: 5
        )
        do { try fixture.append(wrongHead) } catch let error as LedgerError {
            #expect(error.code == .chainConflict && error.rule == "C1 chain-head", "\(error)")
        }
    }

    @Test("an export whose class statement was replaced by another prefix's brand owner's is flagged (A6, L4)")
    func tamperedExportFlagged() throws {
        let fixture = try Self.build()
        defer { fixture.remove() }
        var lines = try fixture.export()
        // The correction (entry 3) replaced by one Contoso signed on the same head: a log operator
        // that accepted it would have to sign it into a checkpoint; the audit judges it anyway.
        let forged = try fixture.sign(
            Self.phoneGTIN,
            by: "contoso",
            previous: fixture.statements[1].id,
            name: "Phone X",
            minute: 2
        )
        let position = try #require(
            lines.firstIndex { line in
                (try? CanonicalJSON.decode(line))?["index"]?.integerValue == 3
            }
        )
        guard case .object(var line) = try CanonicalJSON.decode(lines[position]),
            case .object(var entry)? = line["entry"]
        else { throw SimulationError("entry 3 is not an entry line") }
        entry["statement"] = forged.statement.json
        entry["signature"] = .string(Base64.encode(forged.signature))
        line["entry"] = .object(entry)
        lines[position] = try CanonicalJSON.encode(.object(line))
        let path = fixture.directory.appendingPathComponent("tampered.export").path
        try Data(lines.flatMap { $0 + [0x0A] }).write(to: URL(fileURLWithPath: path))
        let report = try Self.auditor(fixture.parties, keepGoing: true).audit(exportAt: path)
        #expect(!report.passed)
        let lifecycle = report.failures.first { $0.rule == AuditRule.lifecycle }
        #expect(lifecycle?.index == 3, "\(report.failures.prefix(4))")
        #expect(lifecycle?.reason.contains("L4 own-prefix") == true, "\(report.failures.prefix(4))")
        #expect(lifecycle?.product == "class/\(Self.phoneGTIN)")
    }
}

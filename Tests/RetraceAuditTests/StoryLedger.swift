import CanonicalJSON
import Foundation
import GRDB
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceRules
import RetraceSimulation
import RetraceStorage
import Synchronization

/// A log clock for tests that moves only when told, so received times are reproducible.
final class TestClock: Sendable {
    private let seconds: Mutex<Int64>
    init(_ start: Int64) { seconds = Mutex(start) }
    func advance(_ by: Int64) { seconds.withLock { $0 += by } }
    var now: Timestamp { Timestamp(secondsSinceEpoch: seconds.withLock { $0 }) }
}

/// A deterministic story ledger: `products` Northwind products, each commissioned, shipped to a
/// retailer, received, sold, returned through the returns centre and inspected, then restocked,
/// refurbished, or recycled on a pallet certificate (a batch statement). Appended in batches of
/// about 100 statements, with a checkpoint after each batch, then exported.
struct StoryLedger {
    let directory: URL
    let path: String
    let exportPath: String
    let parties: TestParties
    let logKey: NoteVerifier
    let governance: [NoteVerifier]
    let entryCount: UInt64
    /// Checkpoint notes in the order they were signed.
    let checkpoints: [String]

    static let start = Timestamp(secondsSinceEpoch: 1_772_442_000)  // 2026-03-02T09:00:00Z

    /// Keys that differ from the test parties, for a ledger of another operator.
    struct ForeignKeys {
        let log: NoteSigner
        let governance: NoteSigner
        let northwind: NoteSigner
    }

    static func build(
        products: Int,
        seed: Int = 0,
        foreign: ForeignKeys? = nil,
        gtinSerialPrefix: String = "S"
    )
        throws -> StoryLedger
    {
        let parties = try TestParties()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "retrace-audit-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("ledger.sqlite").path
        let clock = TestClock(start.secondsSinceEpoch + 86_400 * 60)
        let logSigner = foreign?.log ?? parties.log
        let governanceSigner = foreign?.governance ?? parties.governance

        var roster = parties.roster
        if let foreign {
            var text = String(decoding: try CanonicalJSON.encode(parties.roster.json), as: UTF8.self)
            text = text.replacingOccurrences(
                of: parties.governance.verifier.description,
                with: foreign.governance.verifier.description
            )
            text = text.replacingOccurrences(
                of: try parties.signer("northwind").verifier.description,
                with: foreign.northwind.verifier.description
            )
            roster = try RosterDocument(json: CanonicalJSON.decode(Array(text.utf8)))
        }
        guard case .object(let rosterDetails) = roster.json else { throw SimulationError("roster is not an object") }
        let rosterStatement = try SignedStatement.sign(
            Statement(
                type: .roster,
                product: nil,
                previous: nil,
                signer: Digest(bytes: governanceSigner.verifier.publicKey.fingerprint),
                time: start,
                details: rosterDetails
            ),
            with: governanceSigner.privateKey
        )
        let store = try SQLiteLedgerStore.create(path: path)
        let ledger = try Ledger.create(
            store: store,
            origin: TestParties.origin,
            logSigner: logSigner,
            governance: [governanceSigner.verifier],
            roster: rosterStatement,
            clock: { clock.now }
        )
        var checkpoints: [String] = []
        if let note = try store.read({ try $0.latestCheckpoint()?.note }) { checkpoints.append(note) }

        func key(_ party: String) throws -> NoteSigner {
            if party == "northwind", let foreign { return foreign.northwind }
            return try parties.signer(party)
        }
        func sign(
            _ type: EventType,
            _ product: SGTIN?,
            _ previous: Digest?,
            by party: String,
            at time: Timestamp,
            details: JSONObject = [:],
            members: [BatchMember] = []
        ) throws -> SignedStatement {
            let signer = try key(party)
            let statement = try Statement(
                type: type,
                product: product,
                previous: previous,
                batch: members.isEmpty ? nil : BatchMember.commitment(for: members),
                signer: Digest(bytes: signer.verifier.publicKey.fingerprint),
                time: time,
                details: details
            )
            return try SignedStatement.sign(statement, with: signer.privateKey, members: members)
        }
        func salted(_ text: String) -> JSONValue { .string(Digest.of(Array("audit-salt\n\(text)".utf8)).hex) }

        var pending: [SignedStatement] = []
        func flush() throws {
            guard !pending.isEmpty else { return }
            let result = try ledger.append(pending)
            if let note = result.checkpoint { checkpoints.append(note) }
            pending = []
            clock.advance(600)
        }
        func add(_ statement: SignedStatement) throws {
            pending.append(statement)
            if pending.count >= 100 { try flush() }
        }

        let group = 25
        let rosterUpdateAt = (products / 2 / group) * group
        for first in stride(from: 0, to: products, by: group) {
            if first == rosterUpdateAt, foreign == nil, first > 0 {
                // A roster update halfway (the same parties, re-issued): trust changes mid-log and mid-chunk.
                let time = start.adding(seconds: Int64(first) * 600)
                try add(try parties.signedRoster(time: time, previous: rosterStatement.id))
            }
            let members = first..<min(products, first + group)
            var heads: [Int: Digest] = [:]
            var skus: [Int: SGTIN] = [:]
            let base = start.adding(seconds: Int64(first) * 600)
            for p in members {
                skus[p] = try SGTIN(gtin: GTIN("09506000134352"), serial: Serial("\(gtinSerialPrefix)\(seed)-\(p)"))
            }
            func step(_ number: Int64) -> Timestamp { base.adding(seconds: number * 3_600) }
            let script: [(EventType, String, (Int, Timestamp) -> JSONObject)] = [
                (.commission, "northwind", { _, _ in ["lot": "L2026-03"] }),
                (.ship, "northwind", { _, _ in ["consignee": "fabrikam", "carrier": "wingtip"] }),
                (.receive, "fabrikam", { _, _ in ["shipment": "ASN-1001", "condition": "intact"] }),
                (
                    .sell, "fabrikam",
                    { p, time in
                        [
                            "orderDigest": salted("order-\(seed)-\(p)"), "customerDigest": salted("customer-\(p % 97)"),
                            "returnBy": .string(time.adding(seconds: 30 * 86_400).description), "channel": "online",
                        ]
                    }
                ),
                (
                    .returnAuthorize, "fabrikam",
                    { p, _ in ["rma": .string("RMA-\(seed)-\(p)"), "reason": "wrong-size"] }
                ),
                (
                    .returnReceive, "litware",
                    { p, _ in
                        [
                            "condition": "opened", "scanned": .string(skus[p]?.digitalLink ?? ""),
                            "rma": .string("RMA-\(seed)-\(p)"),
                        ]
                    }
                ),
                (.inspect, "litware", { _, _ in ["grade": "as-new", "findings": ["packaging-opened"]] }),
            ]
            for (number, (type, party, details)) in script.enumerated() {
                for p in members {
                    guard let sku = skus[p] else { continue }
                    let time = step(Int64(number)).adding(seconds: Int64(p - first))
                    let signed = try sign(type, sku, heads[p], by: party, at: time, details: details(p, time))
                    heads[p] = signed.id
                    try add(signed)
                }
            }
            let endTime = step(Int64(script.count))
            var pallet: [BatchMember] = []
            for p in members {
                guard let sku = skus[p], let head = heads[p] else { continue }
                switch p % 3 {
                case 0:
                    try add(try sign(.restock, sku, head, by: "litware", at: endTime))
                case 1:
                    try add(
                        try sign(
                            .refurbish,
                            sku,
                            head,
                            by: "proseware",
                            at: endTime,
                            details: [
                                "work": ["battery-replaced"], "tests": ["battery-health", "display"],
                                "softwareVersion": "4.2.1", "warrantyMonths": 12, "certified": true,
                            ]
                        )
                    )
                default:
                    pallet.append(BatchMember(product: sku, previous: head))
                }
            }
            if !pallet.isEmpty {
                try add(
                    try sign(
                        .recycle,
                        nil,
                        nil,
                        by: "adatum",
                        at: endTime,
                        details: [
                            "certificate": .string("COR-\(seed)-\(first)"), "method": "mechanical-shredding",
                            "materials": ["aluminium": 20, "copper": 5],
                        ],
                        members: pallet
                    )
                )
            }
        }
        try flush()
        let exportPath = directory.appendingPathComponent("ledger.export").path
        _ = FileManager.default.createFile(atPath: exportPath, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: exportPath) else {
            throw SimulationError("cannot write export")
        }
        try ledger.export { bytes in try handle.write(contentsOf: Data(bytes)) }
        try handle.close()
        let size = try store.read { try $0.treeSize() }
        return StoryLedger(
            directory: directory,
            path: path,
            exportPath: exportPath,
            parties: parties,
            logKey: logSigner.verifier,
            governance: [governanceSigner.verifier],
            entryCount: size,
            checkpoints: checkpoints
        )
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// A copy of the SQLite file (with its WAL folded in) that a test may tamper with.
    func copy(_ name: String) throws -> String {
        let target = directory.appendingPathComponent("\(name)-\(UUID().uuidString).sqlite").path
        // Read-only and waiting for locks: tests copy the shared story side by side, and a writable
        // connection that closes checkpoints the WAL under an exclusive lock, which another test's
        // open then met as "database is locked" (seen once in a full suite).
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(15)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.inDatabase { db in try db.execute(sql: "VACUUM INTO ?", arguments: [target]) }
        try queue.close()
        return target
    }

    /// A copy of the export file's lines.
    func exportLines() throws -> [[UInt8]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: exportPath))
        return [UInt8](data).split(separator: 0x0a, omittingEmptySubsequences: false).dropLast().map(Array.init)
    }

    func writeExport(_ lines: [[UInt8]], name: String, finalNewline: Bool = true) throws -> String {
        let target = directory.appendingPathComponent("\(name)-\(UUID().uuidString).export").path
        var bytes: [UInt8] = []
        for (n, line) in lines.enumerated() {
            bytes += line
            if finalNewline || n < lines.count - 1 { bytes.append(0x0a) }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }
}

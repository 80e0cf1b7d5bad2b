import CanonicalJSON
import Foundation
import GRDB
import MerkleLog
import RetraceAudit
import RetraceEvents
import RetraceSimulation
import RetraceStorage
import Testing

/// An attacker with write access to the ledger file: drops the append-only triggers, then edits rows.
enum Attacker {
    static let tables = ["meta", "entries", "batch_members", "chain_links", "products", "nodes", "checkpoints"]

    /// Copies the story ledger, drops its triggers and applies `edit` with a raw SQLite connection.
    static func tamper(_ name: String, _ edit: (Database) throws -> Void) throws -> String {
        let path = try Shared.story.copy(name)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            for table in tables {
                try db.execute(sql: "DROP TRIGGER IF EXISTS \(table)_no_update")
                try db.execute(sql: "DROP TRIGGER IF EXISTS \(table)_no_delete")
            }
            try edit(db)
        }
        try queue.close()
        return path
    }

    static func bytes(_ db: Database, _ index: UInt64) throws -> [UInt8] {
        guard let data = try Data.fetchOne(db, sql: "SELECT bytes FROM entries WHERE idx = ?", arguments: [index])
        else {
            throw SimulationError("no entry \(index)")
        }
        // Stored packed (schema 3); the attacker writes it back verbatim, which a reader accepts.
        return try EntryPacking.unpack([UInt8](data))
    }

    /// Rewrites entry `index` through `transform` of its text. A careful attacker (`fixColumns`)
    /// also rewrites the leaf hash, event id and received columns so that only signed facts disagree.
    static func rewrite(
        _ db: Database,
        _ index: UInt64,
        fixColumns: Bool = true,
        _ transform: (String) -> String
    )
        throws
    {
        let old = String(decoding: try bytes(db, index), as: UTF8.self)
        let new = transform(old)
        #expect(new != old, "the rewrite of entry \(index) changed nothing")
        try store(db, index, Array(new.utf8), fixColumns: fixColumns)
    }

    static func store(_ db: Database, _ index: UInt64, _ bytes: [UInt8], fixColumns: Bool = true) throws {
        try db.execute(sql: "UPDATE entries SET bytes = ? WHERE idx = ?", arguments: [Data(bytes), index])
        guard fixColumns else { return }
        try db.execute(
            sql: "UPDATE entries SET leaf_hash = ? WHERE idx = ?",
            arguments: [Data(MerkleHash.leafHash(bytes)), index]
        )
        let members = try Data.fetchAll(
            db,
            sql: "SELECT bytes FROM batch_members WHERE idx = ? ORDER BY position",
            arguments: [index]
        )
        let parsedMembers = try? members.map { data in
            try BatchMember(json: CanonicalJSONShim.decode([UInt8](data)), path: "m")
        }
        if let entry = try? LogEntry(parsing: bytes, members: parsedMembers ?? []) {
            try db.execute(
                sql: "UPDATE entries SET event_id = ?, received = ?, type = ? WHERE idx = ?",
                arguments: [
                    Data(entry.statement.id.bytes), entry.received.secondsSinceEpoch, entry.statement.type.name, index,
                ]
            )
        }
    }

    /// Replaces the first string value of `field` in a JSON text.
    static func replaceValue(of field: String, in text: String, with value: String) -> String {
        guard let range = text.range(of: "\"\(field)\":\""),
            let close = text[range.upperBound...].firstIndex(of: "\"")
        else { return text }
        return text.replacingCharacters(in: range.upperBound..<close, with: value)
    }

    /// The index of the `offset`-th entry of `type`.
    static func index(of type: String, offset: Int = 0) throws -> UInt64 {
        let queue = try DatabaseQueue(path: Shared.story.path, configuration: readOnly)
        defer { try? queue.close() }
        return try queue.read { db in
            guard
                let index = try Int64.fetchOne(
                    db,
                    sql: "SELECT idx FROM entries WHERE type = ? ORDER BY idx LIMIT 1 OFFSET ?",
                    arguments: [type, offset]
                )
            else { throw SimulationError("no \(type) entry") }
            return UInt64(index)
        }
    }

    static func query<T>(_ body: (Database) throws -> T) throws -> T {
        let queue = try DatabaseQueue(path: Shared.story.path, configuration: readOnly)
        defer { try? queue.close() }
        return try queue.read(body)
    }

    static var readOnly: Configuration {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(15)
        return configuration
    }

    /// The product a single-product entry is about.
    static func product(at index: UInt64) throws -> String {
        let bytes: [UInt8] = try query { db in try Attacker.bytes(db, index) }
        guard let product = try LogEntry(parsing: bytes).statement.product?.digitalLink else {
            throw SimulationError("entry \(index) names no product")
        }
        return product
    }
}

enum CanonicalJSONShim {
    static func decode(_ bytes: [UInt8]) throws -> JSONValue { try CanonicalJSON.decode(bytes, options: .strict) }
}

/// Audits `path` and expects the first failure at `index` under `rule`.
func expectDetected(
    _ report: AuditReport,
    index: UInt64?,
    rule: String,
    product: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(!report.passed, "the tampering went unnoticed", sourceLocation: sourceLocation)
    let first = report.firstFailure
    #expect(first?.index == index, "first failure: \(first?.description ?? "none")", sourceLocation: sourceLocation)
    #expect(first?.rule == rule, "first failure: \(first?.description ?? "none")", sourceLocation: sourceLocation)
    if let product {
        #expect(
            first?.product == product,
            "first failure: \(first?.description ?? "none")",
            sourceLocation: sourceLocation
        )
    }
}

/// Audits `path` three times: with every product head in memory; with only 8 kept there (the rest
/// written to the audit's scratch file and read back), so that the end compares the stored rows in
/// many ranges, on a helper thread beside the reads; and the same on one thread, where the end
/// reads and compares in turn. None of that may change a single finding.
func auditFile(
    _ path: String,
    keepGoing: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> AuditReport {
    let report = try Shared.auditor(keepGoing: keepGoing).audit(store: Shared.open(path))
    for threads in [2, 1] {
        let spilling = try Shared.auditor(threads: threads, keepGoing: keepGoing, residentChains: 8)
            .audit(store: Shared.open(path))
        #expect(
            spilling == report,
            "with 8 resident chains on \(threads) threads: \(spilling.failures.prefix(3))",
            sourceLocation: sourceLocation
        )
    }
    return report
}

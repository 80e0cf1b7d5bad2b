import Foundation
import GRDB

/// A key → bytes table in a private temporary SQLite file, for a computation that must remember
/// more than it should hold in memory: the auditor's head of every product chain, on a ledger of
/// millions of products.
///
/// It is scratch space, not a ledger: nothing in it is shared, trusted by anyone else or meant to
/// survive the process. Journal and fsync are off (a crash loses only work that is redone anyway)
/// and the file is deleted when the table is released. SQLite's page cache is capped, so the
/// memory it uses does not grow with the number of keys.
public final class ScratchTable {
    private let queue: DatabaseQueue
    private let url: URL
    /// Every key ever put, so that ``value(for:)`` answers `nil` without a query for a key never
    /// written. The auditor asks for each product it does not hold in memory, and most of those
    /// were never written out: every commission once the first heads have been (140,000 lookups
    /// at 10^6 entries, each a read transaction on this file, 3.7 % of an audit's samples; issue 15).
    private var written = KeyFilter()

    /// Opens a new, empty table in `directory` (the system's temporary directory by default).
    public init(directory: URL? = nil, cacheKiB: Int = 8_192) throws(StorageError) {
        let folder = directory ?? FileManager.default.temporaryDirectory
        url = folder.appendingPathComponent("retrace-scratch-\(UUID().uuidString).sqlite")
        do {
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = OFF")
                try db.execute(sql: "PRAGMA synchronous = OFF")
                try db.execute(sql: "PRAGMA cache_size = -\(max(cacheKiB, 256))")
            }
            queue = try DatabaseQueue(path: url.path, configuration: configuration)
            try queue.write { db in
                try db.execute(sql: "CREATE TABLE scratch (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID")
            }
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw StorageError(.io, "cannot create a scratch table in \(folder.path): \(error)")
        }
    }

    deinit {
        try? queue.close()
        try? FileManager.default.removeItem(at: url)
    }

    /// Stores each value under its key, replacing what was there, in one transaction.
    ///
    /// Rows are bound, looked up and read back through SQLite's C API, as the ledger's own rows
    /// are (``SQLiteAccess``): GRDB's `StatementArguments` made a `DatabaseValue` of each value and a
    /// `Data` of each blob, and its `Row` copied each blob twice — a quarter of the instructions of
    /// writing out an audit's evicted heads (issue 15).
    public func put(_ rows: [(key: String, value: [UInt8])]) throws(StorageError) {
        // Before the write: a key in the filter whose row failed to land only costs a query.
        for row in rows { written.insert(row.key) }
        do {
            try queue.write { db in
                for row in rows {
                    try SQLiteAccess.execute(
                        "INSERT OR REPLACE INTO scratch (key, value) VALUES (?, ?)",
                        [.text(row.key), .blob(row.value)],
                        in: db
                    )
                }
            }
        } catch {
            throw StorageError(.io, "writing \(rows.count) rows to the scratch table \(url.path): \(error)")
        }
    }

    /// The value stored under `key`, if any.
    public func value(for key: String) throws(StorageError) -> [UInt8]? {
        guard written.mayContain(key) else { return nil }
        do {
            // One statement needs no transaction around it: `read` wrapped each in BEGIN/COMMIT.
            return try queue.inDatabase { db in
                let sql = "SELECT value FROM scratch WHERE key = ?"
                var value: [UInt8]?
                try SQLiteAccess.query(db.cachedStatement(sql: sql).sqliteStatement, sql, [.text(key)], in: db) { row in
                    value = try row.blob(0)
                    return false
                }
                return value
            }
        } catch {
            throw StorageError(.io, "reading the scratch table \(url.path): \(error)")
        }
    }

    /// Every row in ascending bytewise (UTF-8) key order, SQLite's BINARY collation, streamed: no
    /// more than one row is in memory at a time.
    public func forEachInKeyOrder(_ body: (String, [UInt8]) throws -> Void) throws {
        try queue.read { db in
            let sql = "SELECT key, value FROM scratch ORDER BY key"
            // Held to the end: the statement is finalized when it is released.
            let statement = try db.makeStatement(sql: sql)
            try withExtendedLifetime(statement) {
                try SQLiteAccess.query(statement.sqliteStatement, sql, [], in: db) { row in
                    try body(try row.text(0), try row.blob(1))
                    return true
                }
            }
        }
    }
}

/// A Bloom filter over keys, of fixed size (4 MiB, allocated at the first insert), so that the
/// memory of what uses it stays flat however many keys go in: a key inserted is always found
/// (no false negatives); one never inserted is found by mistake with a probability that grows with
/// the keys inserted (about 1 in 500,000 at 140,000 keys, a third at 14 million), which costs only
/// the lookup the filter would have saved.
struct KeyFilter {
    static let bitCount = 1 << 25
    private static let probes = 3
    private var words: [UInt64] = []

    mutating func insert(_ key: String) {
        if words.isEmpty { words = [UInt64](repeating: 0, count: Self.bitCount / 64) }
        let (first, step) = Self.hashes(key)
        for probe in 0..<Self.probes {
            let bit = Self.bit(first, step, probe)
            words[bit / 64] |= 1 << UInt64(bit % 64)
        }
    }

    func mayContain(_ key: String) -> Bool {
        guard !words.isEmpty else { return false }
        let (first, step) = Self.hashes(key)
        for probe in 0..<Self.probes {
            let bit = Self.bit(first, step, probe)
            if words[bit / 64] & (1 << UInt64(bit % 64)) == 0 { return false }
        }
        return true
    }

    /// Two independent hashes of the key (the process's seeded `Hasher`, salted apart); probe `i`
    /// is `first + i × step` (Kirsch–Mitzenmacher double hashing).
    private static func hashes(_ key: String) -> (UInt64, UInt64) {
        var first = Hasher()
        first.combine(key)
        var second = Hasher()
        second.combine(0x9E37_79B9_7F4A_7C15 as UInt64)
        second.combine(key)
        return (UInt64(bitPattern: Int64(first.finalize())), UInt64(bitPattern: Int64(second.finalize())) | 1)
    }

    private static func bit(_ first: UInt64, _ step: UInt64, _ probe: Int) -> Int {
        Int((first &+ UInt64(probe) &* step) % UInt64(bitCount))
    }
}

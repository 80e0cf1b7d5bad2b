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
    public func put(_ rows: [(key: String, value: [UInt8])]) throws(StorageError) {
        do {
            try queue.write { db in
                let statement = try db.cachedStatement(sql: "INSERT OR REPLACE INTO scratch (key, value) VALUES (?, ?)")
                for row in rows {
                    try statement.execute(arguments: [row.key, Data(row.value)])
                }
            }
        } catch {
            throw StorageError(.io, "writing \(rows.count) rows to the scratch table \(url.path): \(error)")
        }
    }

    /// The value stored under `key`, if any.
    public func value(for key: String) throws(StorageError) -> [UInt8]? {
        do {
            return try queue.read { db in
                try Data.fetchOne(
                    db.cachedStatement(sql: "SELECT value FROM scratch WHERE key = ?"),
                    arguments: [key]
                ).map { Array($0) }
            }
        } catch {
            throw StorageError(.io, "reading the scratch table \(url.path): \(error)")
        }
    }

    /// Every row in ascending bytewise (UTF-8) key order, SQLite's BINARY collation, streamed: no
    /// more than one row is in memory at a time.
    public func forEachInKeyOrder(_ body: (String, [UInt8]) throws -> Void) throws {
        try queue.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT key, value FROM scratch ORDER BY key")
            while let row = try rows.next() {
                let value: Data = row[1]
                try body(row[0], Array(value))
            }
        }
    }
}

import Foundation
import GRDB
import GRDBSQLite
import MerkleLog

/// The embedded ledger engine: one SQLite file in WAL mode, through GRDB.
///
/// Durability: `synchronous = FULL` in WAL mode makes SQLite fsync the WAL at every commit, so a
/// transaction that returned is on stable storage and survives power loss; `NORMAL` would only
/// survive a process crash. Appends are batched into one transaction to amortise that fsync.
/// Writers take the lock at `BEGIN IMMEDIATE`, so two processes appending to one file serialise
/// instead of failing half-way, and each re-reads the tree inside its own transaction.
public final class SQLiteLedgerStore: LedgerStore {
    public let path: String
    private let pool: DatabasePool
    /// Checkpoints the WAL beside the writer; nil for a read-only store.
    let checkpointer: WALCheckpointer?

    private init(path: String, pool: DatabasePool, checkpointer: WALCheckpointer?) {
        self.path = path
        self.pool = pool
        self.checkpointer = checkpointer
    }

    deinit {
        guard let checkpointer else { return }
        // The writer's WAL hook points at the checkpointer: remove it before the checkpointer goes.
        pool.writeWithoutTransaction { db in _ = sqlite3_wal_hook(db.sqliteConnection, nil, nil) }
        checkpointer.close()
    }

    /// Creates a new, empty ledger file. Refuses to touch an existing file.
    ///
    /// The file appears at `path` only once its schema is committed: it is built under a staging
    /// name and linked into place, so a process killed while creating it leaves no half-made file
    /// that a later run would refuse as "not a Retrace ledger" (a mirror's first run, `init`).
    public static func create(path: String) throws -> SQLiteLedgerStore {
        if FileManager.default.fileExists(atPath: path) {
            throw StorageError(.alreadyExists, "\(path) already exists; choose a new path for a new ledger")
        }
        let staging = path + ".creating-\(UUID().uuidString.prefix(8))"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: staging + suffix) } }
        do {
            let pool = try DatabasePool(path: staging, configuration: configuration(readOnly: false, checkpointer: nil))
            try enforceDurability(pool)
            try pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    try db.execute(sql: "PRAGMA application_id = \(Schema.applicationID)")
                    try db.execute(sql: "PRAGMA user_version = \(Schema.version)")
                    try db.execute(sql: Schema.create)
                    try db.execute(sql: Schema.appendOnlyTriggers)
                    return .commit
                }
                // Everything into the main file, so that the file alone is the ledger.
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
            try pool.close()
        } catch let error as DatabaseError {
            throw map(error, path: path)
        }
        // link(2) never replaces an existing file: two creators of one path cannot both win.
        guard link(staging, path) == 0 else {
            let reason = String(cString: strerror(errno))
            if errno == EEXIST {
                throw StorageError(.alreadyExists, "\(path) already exists; choose a new path for a new ledger")
            }
            throw StorageError(.io, "\(path) could not be created: \(reason)")
        }
        return try open(path: path)
    }

    /// Opens an existing ledger. Nothing is written to a file that turns out not to be a ledger.
    ///
    /// A writable open upgrades an older schema in one transaction (``Schema/upgrades``); a
    /// read-only one reads it as it is (a version 1 file keeps every link's state, which readers
    /// and the audit accept: an equal state is no lie).
    public static func open(path: String, readOnly: Bool = false) throws -> SQLiteLedgerStore {
        try open(path: path, readOnly: readOnly, checkpoints: .standard)
    }

    /// ``open(path:readOnly:)`` with other WAL checkpoint thresholds, for tests.
    static func open(
        path: String,
        readOnly: Bool = false,
        checkpoints: WALCheckpointer.Thresholds
    ) throws -> SQLiteLedgerStore {
        let version = try probe(path: path)
        do {
            let checkpointer = readOnly ? nil : WALCheckpointer(path: path, thresholds: checkpoints)
            let pool = try DatabasePool(
                path: path,
                configuration: configuration(readOnly: readOnly, checkpointer: checkpointer)
            )
            if !readOnly {
                try enforceDurability(pool)
                if version < Schema.version { try upgrade(pool, path: path) }
            }
            return SQLiteLedgerStore(path: path, pool: pool, checkpointer: checkpointer)
        } catch let error as DatabaseError {
            throw map(error, path: path)
        }
    }

    /// Checks `application_id` and `user_version` on a read-only connection, before any
    /// connection that could write is opened.
    ///
    /// The file is never opened outside SQLite (no `FileHandle` to peek at its header): closing any
    /// descriptor of the file releases every POSIX lock this process holds on it, including those
    /// of other connections already open here, after which another process could checkpoint and
    /// delete the WAL under them (SQLite's "how to corrupt" §2.2). SQLite itself refuses a file
    /// that is not a database (`SQLITE_NOTADB`) without writing to it.
    @discardableResult
    private static func probe(path: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StorageError(.notFound, "no ledger at \(path); create one with `retrace init` or `retrace demo`")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw StorageError(.io, "cannot read \(path): permission denied or not a regular file")
        }
        do {
            var config = Configuration()
            config.readonly = true
            // Another process may be opening or closing the file (WAL recovery, the last close's
            // checkpoint) and hold its lock for a moment: wait like every other connection does.
            config.busyMode = .timeout(15)
            let queue = try DatabaseQueue(path: path, configuration: config)
            let (application, version) = try queue.read { db in
                (
                    try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0,
                    try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                )
            }
            try queue.close()
            guard application == Schema.applicationID else {
                throw StorageError(.notALedger, "\(path) is an SQLite database but not a Retrace ledger")
            }
            guard version <= Schema.version else {
                throw StorageError(
                    .newerSchema,
                    "\(path) has ledger schema \(version); this retrace reads up to \(Schema.version): upgrade retrace"
                )
            }
            return version
        } catch let error as DatabaseError {
            throw map(error, path: path)
        }
    }

    /// Brings an older ledger to ``Schema/version``, all or nothing; its version is read again
    /// inside the write lock, since another process may have upgraded the file since the probe.
    private static func upgrade(_ pool: DatabasePool, path: String) throws {
        try pool.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                let current = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                guard current < Schema.version else { return .commit }
                guard current >= 1 else {
                    throw StorageError(
                        .notALedger,
                        "\(path) has ledger schema \(current), which no retrace release wrote; expected 1 to \(Schema.version)"
                    )
                }
                for step in Schema.upgrades where step.from >= current { try db.execute(sql: step.sql) }
                return .commit
            }
        }
    }

    /// GRDB sets `synchronous = NORMAL` on a pool's writer after `prepareDatabase` runs; set FULL
    /// again on the one writer connection, so every commit syncs the WAL (see the type's comment).
    private static func enforceDurability(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    }

    /// The writer's `PRAGMA synchronous` level (2 = FULL), for tests that hold the durability claim.
    public func synchronousLevel() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// The writer's page cache, in KiB (SQLite's default is 2,000). Each appended event updates a
    /// leaf of the event-id index and one of `chain_links`, both keyed by hashes, so at random
    /// places: with 2 MB most of those leaves were read from the file again (pread) and, once the
    /// cache filled mid-transaction, dirty pages were written to the WAL before the commit wrote
    /// them again. Measured on 10,000 appends to a 10^5-entry ledger (`strace -c`): 65,641 preads
    /// and 56,426 pwrites with the default, 29,431 and 39,633 with 16 MiB or 64 MiB. Pages are
    /// allocated as they are used, so a small ledger costs no more.
    static let writerCacheKiB = 65_536
    /// Each pooled reader's page cache, in KiB: proofs read Merkle nodes spread over the file.
    static let readerCacheKiB = 16_384

    /// The page cache sizes in KiB of the writer and of a reader, as SQLite reports them, for tests.
    func cacheKiB() throws -> (writer: Int, reader: Int) {
        let writer = try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? 0 }
        let reader = try pool.read { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? 0 }
        return (-writer, -reader)
    }

    private static func configuration(readOnly: Bool, checkpointer: WALCheckpointer?) -> Configuration {
        var config = Configuration()
        config.readonly = readOnly
        config.busyMode = .timeout(15)
        config.label = "retrace"
        config.prepareDatabase { db in
            let cacheKiB = db.configuration.readonly ? readerCacheKiB : writerCacheKiB
            try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)")
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA synchronous = FULL")
                checkpointer?.install(on: db)
            }
        }
        return config
    }

    public func read<T>(_ body: (any LedgerReader) throws -> T) throws -> T {
        do {
            return try pool.read { db in try body(SQLiteAccess(db: db)) }
        } catch let error as DatabaseError {
            throw Self.map(error, path: path)
        }
    }

    public func write<T>(_ body: (any LedgerWriter) throws -> T) throws -> T {
        do {
            return try pool.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(SQLiteAccess(db: db))
                    return .commit
                }
                guard let result else { throw StorageError(.io, "transaction produced no result") }
                return result
            }
        } catch let error as DatabaseError {
            throw Self.map(error, path: path)
        }
    }

    /// Runs SQLite's own consistency check of the file (b-trees, indexes, free list).
    public func integrityCheck() throws -> [String] {
        try read { _ in () }
        do {
            return try pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }.filter { $0 != "ok" }
        } catch let error as DatabaseError {
            throw Self.map(error, path: path)
        }
    }

    static func map(_ error: DatabaseError, path: String) -> StorageError {
        let detail = error.message ?? "\(error.resultCode)"
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StorageError(.busy, "\(path) is locked by another writer (\(detail)); retry")
        case .SQLITE_FULL:
            return StorageError(.full, "the disk holding \(path) is full; nothing was appended")
        case .SQLITE_READONLY, .SQLITE_PERM:
            return StorageError(.readOnly, "\(path) cannot be written (\(detail)); nothing was appended")
        case .SQLITE_CANTOPEN:
            return StorageError(.io, "\(path) cannot be opened (\(detail))")
        case .SQLITE_NOTADB:
            return StorageError(.notALedger, "\(path) is not a Retrace ledger (\(detail))")
        case .SQLITE_CORRUPT:
            return StorageError(.corrupt, "\(path) is damaged (\(detail)); restore it from a backup or an export")
        case .SQLITE_CONSTRAINT:
            return StorageError(.conflict, "\(path): a concurrent writer stored the same data first (\(detail)); retry")
        default:
            return StorageError(.io, "\(path): \(detail)")
        }
    }
}

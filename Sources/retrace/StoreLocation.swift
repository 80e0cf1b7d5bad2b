import Foundation
import RetracePostgres
import RetraceStorage

/// What `--db` names: an SQLite file (the embedded default) or a PostgreSQL ledger
/// (`postgres://user[:password]@host[:port]/database[?schema=NAME]`), opened behind the one
/// `LedgerStore` protocol so that every command works on both.
enum StoreLocation {
    static func open(_ db: String, readOnly: Bool) throws -> any LedgerStore {
        if PostgresLedgerStore.isURL(db) { return try PostgresLedgerStore.open(url: db, readOnly: readOnly) }
        return try SQLiteLedgerStore.open(path: db, readOnly: readOnly)
    }

    /// The store of `audit --mirror`: opened when it exists, created (empty) when it does not.
    /// A folder is the mirror an earlier `retrace` kept as export files, which is refused by name.
    static func openMirror(_ location: String) throws -> any LedgerStore {
        if PostgresLedgerStore.isURL(location) {
            do { return try PostgresLedgerStore.create(url: location) } catch let error as StorageError
                where error.code == .alreadyExists
            {
                return try PostgresLedgerStore.open(url: location)
            }
        }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: location, isDirectory: &isFolder) {
            guard !isFolder.boolValue else {
                throw CLIError.usage(
                    "--mirror \(location) is a folder: a mirror kept as export files by an earlier retrace. A mirror is "
                        + "now a ledger store, like --db: give an SQLite file path (e.g. \(location).sqlite) or a "
                        + "postgres:// URL; the first run there copies and audits the whole ledger, and the folder "
                        + "can then be removed"
                )
            }
            return try SQLiteLedgerStore.open(path: location)
        }
        return try SQLiteLedgerStore.create(path: location)
    }

    static func create(_ db: String) throws -> any LedgerStore {
        if PostgresLedgerStore.isURL(db) { return try PostgresLedgerStore.create(url: db) }
        return try SQLiteLedgerStore.create(path: db)
    }
}

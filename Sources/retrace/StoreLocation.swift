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

    static func create(_ db: String) throws -> any LedgerStore {
        if PostgresLedgerStore.isURL(db) { return try PostgresLedgerStore.create(url: db) }
        return try SQLiteLedgerStore.create(path: db)
    }
}

import Foundation
import Logging
import MerkleLog
import NIOCore
import NIOPosix
import PostgresNIO
import RetraceStorage
import Synchronization

/// A ledger kept in PostgreSQL, for operators whose ledger outgrows one machine: several service
/// instances on one database, replicas for reads, the database's own backups.
///
/// The same guarantees as ``SQLiteLedgerStore``, by the same means in PostgreSQL's terms:
/// - **Durability**: `synchronous_commit = on`, so a transaction that returned is flushed to the
///   write-ahead log; an append is answered only after that.
/// - **One writer at a time**: every write transaction takes a transaction-scoped advisory lock
///   named after the ledger before it reads anything, so writers in any number of processes or
///   hosts serialise (as SQLite's `BEGIN IMMEDIATE` does) and each re-reads the tree inside its own
///   transaction.
/// - **Consistent reads**: reads run in `REPEATABLE READ READ ONLY` transactions, one snapshot each.
/// - **Append-only**: triggers refuse UPDATE, DELETE and TRUNCATE on every table.
///
/// A ledger lives in its own PostgreSQL schema (`?schema=NAME` in the URL, default `retrace`), so
/// one database can hold several. The protocol is synchronous, like SQLite's: each call blocks its
/// thread on the database's answer. It must not be called on a SwiftNIO event-loop thread.
public final class PostgresLedgerStore: LedgerStore {
    /// The location without its password, for messages.
    public let location: String
    let schema: String
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let idle = Mutex<[PostgresConnection]>([])
    private let nextID = Atomic<Int>(1)

    /// Connections kept open between transactions; more are opened under load and closed after.
    static let keptConnections = 8

    private init(url: PostgresURL) {
        self.location = url.redacted
        self.schema = url.schema
        var configuration = PostgresConnection.Configuration(
            host: url.host,
            port: url.port,
            username: url.user,
            password: url.password,
            database: url.database,
            tls: .disable
        )
        configuration.options.connectTimeout = .seconds(10)
        self.configuration = configuration
        var logger = Logger(label: "retrace.postgres")
        logger.logLevel = .critical
        self.logger = logger
    }

    deinit {
        for connection in idle.withLock({ $0 }) { Self.close(connection) }
    }

    /// Whether a `--db` value names a PostgreSQL ledger rather than a file.
    /// The schema a `postgres://` URL names (`retrace` when it names none), or `nil` for text that is
    /// not such a URL: what a command names its own files after, since a URL is not a path.
    public static func schemaName(url text: String) -> String? {
        (try? PostgresURL(parsing: text))?.schema
    }

    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Creates the ledger's schema and tables. Refuses a schema that already exists.
    public static func create(url text: String) throws -> PostgresLedgerStore {
        let store = PostgresLedgerStore(url: try PostgresURL(parsing: text))
        try store.withConnection { connection in
            try store.run(connection, "BEGIN")
            do {
                guard try !store.schemaExists(connection) else {
                    throw StorageError(
                        .alreadyExists,
                        "\(store.location) already has a schema \"\(store.schema)\"; "
                            + "choose another ?schema= for a new ledger"
                    )
                }
                for statement in PostgresSchema.create(schema: store.schema) {
                    try store.run(connection, PostgresQuery(unsafeSQL: statement))
                }
                try store.run(connection, "COMMIT")
            } catch {
                _ = try? store.run(connection, "ROLLBACK")
                throw error
            }
        }
        return store
    }

    /// Drops the ledger's schema and everything in it: only for a ledger this process has just
    /// created with ``create(url:)`` and whose first writes failed (`init`, `import`, `demo`), so that
    /// a refusal leaves nothing behind, as a removed SQLite file does. Refuses a schema that is not
    /// a Retrace ledger.
    public func dropCreated() throws {
        try withConnection { connection in
            let found = try rows(
                connection,
                "SELECT value FROM schema_info WHERE key = 'application'",
                missingTableIsNotALedger: true
            )
            guard let row = found.first, try row.decode(String.self) == PostgresSchema.applicationTag else {
                throw StorageError(.notALedger, "\(location) schema \"\(schema)\" is not a Retrace ledger; not dropped")
            }
            try run(connection, PostgresQuery(unsafeSQL: "DROP SCHEMA \(PostgresSchema.quoted(schema)) CASCADE"))
        }
    }

    /// Removes the ledger at `url` for a command told to replace it (`retrace demo --force`), as
    /// removing the file does on SQLite: nothing happens when the schema does not exist, and a
    /// schema that holds anything but a Retrace ledger is refused and kept.
    public static func dropLedger(url text: String) throws {
        let store = PostgresLedgerStore(url: try PostgresURL(parsing: text))
        if try store.withConnection({ try store.schemaExists($0) }) { try store.dropCreated() }
    }

    /// Whether the URL's schema exists at all (a ledger or anything else).
    private func schemaExists(_ connection: PostgresConnection) throws -> Bool {
        try !rows(connection, "SELECT 1 FROM information_schema.schemata WHERE schema_name = \(schema)").isEmpty
    }

    /// Opens an existing ledger, checking that its schema is a Retrace ledger this code can read.
    public static func open(url text: String, readOnly: Bool = false) throws -> PostgresLedgerStore {
        let store = PostgresLedgerStore(url: try PostgresURL(parsing: text))
        try store.withConnection { connection in
            let found = try store.rows(
                connection,
                "SELECT value FROM schema_info WHERE key = 'application'",
                missingTableIsNotALedger: true
            )
            guard let row = found.first, try row.decode(String.self) == PostgresSchema.applicationTag else {
                throw StorageError(.notALedger, "\(store.location) schema \"\(store.schema)\" is not a Retrace ledger")
            }
            let version = try store.rows(connection, "SELECT value FROM schema_info WHERE key = 'version'")
            guard let versionText = try version.first?.decode(String.self), let number = Int(versionText) else {
                throw StorageError(.corrupt, "\(store.location): the ledger's schema version is missing")
            }
            guard number <= PostgresSchema.version else {
                throw StorageError(
                    .newerSchema,
                    "\(store.location) has ledger schema \(number); this retrace reads up to "
                        + "\(PostgresSchema.version): upgrade retrace"
                )
            }
            if !readOnly, number < PostgresSchema.version { try store.upgrade(connection) }
        }
        return store
    }

    /// Brings an older ledger schema to ``PostgresSchema/version``, all or nothing, under the
    /// writers' lock; re-read inside it, since another instance may have upgraded it meanwhile.
    private func upgrade(_ connection: PostgresConnection) throws {
        try run(connection, "BEGIN ISOLATION LEVEL READ COMMITTED")
        do {
            try run(connection, "SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey(schema)))")
            let found = try rows(connection, "SELECT value FROM schema_info WHERE key = 'version'")
            let current = try found.first.map { try $0.decode(String.self) }.flatMap(Int.init) ?? 0
            guard let steps = PostgresSchema.upgrade(from: current) else {
                throw StorageError(
                    .notALedger,
                    "\(location) has ledger schema \(current), which no retrace release wrote; "
                        + "expected 1 to \(PostgresSchema.version)"
                )
            }
            for statement in steps { try run(connection, PostgresQuery(unsafeSQL: statement)) }
            try run(connection, "COMMIT")
        } catch {
            _ = try? run(connection, "ROLLBACK")
            throw error
        }
    }

    /// Bytes the ledger's tables take in the database: rows, indexes and TOAST of every table of
    /// its schema (`pg_total_relation_size`), the figure to compare with an SQLite file's size.
    /// The write-ahead log and the cluster's own files are not counted.
    public func bytesOnDisk() throws -> Int {
        try withConnection { connection in
            let found = try rows(
                connection,
                """
                SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = \(schema) AND c.relkind = 'r'
                """
            )
            guard let row = found.first else { return 0 }
            return Int(try row.int64(0))
        }
    }

    // MARK: LedgerStore

    /// Each read transaction costs `BEGIN` and `COMMIT` round trips besides its queries.
    public var prefersParallelReads: Bool { false }

    public func read<T>(_ body: (any LedgerReader) throws -> T) throws -> T {
        try withConnection { connection in
            try run(connection, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                let result = try body(PostgresAccess(store: self, connection: connection, pending: PendingRows()))
                try run(connection, "COMMIT")
                return result
            } catch {
                _ = try? run(connection, "ROLLBACK")
                throw error
            }
        }
    }

    public func write<T>(_ body: (any LedgerWriter) throws -> T) throws -> T {
        try withConnection { connection in
            try run(connection, "BEGIN ISOLATION LEVEL READ COMMITTED")
            do {
                // One writer per ledger, across processes and hosts, held until COMMIT or ROLLBACK.
                try run(connection, "SELECT pg_advisory_xact_lock(\(PostgresSchema.lockKey(schema)))")
                let access = PostgresAccess(store: self, connection: connection, pending: PendingRows())
                let result = try body(access)
                // The rows still held go out before COMMIT; a duplicate among them fails the whole
                // transaction (23505, `.conflict`), as it did when each row was sent on its own.
                try access.flush()
                try run(connection, "COMMIT")
                return result
            } catch {
                _ = try? run(connection, "ROLLBACK")
                throw error
            }
        }
    }

    // MARK: Connections and queries

    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try checkOut()
        do {
            let result = try body(connection)
            checkIn(connection)
            return result
        } catch {
            // The transaction was rolled back; a connection that no longer answers is closed.
            if !connection.isClosed, (try? run(connection, "SELECT 1")) != nil {
                checkIn(connection)
            } else {
                Self.close(connection)
            }
            throw error
        }
    }

    private func checkOut() throws -> PostgresConnection {
        while let connection = idle.withLock({ $0.popLast() }) {
            if !connection.isClosed { return connection }
        }
        let id = nextID.add(1, ordering: .relaxed).oldValue
        let connection: PostgresConnection
        do {
            connection = try PostgresConnection.connect(
                on: MultiThreadedEventLoopGroup.singleton.any(),
                configuration: configuration,
                id: id,
                logger: logger
            ).wait()
        } catch {
            throw StorageError(.io, "cannot connect to \(location): \(Self.describe(error))")
        }
        do {
            try run(connection, "SET synchronous_commit = on")
            // Every query names tables without a schema; the URL chose the ledger's schema.
            try run(connection, PostgresQuery(unsafeSQL: "SET search_path TO \(PostgresSchema.quoted(schema))"))
            return connection
        } catch {
            Self.close(connection)
            throw error
        }
    }

    private func checkIn(_ connection: PostgresConnection) {
        let kept = idle.withLock { idle -> Bool in
            guard idle.count < Self.keptConnections else { return false }
            idle.append(connection)
            return true
        }
        if !kept { Self.close(connection) }
    }

    /// Closes and waits: postgres-nio requires a connection to be closed before it is released.
    private static func close(_ connection: PostgresConnection) {
        let closing: EventLoopFuture<Void> = connection.close()
        try? closing.wait()
    }

    func run(_ connection: PostgresConnection, _ query: PostgresQuery) throws {
        _ = try rows(connection, query)
    }

    func rows(
        _ connection: PostgresConnection,
        _ query: PostgresQuery,
        missingTableIsNotALedger: Bool = false
    ) throws -> [PostgresRow] {
        do {
            return Array(try connection.query(query, logger: logger).wait().rows)
        } catch let error as PSQLError {
            throw map(error, missingTableIsNotALedger: missingTableIsNotALedger)
        } catch {
            throw StorageError(.io, "\(location): \(Self.describe(error))")
        }
    }

    private func map(_ error: PSQLError, missingTableIsNotALedger: Bool) -> StorageError {
        let state = error.serverInfo?[.sqlState] ?? ""
        let message = error.serverInfo?[.message] ?? Self.describe(error)
        switch state {
        case "42P01" where missingTableIsNotALedger, "3F000" where missingTableIsNotALedger:
            return StorageError(.notFound, "no Retrace ledger in schema \"\(schema)\" at \(location) (\(message))")
        case "23505", "23P01":
            return StorageError(
                .conflict,
                "\(location): a concurrent writer stored the same data first (\(message)); retry"
            )
        case "40001", "40P01", "55P03":
            return StorageError(.busy, "\(location) is busy (\(message)); retry")
        case "25006":
            return StorageError(.readOnly, "\(location) cannot be written (\(message)); nothing was appended")
        case "53100":
            return StorageError(.full, "the disk of \(location) is full; nothing was appended")
        case "42501":
            return StorageError(.readOnly, "\(location): permission denied (\(message))")
        case "P0001":
            return StorageError(.corrupt, "\(location): \(message)")
        case "":
            return StorageError(.io, "\(location) cannot be reached: \(Self.describe(error))")
        default:
            return StorageError(.io, "\(location): \(message) (SQLSTATE \(state))")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let psql = error as? PSQLError {
            return psql.serverInfo?[.message] ?? "\(psql.code)"
        }
        return "\(error)"
    }
}

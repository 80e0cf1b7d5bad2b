import Foundation
import GRDB
import GRDBSQLite
import MerkleLog

/// Reads and writes inside one GRDB connection's transaction.
///
/// Statements are cached per connection: the append path runs the same five inserts thousands of
/// times per batch, and preparing them once is most of what makes batches fast.
struct SQLiteAccess: LedgerWriter {
    let db: Database

    func withSavepoint<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        try db.inSavepoint {
            result = try body()
            return .commit
        }
        guard let result else { throw StorageError(.io, "savepoint produced no result") }
        return result
    }

    func metadata(_ key: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key])
    }

    func treeSize() throws -> UInt64 {
        let max = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(idx) FROM entries"))
        return max.map { UInt64($0) + 1 } ?? 0
    }

    /// An entry's columns, and whether it has batch members: asked in the same statement, since a
    /// second statement per entry cost about as much as reading the entry.
    private static let entryColumns =
        "SELECT idx, event_id, type, received, leaf_hash, bytes, "
        + "EXISTS(SELECT 1 FROM batch_members WHERE batch_members.idx = entries.idx) FROM entries"
    private static let entrySQL = entryColumns + " WHERE idx = ?"

    func entry(at index: UInt64) throws -> StoredEntry? {
        try first(Self.entrySQL, .integer(Int64(index))) { try makeEntry($0) }
    }

    /// The first row of the cached query `sql`, read in place by `body`.
    private func first<T>(_ sql: String, _ values: Bound..., body: (Columns) throws -> T) throws -> T? {
        var result: T?
        try query(try db.cachedStatement(sql: sql).sqliteStatement, sql, values) { row in
            result = try body(row)
            return false
        }
        return result
    }

    /// Every row of the cached query `sql`, each read in place by `body`.
    private func all<T>(_ sql: String, _ values: Bound..., body: (Columns) throws -> T) throws -> [T] {
        try all(sql, values, body: body)
    }

    private func all<T>(_ sql: String, _ values: [Bound], body: (Columns) throws -> T) throws -> [T] {
        var rows: [T] = []
        try query(try db.cachedStatement(sql: sql).sqliteStatement, sql, values) { row in
            rows.append(try body(row))
            return true
        }
        return rows
    }

    /// Steps `handle` with `values` bound, handing `body` each row in place until it returns false.
    ///
    /// Straight through SQLite's C API, as the inserts are: GRDB's `Row.fetchCursor` checked and
    /// converted the arguments and built a cursor and a row for every query (about 30 K
    /// instructions each), and a dock scan runs some fifty queries. Errors are GRDB's
    /// `DatabaseError` with SQLite's code and message, so ``SQLiteLedgerStore`` maps them as before.
    ///
    /// Static, for the audit's ``ScratchTable`` too.
    static func query(
        _ handle: SQLiteStatement,
        _ sql: String,
        _ values: [Bound],
        in db: Database,
        _ body: (Columns) throws -> Bool
    ) throws {
        try bind(values, to: handle, in: db, sql: sql)
        defer { sqlite3_reset(handle) }
        while true {
            let stepped = sqlite3_step(handle)
            if stepped == SQLITE_DONE { return }
            guard stepped == SQLITE_ROW else { throw failure(stepped, in: db, sql: sql) }
            guard try body(Columns(handle)) else { return }
        }
    }

    private func query(
        _ handle: SQLiteStatement,
        _ sql: String,
        _ values: [Bound],
        _ body: (Columns) throws -> Bool
    ) throws {
        try Self.query(handle, sql, values, in: db, body)
    }

    func forEachEntry(from: UInt64, to: UInt64, _ body: (StoredEntry) throws -> Void) throws {
        guard from < to else { return }
        // A statement of its own, not the cached one: `body` may read entries meanwhile.
        let sql = Self.entryColumns + " WHERE idx >= ? AND idx < ? ORDER BY idx"
        let statement = try db.makeStatement(sql: sql)
        // Held to the end: the statement is finalized when it is released, and Swift may release
        // a value after its last use, here the handle's read.
        try withExtendedLifetime(statement) {
            try query(statement.sqliteStatement, sql, [.integer(Int64(from)), .integer(Int64(to))]) { row in
                try body(makeEntry(row))
                return true
            }
        }
    }

    private func makeEntry(_ row: Columns) throws -> StoredEntry {
        let index = try row.int64(0)
        let type = try row.text(2)
        var members: [[UInt8]] = []
        if type != "roster", try row.int64(6) != 0 {
            let sql = "SELECT bytes FROM batch_members WHERE idx = ? ORDER BY position"
            members = try all(sql, .integer(index)) { try $0.blob(0) }
        }
        guard let unsignedIndex = UInt64(exactly: index) else {
            throw StorageError(.corrupt, "an entry has the negative index \(index)")
        }
        let leafHash = try row.blob(4)
        return StoredEntry(
            index: unsignedIndex,
            eventID: try row.blob(1),
            type: type,
            received: try row.int64(3),
            leafHash: leafHash,
            bytes: try row.withBlob(5) { try EntryPacking.unpack($0, entry: unsignedIndex, leafHash: leafHash) },
            members: members
        )
    }

    func entryIndex(eventID: [UInt8]) throws -> UInt64? {
        try first("SELECT idx FROM entries WHERE event_id = ?", .blob(eventID)) { try $0.unsigned(0) }
    }

    /// A link's event id is its entry's (schema 4 stores it once, in `entries`): read by a join on
    /// the entry's index, a lookup by rowid in pages the append path has just touched.
    private static let linkColumns =
        "SELECT l.chain, l.seq, l.idx, e.event_id, l.state FROM chain_links AS l "
        + "LEFT JOIN entries AS e ON e.idx = l.idx"

    func head(of chain: String) throws -> ChainLink? {
        let sql = Self.linkColumns + " WHERE l.chain = ? ORDER BY l.seq DESC LIMIT 1"
        return try first(sql, .text(chain)) { try makeLink($0) }
    }

    func chain(_ chain: String) throws -> [ChainLink] {
        let sql = Self.linkColumns + " WHERE l.chain = ? ORDER BY l.seq"
        return try all(sql, .text(chain)) { try makeLink($0) }
    }

    func chainHeads(below size: UInt64) throws -> [ChainLink] {
        // SQLite takes the bare column `idx` from the row holding MAX(seq).
        let sql = """
            SELECT h.chain, h.seq, h.idx, e.event_id, x'' FROM
                (SELECT chain, MAX(seq) AS seq, idx FROM chain_links WHERE idx < ? GROUP BY chain) AS h
            LEFT JOIN entries AS e ON e.idx = h.idx
            """
        return try all(sql, .integer(Int64(clamping: size))) { try makeLink($0) }
    }

    func chainLinks(after lower: String?, through upper: String?) throws -> [ChainLink] {
        // The primary key (chain, seq) orders a WITHOUT ROWID table: one range of it, nothing sorted.
        let (range, values) = Self.keyRange("chain", after: lower, through: upper)
        let sql = "SELECT chain, seq, idx, x'', state FROM chain_links" + range + " ORDER BY chain, seq"
        return try all(sql, values) { try makeLink($0) }
    }

    func products(after lower: String?, through upper: String?) throws -> [ProductRow] {
        let (range, values) = Self.keyRange("product", after: lower, through: upper)
        let sql = "SELECT product, gtin, serial, passport FROM products" + range + " ORDER BY product"
        return try all(sql, values) { try makeProduct($0) }
    }

    /// The `WHERE` clause of a key range, each bound left out when open. Keys are compared with
    /// SQLite's BINARY collation, the bytewise order of their UTF-8.
    private static func keyRange(_ column: String, after lower: String?, through upper: String?) -> (String, [Bound]) {
        var terms: [String] = []
        var values: [Bound] = []
        if let lower {
            terms.append("\(column) > ?")
            values.append(.text(lower))
        }
        if let upper {
            terms.append("\(column) <= ?")
            values.append(.text(upper))
        }
        return (terms.isEmpty ? "" : " WHERE " + terms.joined(separator: " AND "), values)
    }

    private func makeLink(_ row: Columns) throws -> ChainLink {
        let chain = try row.text(0)
        let sequence = try row.int64(1)
        let index = try row.unsigned(2)
        guard !row.isNull(3) else {
            throw StorageError(
                .corrupt,
                "chain link \(sequence) of \(chain) points at entry \(index), which the ledger does not hold"
            )
        }
        return ChainLink(
            chain: chain,
            sequence: sequence,
            index: index,
            eventID: try row.blob(3),
            state: try row.blob(4)
        )
    }

    func product(_ product: String) throws -> ProductRow? {
        let sql = "SELECT product, gtin, serial, passport FROM products WHERE product = ?"
        return try first(sql, .text(product)) { try makeProduct($0) }
    }

    func products(withSerial serial: String) throws -> [ProductRow] {
        let sql = "SELECT product, gtin, serial, passport FROM products WHERE serial = ? ORDER BY product"
        return try all(sql, .text(serial)) { try makeProduct($0) }
    }

    private func makeProduct(_ row: Columns) throws -> ProductRow {
        ProductRow(product: try row.text(0), gtin: try row.text(1), serial: try row.text(2), passport: try row.blob(3))
    }

    func latestCheckpoint() throws -> StoredCheckpoint? {
        let sql = "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1"
        return try first(sql) { try makeCheckpoint($0) }
    }

    func checkpoints() throws -> [StoredCheckpoint] {
        try all("SELECT size, root, note FROM checkpoints ORDER BY size") { try makeCheckpoint($0) }
    }

    func checkpoint(size: UInt64) throws -> StoredCheckpoint? {
        let sql = "SELECT size, root, note FROM checkpoints WHERE size = ?"
        return try first(sql, .integer(Int64(size))) { try makeCheckpoint($0) }
    }

    func checkpoints(sizes: ClosedRange<UInt64>) throws -> [StoredCheckpoint] {
        let sql = "SELECT size, root, note FROM checkpoints WHERE size >= ? AND size <= ? ORDER BY size"
        return try all(
            sql,
            .integer(Int64(clamping: sizes.lowerBound)),
            .integer(Int64(clamping: sizes.upperBound))
        ) { try makeCheckpoint($0) }
    }

    private func makeCheckpoint(_ row: Columns) throws -> StoredCheckpoint {
        StoredCheckpoint(size: try row.unsigned(0), root: try row.blob(1), note: try row.text(2))
    }

    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] {
        let sql = "SELECT hash FROM nodes WHERE level = ? AND idx = ?"
        // One statement lookup for all the nodes: a proof asks for dozens at a time.
        let handle = try db.cachedStatement(sql: sql).sqliteStatement
        var found: [NodeID: [UInt8]] = [:]
        found.reserveCapacity(nodes.count)
        for node in nodes {
            try query(handle, sql, [.integer(Int64(node.level)), .integer(Int64(node.index))]) { row in
                found[node] = try row.blob(0)
                return false
            }
        }
        return found
    }

    func nodeHashes(level: Int, indices: Range<UInt64>) throws -> [(index: UInt64, hash: [UInt8])] {
        var found: [(index: UInt64, hash: [UInt8])] = []
        try forEachNodeHash(level: level, indices: indices) { found.append(($0, Array($1))) }
        return found
    }

    func forEachNodeHash(
        level: Int,
        indices: Range<UInt64>,
        _ body: (UInt64, UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard !indices.isEmpty, let low = Int64(exactly: indices.lowerBound) else { return }
        let sql = "SELECT idx, hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx"
        let handle = try db.cachedStatement(sql: sql).sqliteStatement
        let bounds: [Bound] = [.integer(Int64(level)), .integer(low), .integer(Int64(clamping: indices.upperBound))]
        try query(handle, sql, bounds) { row in
            let index = try row.unsigned(0)
            try row.withBlob(1) { try body(index, UnsafeRawBufferPointer($0)) }
            return true
        }
    }

    // MARK: Writing

    func setMetadata(_ key: String, _ value: String) throws {
        try db.cachedStatement(sql: "INSERT INTO meta (key, value) VALUES (?, ?)").execute(arguments: [key, value])
    }

    func insert(entry: StoredEntry) throws {
        try execute(
            "INSERT INTO entries (idx, event_id, type, received, leaf_hash, bytes) VALUES (?, ?, ?, ?, ?, ?)",
            .integer(Int64(entry.index)),
            .blob(entry.eventID),
            .text(entry.type),
            .integer(entry.received),
            .blob(entry.leafHash),
            .blob(EntryPacking.pack(entry.bytes))
        )
        for (position, bytes) in entry.members.enumerated() {
            try execute(
                "INSERT INTO batch_members (idx, position, bytes) VALUES (?, ?, ?)",
                .integer(Int64(entry.index)),
                .integer(Int64(position)),
                .blob(bytes)
            )
        }
    }

    func insert(nodes: [(NodeID, [UInt8])]) throws {
        for (node, hash) in nodes {
            try execute(
                "INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)",
                .integer(Int64(node.level)),
                .integer(Int64(node.index)),
                .blob(hash)
            )
        }
    }

    func insert(link: ChainLink) throws {
        try execute(
            "INSERT INTO chain_links (chain, seq, idx, state) VALUES (?, ?, ?, ?)",
            .text(link.chain),
            .integer(link.sequence),
            .integer(Int64(link.index)),
            .blob(link.state)
        )
        // Only a chain's head keeps its state (Schema version 2); the row just superseded sits
        // beside the new one, so this rewrites the page the INSERT already dirtied.
        if link.sequence > 0 {
            try execute(
                "UPDATE chain_links SET state = x'' WHERE chain = ? AND seq = ? AND length(state) > 0",
                .text(link.chain),
                .integer(link.sequence - 1)
            )
        }
    }

    func insert(product: ProductRow) throws {
        try execute(
            "INSERT INTO products (product, gtin, serial, passport) VALUES (?, ?, ?, ?)",
            .text(product.product),
            .text(product.gtin),
            .text(product.serial),
            .blob(product.passport)
        )
    }

    /// A value bound to a statement straight from the Swift storage that holds it.
    enum Bound {
        case integer(Int64)
        case text(String)
        case blob([UInt8])
    }

    /// Runs one of the append path's cached INSERTs (or its one UPDATE), binding each value directly with SQLite's C
    /// API. Going through GRDB's `StatementArguments` converted every blob to `Data` and every
    /// value to a `DatabaseValue` first: about a third of the commit's SQLite cost in the append
    /// profile (issue 15), for the five rows each appended event writes. A failure is reported as
    /// GRDB's `DatabaseError` with SQLite's own code and message, exactly as before, so
    /// ``SQLiteLedgerStore`` maps it (a duplicate key to `.conflict`) unchanged.
    private func execute(_ sql: String, _ values: Bound...) throws { try Self.execute(sql, values, in: db) }

    /// ``execute(_:_:)`` on `db`, for the audit's ``ScratchTable`` too.
    static func execute(_ sql: String, _ values: [Bound], in db: Database) throws {
        let handle = try db.cachedStatement(sql: sql).sqliteStatement
        try bind(values, to: handle, in: db, sql: sql)
        let stepped = sqlite3_step(handle)
        guard stepped == SQLITE_DONE else {
            let error = failure(stepped, in: db, sql: sql)
            sqlite3_reset(handle)
            throw error
        }
        sqlite3_reset(handle)
    }

    /// Resets `handle` and binds `values` to its parameters, in order.
    private static func bind(_ values: [Bound], to handle: SQLiteStatement, in db: Database, sql: String) throws {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let position = Int32(offset + 1)
            let code: Int32
            switch value {
            case .integer(let number):
                code = sqlite3_bind_int64(handle, position, number)
            case .text(let text):
                code = text.withCString {
                    sqlite3_bind_text(handle, position, $0, Int32(text.utf8.count), Self.transient)
                }
            case .blob(let bytes):
                // An empty blob must stay a zero-length blob, not NULL (a null pointer binds NULL).
                code =
                    bytes.isEmpty
                    ? sqlite3_bind_zeroblob(handle, position, 0)
                    : bytes.withUnsafeBytes {
                        sqlite3_bind_blob(handle, position, $0.baseAddress, Int32($0.count), Self.transient)
                    }
            }
            guard code == SQLITE_OK else { throw failure(code, in: db, sql: sql) }
        }
    }

    /// SQLite copies the bound bytes (`SQLITE_TRANSIENT`): they need not outlive the binding call.
    private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

    /// SQLite's own code and message for the statement `sql`, as GRDB reports them.
    private static func failure(_ code: Int32, in db: Database, sql: String) -> DatabaseError {
        DatabaseError(
            resultCode: ResultCode(rawValue: code),
            message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
            sql: sql
        )
    }

    func insert(checkpoint: StoredCheckpoint) throws {
        if let existing = try self.checkpoint(size: checkpoint.size) {
            guard existing.root == checkpoint.root else {
                throw StorageError(
                    .corrupt,
                    "a checkpoint for size \(checkpoint.size) with another root is already stored"
                )
            }
            return
        }
        let sql = "INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?)"
        try db.cachedStatement(sql: sql).execute(arguments: [
            Int64(checkpoint.size), Data(checkpoint.root), checkpoint.note,
        ])
    }
}

/// The row a stepped statement stands on, read in place through SQLite's C API with typed reads
/// that throw on a value of the wrong type or sign: a ledger file is input like any other, and a
/// tampered row must give `StorageError.corrupt`, never a trap. GRDB's `Row` subscript copied every
/// blob into a `Data` and that again into an array, about a sixth of a warm dock verdict's
/// instructions; here a blob is copied once, straight from SQLite's buffer. The conversions are
/// SQLite's own, as GRDB's were: text read as a blob gives its UTF-8 bytes, a blob read as text
/// must be valid UTF-8.
struct Columns {
    private let handle: SQLiteStatement

    /// Valid until the statement steps again or is reset.
    init(_ handle: SQLiteStatement) { self.handle = handle }

    func blob(_ index: Int32) throws -> [UInt8] { try withBlob(index) { [UInt8]($0) } }

    /// The blob in SQLite's own buffer, for a reader that turns it into something else at once
    /// (a packed entry unpacked): copying it into an array first was one allocation and one copy
    /// per entry read (issue 15). The buffer is valid only inside `body`.
    func withBlob<Result>(_ index: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) throws -> Result {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_BLOB, SQLITE_TEXT:
            // The pointer first, then the size (SQLite's documented order: asking for the pointer
            // may convert the value, which can change its size).
            let base = sqlite3_column_blob(handle, index)
            let count = Int(sqlite3_column_bytes(handle, index))
            guard let base, count > 0 else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
            return try body(UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: count))
        default:
            throw StorageError(.corrupt, "column \(index) holds \(describe(index)), expected a blob")
        }
    }

    func text(_ index: Int32) throws -> String {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_TEXT:
            guard let base = sqlite3_column_text(handle, index) else { return "" }
            let count = Int(sqlite3_column_bytes(handle, index))
            return String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self)
        case SQLITE_BLOB:
            let bytes = try blob(index)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw StorageError(.corrupt, "column \(index) holds a blob that is not UTF-8, expected text")
            }
            return text
        default:
            throw StorageError(.corrupt, "column \(index) holds \(describe(index)), expected text")
        }
    }

    func int64(_ index: Int32) throws -> Int64 {
        guard sqlite3_column_type(handle, index) == SQLITE_INTEGER else {
            throw StorageError(.corrupt, "column \(index) holds \(describe(index)), expected an integer")
        }
        return sqlite3_column_int64(handle, index)
    }

    func unsigned(_ index: Int32) throws -> UInt64 {
        guard let value = UInt64(exactly: try int64(index)) else {
            throw StorageError(.corrupt, "column \(index) holds a negative index")
        }
        return value
    }

    func isNull(_ index: Int32) -> Bool { sqlite3_column_type(handle, index) == SQLITE_NULL }

    private func describe(_ index: Int32) -> String {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_NULL: "NULL"
        case SQLITE_INTEGER: "the integer \(sqlite3_column_int64(handle, index))"
        case SQLITE_FLOAT: "the real number \(sqlite3_column_double(handle, index))"
        case SQLITE_TEXT: "text of \(sqlite3_column_bytes(handle, index)) bytes"
        default: "a blob of \(sqlite3_column_bytes(handle, index)) bytes"
        }
    }
}

import MerkleLog
import NIOCore
import PostgresNIO
import RetraceStorage

/// Reads and writes inside one PostgreSQL transaction (see ``PostgresLedgerStore``).
///
/// Every value read is checked for type and sign, as the SQLite reader does: a tampered row gives
/// ``StorageError`` `.corrupt`, never a trap.
struct PostgresAccess: LedgerWriter {
    let store: PostgresLedgerStore
    let connection: PostgresConnection

    /// Entries read per query when streaming, so memory stays flat on any ledger size.
    static let page: Int64 = 1_000

    private func rows(_ query: PostgresQuery) throws -> [PostgresRow] { try store.rows(connection, query) }
    private func run(_ query: PostgresQuery) throws { try store.run(connection, query) }

    func withSavepoint<T>(_ body: () throws -> T) throws -> T {
        try run("SAVEPOINT retrace_group")
        do {
            let result = try body()
            try run("RELEASE SAVEPOINT retrace_group")
            return result
        } catch {
            try run("ROLLBACK TO SAVEPOINT retrace_group")
            try run("RELEASE SAVEPOINT retrace_group")
            throw error
        }
    }

    func metadata(_ key: String) throws -> String? {
        try rows("SELECT value FROM meta WHERE key = \(key)").first.map { try $0.text(0) }
    }

    func treeSize() throws -> UInt64 {
        guard let row = try rows("SELECT MAX(idx) FROM entries").first, try row.cell(0).bytes != nil else { return 0 }
        return try row.unsigned(0) + 1
    }

    func entry(at index: UInt64) throws -> StoredEntry? {
        var found: StoredEntry?
        try forEachEntry(from: index, to: index &+ 1) { found = $0 }
        return found
    }

    func forEachEntry(from: UInt64, to: UInt64, _ body: (StoredEntry) throws -> Void) throws {
        guard from < to else { return }
        var start = Int64(clamping: from)
        let end = Int64(clamping: to)
        while start < end {
            let pageEnd = min(end, start &+ Self.page)
            let entryRows = try rows(
                """
                SELECT idx, event_id, type, received, leaf_hash, bytes FROM entries
                WHERE idx >= \(start) AND idx < \(pageEnd) ORDER BY idx
                """
            )
            var members: [Int64: [[UInt8]]] = [:]
            for row in try rows(
                """
                SELECT idx, position, bytes FROM batch_members WHERE idx >= \(start) AND idx < \(pageEnd)
                ORDER BY idx, position
                """
            ) {
                members[try row.int64(0), default: []].append(try row.bytes(2))
            }
            for row in entryRows {
                let index = try row.int64(0)
                let type = try row.text(2)
                try body(
                    StoredEntry(
                        index: try row.unsigned(0),
                        eventID: try row.bytes(1),
                        type: type,
                        received: try row.int64(3),
                        leafHash: try row.bytes(4),
                        bytes: try row.bytes(5),
                        members: type == "roster" ? [] : members[index] ?? []
                    )
                )
            }
            start = pageEnd
        }
    }

    func entryIndex(eventID: [UInt8]) throws -> UInt64? {
        try rows("SELECT idx FROM entries WHERE event_id = \(ByteBuffer(bytes: eventID))").first.map {
            try $0.unsigned(0)
        }
    }

    func head(of chain: String) throws -> ChainLink? {
        try rows(
            """
            SELECT chain, seq, idx, event_id, state FROM chain_links WHERE chain = \(chain)
            ORDER BY seq DESC LIMIT 1
            """
        ).first.map(makeLink)
    }

    func chain(_ chain: String) throws -> [ChainLink] {
        try rows("SELECT chain, seq, idx, event_id, state FROM chain_links WHERE chain = \(chain) ORDER BY seq")
            .map(makeLink)
    }

    func chainHeads(below size: UInt64) throws -> [ChainLink] {
        try rows(
            """
            SELECT DISTINCT ON (chain) chain, seq, idx, event_id, ''::bytea FROM chain_links
            WHERE idx < \(Int64(clamping: size)) ORDER BY chain, seq DESC
            """
        ).map(makeLink)
    }

    private func makeLink(_ row: PostgresRow) throws -> ChainLink {
        ChainLink(
            chain: try row.text(0),
            sequence: try row.int64(1),
            index: try row.unsigned(2),
            eventID: try row.bytes(3),
            state: try row.bytes(4)
        )
    }

    func product(_ product: String) throws -> ProductRow? {
        try rows("SELECT product, gtin, serial, passport FROM products WHERE product = \(product)").first.map(
            makeProduct
        )
    }

    func products(withSerial serial: String) throws -> [ProductRow] {
        try rows("SELECT product, gtin, serial, passport FROM products WHERE serial = \(serial) ORDER BY product")
            .map(makeProduct)
    }

    private func makeProduct(_ row: PostgresRow) throws -> ProductRow {
        ProductRow(product: try row.text(0), gtin: try row.text(1), serial: try row.text(2), passport: try row.bytes(3))
    }

    func latestCheckpoint() throws -> StoredCheckpoint? {
        try rows("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1").first.map(makeCheckpoint)
    }

    func checkpoints() throws -> [StoredCheckpoint] {
        try rows("SELECT size, root, note FROM checkpoints ORDER BY size").map(makeCheckpoint)
    }

    func checkpoint(size: UInt64) throws -> StoredCheckpoint? {
        try rows("SELECT size, root, note FROM checkpoints WHERE size = \(Int64(clamping: size))").first.map(
            makeCheckpoint
        )
    }

    private func makeCheckpoint(_ row: PostgresRow) throws -> StoredCheckpoint {
        StoredCheckpoint(size: try row.unsigned(0), root: try row.bytes(1), note: try row.text(2))
    }

    /// All asked-for nodes in one round trip (the tree code asks for a whole proof at once).
    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] {
        guard !nodes.isEmpty else { return [:] }
        let levels = nodes.map { Int64($0.level) }
        let indices = nodes.map { Int64(clamping: $0.index) }
        var found: [NodeID: [UInt8]] = [:]
        for row in try rows(
            """
            SELECT n.level, n.idx, n.hash FROM nodes n
            JOIN unnest(\(levels)::bigint[], \(indices)::bigint[]) AS wanted(level, idx)
              ON n.level = wanted.level AND n.idx = wanted.idx
            """
        ) {
            let level = try row.int64(0)
            guard (0...63).contains(level) else { throw StorageError(.corrupt, "a stored node has level \(level)") }
            found[NodeID(level: Int(level), index: try row.unsigned(1))] = try row.bytes(2)
        }
        return found
    }

    // MARK: Writing

    func setMetadata(_ key: String, _ value: String) throws {
        try run("INSERT INTO meta (key, value) VALUES (\(key), \(value))")
    }

    func insert(entry: StoredEntry) throws {
        let index = Int64(clamping: entry.index)
        try run(
            """
            INSERT INTO entries (idx, event_id, type, received, leaf_hash, bytes) VALUES
            (\(index), \(ByteBuffer(bytes: entry.eventID)), \(entry.type), \(entry.received),
             \(ByteBuffer(bytes: entry.leafHash)), \(ByteBuffer(bytes: entry.bytes)))
            """
        )
        guard !entry.members.isEmpty else { return }
        let positions = entry.members.indices.map { Int64($0) }
        let bytes = entry.members.map { ByteBuffer(bytes: $0) }
        try run(
            """
            INSERT INTO batch_members (idx, position, bytes)
            SELECT \(index), p, b FROM unnest(\(positions)::bigint[], \(bytes)::bytea[]) AS m(p, b)
            """
        )
    }

    func insert(nodes: [(NodeID, [UInt8])]) throws {
        guard !nodes.isEmpty else { return }
        let levels = nodes.map { Int64($0.0.level) }
        let indices = nodes.map { Int64(clamping: $0.0.index) }
        let hashes = nodes.map { ByteBuffer(bytes: $0.1) }
        try run(
            """
            INSERT INTO nodes (level, idx, hash)
            SELECT l, i, h FROM unnest(\(levels)::bigint[], \(indices)::bigint[], \(hashes)::bytea[]) AS n(l, i, h)
            """
        )
    }

    func insert(link: ChainLink) throws {
        try run(
            """
            INSERT INTO chain_links (chain, seq, idx, event_id, state) VALUES
            (\(link.chain), \(link.sequence), \(Int64(clamping: link.index)), \(ByteBuffer(bytes: link.eventID)),
             \(ByteBuffer(bytes: link.state)))
            """
        )
    }

    func insert(product: ProductRow) throws {
        try run(
            """
            INSERT INTO products (product, gtin, serial, passport) VALUES
            (\(product.product), \(product.gtin), \(product.serial), \(ByteBuffer(bytes: product.passport)))
            """
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
        try run(
            """
            INSERT INTO checkpoints (size, root, note) VALUES
            (\(Int64(clamping: checkpoint.size)), \(ByteBuffer(bytes: checkpoint.root)), \(checkpoint.note))
            """
        )
    }
}

/// Typed column reads that refuse a value of the wrong type or sign.
extension PostgresRow {
    func cell(_ index: Int) throws -> PostgresCell {
        var position = 0
        for cell in self {
            if position == index { return cell }
            position += 1
        }
        throw StorageError(.corrupt, "a row has no column \(index)")
    }

    func bytes(_ index: Int) throws -> [UInt8] {
        let cell = try cell(index)
        guard cell.dataType == .bytea, let buffer = cell.bytes else {
            throw StorageError(.corrupt, "column \(cell.columnName) holds \(cell.dataType), expected bytes")
        }
        return Array(buffer.readableBytesView)
    }

    func text(_ index: Int) throws -> String {
        let cell = try cell(index)
        do { return try cell.decode(String.self) } catch {
            throw StorageError(.corrupt, "column \(cell.columnName) holds \(cell.dataType), expected text")
        }
    }

    func int64(_ index: Int) throws -> Int64 {
        let cell = try cell(index)
        do { return try cell.decode(Int64.self) } catch {
            throw StorageError(.corrupt, "column \(cell.columnName) holds \(cell.dataType), expected an integer")
        }
    }

    func unsigned(_ index: Int) throws -> UInt64 {
        guard let value = UInt64(exactly: try int64(index)) else {
            throw StorageError(.corrupt, "column \(index) holds a negative index")
        }
        return value
    }
}

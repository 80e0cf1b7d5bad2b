import Foundation
import GRDB
import MerkleLog

/// Reads and writes inside one GRDB connection's transaction.
///
/// Statements are cached per connection: the append path runs the same five inserts thousands of
/// times per batch, and preparing them once is most of what makes batches fast.
struct SQLiteAccess: LedgerWriter {
    let db: Database

    func metadata(_ key: String) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = ?"), arguments: [key])
    }

    func treeSize() throws -> UInt64 {
        let max = try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(idx) FROM entries"))
        return max.map { UInt64($0) + 1 } ?? 0
    }

    func entry(at index: UInt64) throws -> StoredEntry? {
        let sql = "SELECT idx, event_id, type, received, leaf_hash, bytes FROM entries WHERE idx = ?"
        guard let row = try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [Int64(index)]) else { return nil }
        return try makeEntry(row)
    }

    func forEachEntry(from: UInt64, to: UInt64, _ body: (StoredEntry) throws -> Void) throws {
        guard from < to else { return }
        let sql = "SELECT idx, event_id, type, received, leaf_hash, bytes FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx"
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: [Int64(from), Int64(to)])
        while let row = try cursor.next() { try body(makeEntry(row)) }
    }

    private func makeEntry(_ row: Row) throws -> StoredEntry {
        let index: Int64 = row[0]
        let type: String = row[2]
        var members: [[UInt8]] = []
        if type != "roster", try isBatch(index) {
            let sql = "SELECT bytes FROM batch_members WHERE idx = ? ORDER BY position"
            members = try Data.fetchAll(db.cachedStatement(sql: sql), arguments: [index]).map { [UInt8]($0) }
        }
        return StoredEntry(
            index: UInt64(index), eventID: [UInt8](row[1] as Data), type: type, received: row[3],
            leafHash: [UInt8](row[4] as Data), bytes: [UInt8](row[5] as Data), members: members)
    }

    private func isBatch(_ index: Int64) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS(SELECT 1 FROM batch_members WHERE idx = ?)"), arguments: [index]) ?? false
    }

    func entryIndex(eventID: [UInt8]) throws -> UInt64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT idx FROM entries WHERE event_id = ?"), arguments: [Data(eventID)])
            .map { UInt64($0) }
    }

    func head(of chain: String) throws -> ChainLink? {
        let sql = "SELECT chain, seq, idx, event_id, state FROM chain_links WHERE chain = ? ORDER BY seq DESC LIMIT 1"
        return try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [chain]).map(makeLink)
    }

    func chain(_ chain: String) throws -> [ChainLink] {
        let sql = "SELECT chain, seq, idx, event_id, state FROM chain_links WHERE chain = ? ORDER BY seq"
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [chain]).map(makeLink)
    }

    private func makeLink(_ row: Row) -> ChainLink {
        ChainLink(
            chain: row[0], sequence: row[1], index: UInt64(row[2] as Int64), eventID: [UInt8](row[3] as Data),
            state: [UInt8](row[4] as Data))
    }

    func product(_ product: String) throws -> ProductRow? {
        let sql = "SELECT product, gtin, serial, passport FROM products WHERE product = ?"
        return try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [product]).map(makeProduct)
    }

    func products(withSerial serial: String) throws -> [ProductRow] {
        let sql = "SELECT product, gtin, serial, passport FROM products WHERE serial = ? ORDER BY product"
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: [serial]).map(makeProduct)
    }

    private func makeProduct(_ row: Row) -> ProductRow {
        ProductRow(product: row[0], gtin: row[1], serial: row[2], passport: [UInt8](row[3] as Data))
    }

    func latestCheckpoint() throws -> StoredCheckpoint? {
        let sql = "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1"
        return try Row.fetchOne(db.cachedStatement(sql: sql)).map(makeCheckpoint)
    }

    func checkpoints() throws -> [StoredCheckpoint] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT size, root, note FROM checkpoints ORDER BY size")).map(makeCheckpoint)
    }

    func checkpoint(size: UInt64) throws -> StoredCheckpoint? {
        let sql = "SELECT size, root, note FROM checkpoints WHERE size = ?"
        return try Row.fetchOne(db.cachedStatement(sql: sql), arguments: [Int64(size)]).map(makeCheckpoint)
    }

    private func makeCheckpoint(_ row: Row) -> StoredCheckpoint {
        StoredCheckpoint(size: UInt64(row[0] as Int64), root: [UInt8](row[1] as Data), note: row[2])
    }

    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] {
        let statement = try db.cachedStatement(sql: "SELECT hash FROM nodes WHERE level = ? AND idx = ?")
        var found: [NodeID: [UInt8]] = [:]
        for node in nodes where found[node] == nil {
            if let hash = try Data.fetchOne(statement, arguments: [node.level, Int64(node.index)]) {
                found[node] = [UInt8](hash)
            }
        }
        return found
    }

    // MARK: Writing

    func setMetadata(_ key: String, _ value: String) throws {
        try db.cachedStatement(sql: "INSERT INTO meta (key, value) VALUES (?, ?)").execute(arguments: [key, value])
    }

    func insert(entry: StoredEntry) throws {
        let sql = "INSERT INTO entries (idx, event_id, type, received, leaf_hash, bytes) VALUES (?, ?, ?, ?, ?, ?)"
        try db.cachedStatement(sql: sql).execute(arguments: [
            Int64(entry.index), Data(entry.eventID), entry.type, entry.received, Data(entry.leafHash), Data(entry.bytes),
        ])
        if !entry.members.isEmpty {
            let member = try db.cachedStatement(sql: "INSERT INTO batch_members (idx, position, bytes) VALUES (?, ?, ?)")
            for (position, bytes) in entry.members.enumerated() {
                try member.execute(arguments: [Int64(entry.index), position, Data(bytes)])
            }
        }
    }

    func insert(nodes: [(NodeID, [UInt8])]) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)")
        for (node, hash) in nodes {
            try statement.execute(arguments: [node.level, Int64(node.index), Data(hash)])
        }
    }

    func insert(link: ChainLink) throws {
        let sql = "INSERT INTO chain_links (chain, seq, idx, event_id, state) VALUES (?, ?, ?, ?, ?)"
        try db.cachedStatement(sql: sql).execute(arguments: [
            link.chain, link.sequence, Int64(link.index), Data(link.eventID), Data(link.state),
        ])
    }

    func insert(product: ProductRow) throws {
        let sql = "INSERT INTO products (product, gtin, serial, passport) VALUES (?, ?, ?, ?)"
        try db.cachedStatement(sql: sql).execute(arguments: [product.product, product.gtin, product.serial, Data(product.passport)])
    }

    func insert(checkpoint: StoredCheckpoint) throws {
        if let existing = try self.checkpoint(size: checkpoint.size) {
            guard existing.root == checkpoint.root else {
                throw StorageError(.corrupt, "a checkpoint for size \(checkpoint.size) with another root is already stored")
            }
            return
        }
        let sql = "INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?)"
        try db.cachedStatement(sql: sql).execute(arguments: [Int64(checkpoint.size), Data(checkpoint.root), checkpoint.note])
    }
}

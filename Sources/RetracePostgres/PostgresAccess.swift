import MerkleLog
import NIOCore
import PostgresNIO
import RetraceStorage

/// Reads and writes inside one PostgreSQL transaction (see ``PostgresLedgerStore``).
///
/// Every value read is checked for type and sign, as the SQLite reader does: a tampered row gives
/// ``StorageError`` `.corrupt`, never a trap. Inserts are held in ``PendingRows`` and sent as one
/// multi-row `INSERT` per table: before a read that could see them, when a savepoint group needs
/// them inside its savepoint, and before `COMMIT` (``flush()``).
struct PostgresAccess: LedgerWriter {
    let store: PostgresLedgerStore
    let connection: PostgresConnection
    let pending: PendingRows

    /// Entries read per query when streaming, so memory stays flat on any ledger size.
    static let page: Int64 = 1_000
    /// Rows per multi-row `INSERT`: bounds one message's size whatever the transaction holds.
    static let rowsPerInsert = 5_000

    private func rows(_ query: PostgresQuery) throws -> [PostgresRow] { try store.rows(connection, query) }
    private func run(_ query: PostgresQuery) throws { try store.run(connection, query) }

    /// A group whose rows all stay in ``pending`` costs no round trip: refused, its rows are
    /// dropped; accepted, they join the enclosing transaction's. Only when rows must be sent while
    /// it runs does ``flush()`` open its PostgreSQL savepoint, so a refused group is undone exactly
    /// either way.
    func withSavepoint<T>(_ body: () throws -> T) throws -> T {
        let level = pending.groups.count
        pending.groups.append(PendingRows.Group(start: pending.total))
        let result: T
        do {
            result = try body()
        } catch {
            let group = pending.groups.removeLast()
            pending.discard(from: group.start)
            if group.opened {
                try run(PostgresQuery(unsafeSQL: "ROLLBACK TO SAVEPOINT retrace_group_\(level)"))
                try run(PostgresQuery(unsafeSQL: "RELEASE SAVEPOINT retrace_group_\(level)"))
            }
            throw error
        }
        let group = pending.groups.removeLast()
        if group.opened { try run(PostgresQuery(unsafeSQL: "RELEASE SAVEPOINT retrace_group_\(level)")) }
        return result
    }

    /// Sends every held row, first opening the savepoint of each running group that has none yet
    /// (after sending the rows inserted before it), so each group's rows land inside its own.
    func flush() throws {
        for level in pending.groups.indices where !pending.groups[level].opened {
            try send(upTo: pending.groups[level].start)
            try run(PostgresQuery(unsafeSQL: "SAVEPOINT retrace_group_\(level)"))
            pending.groups[level].opened = true
        }
        try send(upTo: pending.total)
    }

    private func flush(if needed: Bool) throws {
        if needed { try flush() }
    }

    private func send(upTo marks: PendingRows.Marks) throws {
        let taken = pending.take(upTo: marks)
        for chunk in chunks(taken.entries) {
            try run(
                """
                INSERT INTO entries (idx, event_id, type, received, leaf_hash, bytes)
                SELECT * FROM unnest(\(chunk.map { Int64(clamping: $0.index) })::bigint[],
                    \(chunk.map { ByteBuffer(bytes: $0.eventID) })::bytea[], \(chunk.map(\.type))::text[],
                    \(chunk.map(\.received))::bigint[], \(chunk.map { ByteBuffer(bytes: $0.leafHash) })::bytea[],
                    \(chunk.map { ByteBuffer(bytes: EntryPacking.pack($0.bytes)) })::bytea[])
                """
            )
            let members = chunk.flatMap { entry in
                entry.members.enumerated().map { (Int64(clamping: entry.index), Int64($0.offset), $0.element) }
            }
            guard !members.isEmpty else { continue }
            try run(
                """
                INSERT INTO batch_members (idx, position, bytes)
                SELECT * FROM unnest(\(members.map(\.0))::bigint[], \(members.map(\.1))::bigint[],
                    \(members.map { ByteBuffer(bytes: $0.2) })::bytea[])
                """
            )
        }
        // Only a chain's head keeps its state (schema 2). A link superseded by another link sent
        // now goes out with its state already empty: an UPDATE would leave the old row version
        // behind until vacuum (a copied or replayed ledger supersedes nearly every link it sends).
        // Only links whose predecessor was stored by an earlier send need the UPDATE.
        struct Position: Hashable {
            let chain: String
            let sequence: Int64
        }
        let sending = Set(taken.links.map { Position(chain: $0.chain, sequence: $0.sequence) })
        let links = taken.links.map { link in
            sending.contains(Position(chain: link.chain, sequence: link.sequence + 1))
                ? ChainLink(
                    chain: link.chain,
                    sequence: link.sequence,
                    index: link.index,
                    eventID: link.eventID,
                    state: []
                )
                : link
        }
        for chunk in chunks(links[...]) {
            try run(
                """
                INSERT INTO chain_links (chain, seq, idx, state)
                SELECT * FROM unnest(\(chunk.map(\.chain))::text[], \(chunk.map(\.sequence))::bigint[],
                    \(chunk.map { Int64(clamping: $0.index) })::bigint[],
                    \(chunk.map { ByteBuffer(bytes: $0.state) })::bytea[])
                """
            )
        }
        let storedBefore = taken.links.filter {
            $0.sequence > 0 && !sending.contains(Position(chain: $0.chain, sequence: $0.sequence - 1))
        }
        for chunk in chunks(storedBefore[...]) {
            try run(
                """
                UPDATE chain_links AS old SET state = ''::bytea
                FROM unnest(\(chunk.map(\.chain))::text[], \(chunk.map { $0.sequence - 1 })::bigint[])
                    AS superseded (chain, seq)
                WHERE old.chain = superseded.chain AND old.seq = superseded.seq AND length(old.state) > 0
                """
            )
        }
        for chunk in chunks(taken.products) {
            try run(
                """
                INSERT INTO products (product, gtin, serial, passport)
                SELECT * FROM unnest(\(chunk.map(\.product))::text[], \(chunk.map(\.gtin))::text[],
                    \(chunk.map(\.serial))::text[], \(chunk.map { ByteBuffer(bytes: $0.passport) })::bytea[])
                """
            )
        }
        for chunk in chunks(taken.nodes) {
            try run(
                """
                INSERT INTO nodes (level, idx, hash)
                SELECT * FROM unnest(\(chunk.map { Int64($0.0.level) })::bigint[],
                    \(chunk.map { Int64(clamping: $0.0.index) })::bigint[],
                    \(chunk.map { ByteBuffer(bytes: $0.1) })::bytea[])
                """
            )
        }
    }

    private func chunks<Row>(_ rows: ArraySlice<Row>) -> [ArraySlice<Row>] {
        stride(from: rows.startIndex, to: rows.endIndex, by: Self.rowsPerInsert).map {
            rows[$0..<min($0 + Self.rowsPerInsert, rows.endIndex)]
        }
    }

    func metadata(_ key: String) throws -> String? {
        try rows("SELECT value FROM meta WHERE key = \(key)").first.map { try $0.text(0) }
    }

    func treeSize() throws -> UInt64 {
        var size: UInt64 = 0
        if let row = try rows("SELECT MAX(idx) FROM entries").first, try row.cell(0).bytes != nil {
            size = try row.unsigned(0) + 1
        }
        if let last = pending.lastEntryIndex { size = max(size, last + 1) }
        return size
    }

    func entry(at index: UInt64) throws -> StoredEntry? {
        if let held = pending.entry(at: index) { return held }
        var found: StoredEntry?
        try forEachEntry(from: index, to: index &+ 1) { found = $0 }
        return found
    }

    func forEachEntry(from: UInt64, to: UInt64, _ body: (StoredEntry) throws -> Void) throws {
        guard from < to else { return }
        try flush(if: pending.hasEntries(from: from, to: to))
        var start = Int64(clamping: from)
        let end = Int64(clamping: to)
        while start < end {
            let pageEnd = min(end, start &+ Self.page)
            let entries = try Self.entries(
                rows(
                    """
                    SELECT idx, event_id, type, received, leaf_hash, bytes FROM entries
                    WHERE idx >= \(start) AND idx < \(pageEnd) ORDER BY idx
                    """
                ),
                members: rows(
                    """
                    SELECT idx, position, bytes FROM batch_members WHERE idx >= \(start) AND idx < \(pageEnd)
                    ORDER BY idx, position
                    """
                )
            )
            for entry in entries { try body(entry) }
            start = pageEnd
        }
    }

    func entries(at indices: [UInt64]) throws -> [UInt64: StoredEntry] {
        var found: [UInt64: StoredEntry] = [:]
        var asked: [Int64] = []
        for index in Set(indices) {
            if let held = pending.entry(at: index) {
                found[index] = held
            } else if let stored = Int64(exactly: index) {
                asked.append(stored)
            }
        }
        guard !asked.isEmpty else { return found }
        let entries = try Self.entries(
            rows(
                """
                SELECT idx, event_id, type, received, leaf_hash, bytes FROM entries
                WHERE idx = ANY(\(asked)::bigint[])
                """
            ),
            members: rows(
                """
                SELECT idx, position, bytes FROM batch_members WHERE idx = ANY(\(asked)::bigint[])
                ORDER BY idx, position
                """
            )
        )
        for entry in entries { found[entry.index] = entry }
        return found
    }

    /// Entries from `SELECT idx, event_id, type, received, leaf_hash, bytes` rows, each with the
    /// members among `SELECT idx, position, bytes` rows (in position order) when it is a batch.
    private static func entries(_ entryRows: [PostgresRow], members memberRows: [PostgresRow]) throws -> [StoredEntry] {
        var members: [Int64: [[UInt8]]] = [:]
        for row in memberRows { members[try row.int64(0), default: []].append(try row.bytes(2)) }
        return try entryRows.map { row in
            let type = try row.text(2)
            let index = try row.unsigned(0)
            let leafHash = try row.bytes(4)
            return StoredEntry(
                index: index,
                eventID: try row.bytes(1),
                type: type,
                received: try row.int64(3),
                leafHash: leafHash,
                bytes: try EntryPacking.unpack(row.bytes(5), entry: index, leafHash: leafHash),
                members: type == "roster" ? [] : members[try row.int64(0)] ?? []
            )
        }
    }

    func entryIndex(eventID: [UInt8]) throws -> UInt64? {
        if let held = pending.entryIndex(eventID: eventID) { return held }
        return try rows("SELECT idx FROM entries WHERE event_id = \(ByteBuffer(bytes: eventID))").first.map {
            try $0.unsigned(0)
        }
    }

    func entryIndices(eventIDs: [[UInt8]]) throws -> [[UInt8]: UInt64] {
        var found: [[UInt8]: UInt64] = [:]
        var asked: [ByteBuffer] = []
        for id in eventIDs where found[id] == nil {
            if let held = pending.entryIndex(eventID: id) {
                found[id] = held
            } else {
                asked.append(ByteBuffer(bytes: id))
            }
        }
        guard !asked.isEmpty else { return found }
        for row in try rows("SELECT event_id, idx FROM entries WHERE event_id = ANY(\(asked)::bytea[])") {
            found[try row.bytes(0)] = try row.unsigned(1)
        }
        return found
    }

    func heads(of chains: [String]) throws -> [String: ChainLink] {
        guard !chains.isEmpty else { return [:] }
        var found: [String: ChainLink] = [:]
        for link in try rows(
            """
            SELECT DISTINCT ON (l.chain) l.chain, l.seq, l.idx, e.event_id, l.state
            FROM chain_links AS l LEFT JOIN entries AS e ON e.idx = l.idx
            WHERE l.chain = ANY(\(Array(Set(chains)))::text[]) ORDER BY l.chain, l.seq DESC
            """
        ).map(makeLink) {
            found[link.chain] = link
        }
        // As in head(of:): a held link is newer than the stored head unless the INSERT will refuse it.
        for chain in chains {
            guard let held = pending.head(of: chain) else { continue }
            if let stored = found[chain], stored.sequence > held.sequence { continue }
            found[chain] = held
        }
        return found
    }

    func head(of chain: String) throws -> ChainLink? {
        let stored = try rows(
            """
            SELECT l.chain, l.seq, l.idx, e.event_id, l.state
            FROM chain_links AS l LEFT JOIN entries AS e ON e.idx = l.idx
            WHERE l.chain = \(chain) ORDER BY l.seq DESC LIMIT 1
            """
        ).first.map(makeLink)
        // A held link is newer than the stored head of its chain unless the INSERT will refuse it.
        guard let held = pending.head(of: chain) else { return stored }
        guard let stored else { return held }
        return held.sequence >= stored.sequence ? held : stored
    }

    func chain(_ chain: String) throws -> [ChainLink] {
        try flush(if: pending.hasLinks(of: chain))
        return try rows(
            """
            SELECT l.chain, l.seq, l.idx, e.event_id, l.state
            FROM chain_links AS l LEFT JOIN entries AS e ON e.idx = l.idx
            WHERE l.chain = \(chain) ORDER BY l.seq
            """
        ).map(makeLink)
    }

    func chainHeads(below size: UInt64) throws -> [ChainLink] {
        try flush(if: !pending.links.isEmpty)
        return try rows(
            """
            SELECT h.chain, h.seq, h.idx, e.event_id, ''::bytea FROM
                (SELECT DISTINCT ON (chain) chain, seq, idx FROM chain_links
                WHERE idx < \(Int64(clamping: size)) ORDER BY chain, seq DESC) AS h
            LEFT JOIN entries AS e ON e.idx = h.idx
            """
        ).map(makeLink)
    }

    /// `chain` and `product` are `COLLATE "C"`: the bounds compare bytewise, and the primary key
    /// gives the order.
    func chainLinks(after lower: String?, through upper: String?) throws -> [ChainLink] {
        try flush(if: !pending.links.isEmpty)
        return try rows(
            """
            SELECT chain, seq, idx, ''::bytea, state FROM chain_links
            WHERE (\(lower)::text IS NULL OR chain > \(lower)) AND (\(upper)::text IS NULL OR chain <= \(upper))
            ORDER BY chain, seq
            """
        ).map(makeLink)
    }

    func products(after lower: String?, through upper: String?) throws -> [ProductRow] {
        try flush(if: !pending.products.isEmpty)
        return try rows(
            """
            SELECT product, gtin, serial, passport FROM products
            WHERE (\(lower)::text IS NULL OR product > \(lower)) AND (\(upper)::text IS NULL OR product <= \(upper))
            ORDER BY product
            """
        ).map(makeProduct)
    }

    /// A link's event id is its entry's, joined on `idx` (schema 4 stores it once).
    private func makeLink(_ row: PostgresRow) throws -> ChainLink {
        let chain = try row.text(0)
        let sequence = try row.int64(1)
        let index = try row.unsigned(2)
        guard try row.cell(3).bytes != nil else {
            throw StorageError(
                .corrupt,
                "chain link \(sequence) of \(chain) points at entry \(index), which the ledger does not hold"
            )
        }
        return ChainLink(
            chain: chain,
            sequence: sequence,
            index: index,
            eventID: try row.bytes(3),
            state: try row.bytes(4)
        )
    }

    func product(_ product: String) throws -> ProductRow? {
        if let held = pending.product(product) { return held }
        return try rows("SELECT product, gtin, serial, passport FROM products WHERE product = \(product)").first.map(
            makeProduct
        )
    }

    func products(withSerial serial: String) throws -> [ProductRow] {
        try flush(if: pending.products.contains { $0.serial == serial })
        return try rows(
            "SELECT product, gtin, serial, passport FROM products WHERE serial = \(serial) ORDER BY product"
        )
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

    func checkpoints(sizes: ClosedRange<UInt64>) throws -> [StoredCheckpoint] {
        try rows(
            """
            SELECT size, root, note FROM checkpoints
            WHERE size >= \(Int64(clamping: sizes.lowerBound)) AND size <= \(Int64(clamping: sizes.upperBound))
            ORDER BY size
            """
        ).map(makeCheckpoint)
    }

    private func makeCheckpoint(_ row: PostgresRow) throws -> StoredCheckpoint {
        StoredCheckpoint(size: try row.unsigned(0), root: try row.bytes(1), note: try row.text(2))
    }

    /// All asked-for nodes in one round trip (the tree code asks for a whole proof at once).
    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] {
        var found: [NodeID: [UInt8]] = [:]
        var asked: [NodeID] = []
        for node in nodes {
            if let held = pending.hash(of: node) { found[node] = held } else { asked.append(node) }
        }
        guard !asked.isEmpty else { return found }
        let levels = asked.map { Int64($0.level) }
        let indices = asked.map { Int64(clamping: $0.index) }
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
        // Sent now, with the held rows, so that a running group's savepoint is open first.
        try flush()
        try run("INSERT INTO meta (key, value) VALUES (\(key), \(value))")
    }

    func insert(entry: StoredEntry) throws {
        pending.add(entry)
        try sendIfLarge()
    }

    func insert(nodes: [(NodeID, [UInt8])]) throws {
        nodes.forEach(pending.add)
        try sendIfLarge()
    }

    func insert(link: ChainLink) throws {
        pending.add(link)
        try sendIfLarge()
    }

    func insert(product: ProductRow) throws {
        pending.add(product)
        try sendIfLarge()
    }

    private func sendIfLarge() throws {
        try flush(if: pending.heldBytes > PendingRows.sendThreshold)
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
        try flush()
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

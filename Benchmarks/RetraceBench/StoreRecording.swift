import MerkleLog
import RetraceStorage
import Synchronization

/// Every call a ledger made on its store, transaction by transaction, with the values it passed:
/// replayed on another copy of the same file, it costs what the store alone costs for that work.
///
/// This is how the append section measures its storage floor. The append's CPU splits into the
/// signature checks (``SignatureCPU``), the store's reads and writes with their transactions and
/// fsyncs, and the ledger's own work between them (rules, state encoding, hashing, the heads map).
/// The replay runs the second part alone — nothing parsed, judged, hashed or signed — so the
/// difference is what the ledger code itself could still win, and what is left is what this
/// schema on SQLite costs whatever the code above it does.
final class StoreRecording: Sendable {
    enum Call: Sendable {
        case treeSize
        case metadata(String)
        case entry(UInt64)
        case entries([UInt64])
        case entryIndex([UInt8])
        case entryIndices([[UInt8]])
        case head(String)
        case heads([String])
        case chain(String)
        case chainHeads(UInt64)
        case product(String)
        case productsWithSerial(String)
        case chainLinks(String?, String?)
        case products(String?, String?)
        case latestCheckpoint
        case checkpoints
        case checkpoint(UInt64)
        case checkpointsInRange(ClosedRange<UInt64>)
        case hashes([NodeID])
        case forEachEntry(UInt64, UInt64)
        case setMetadata(String, String)
        case insertEntry(StoredEntry)
        case insertNodes([NodeID], [[UInt8]])
        case insertLink(ChainLink)
        case insertProduct(ProductRow)
        case insertCheckpoint(StoredCheckpoint)
        /// The calls made inside a savepoint (a group of a group commit).
        case savepoint([Call])

        var writes: Bool {
            switch self {
            case .setMetadata, .insertEntry, .insertNodes, .insertLink, .insertProduct, .insertCheckpoint: true
            case .savepoint(let calls): calls.contains(where: \.writes)
            default: false
            }
        }
    }

    struct Transaction: Sendable {
        let writing: Bool
        let calls: [Call]
    }

    private let recorded = Mutex<[Transaction]>([])

    var transactions: [Transaction] { recorded.withLock { $0 } }

    fileprivate func add(_ transaction: Transaction) { recorded.withLock { $0.append(transaction) } }

    /// Replays every transaction on `store`, in order, each as a read or a write transaction as it
    /// was recorded. Reads are made and their answers dropped; an answer different from the
    /// recorded run's would only change what the ledger wrote, which is replayed as recorded.
    ///
    /// With `only`, the write transactions are replayed with just the calls it keeps (inside
    /// savepoints too), and read transactions not at all: what one table's rows cost the store.
    func replay(on store: any LedgerStore, _ range: Range<Int>, only: ((Call) -> Bool)? = nil) throws {
        let all = transactions
        for transaction in all[range] {
            if let only {
                guard transaction.writing else { continue }
                let kept = Self.filter(transaction.calls, only)
                if !kept.isEmpty {
                    try store.write { writer in try Self.run(kept, reader: writer, writer: writer) }
                }
            } else if transaction.writing {
                try store.write { writer in try Self.run(transaction.calls, reader: writer, writer: writer) }
            } else {
                try store.read { reader in try Self.run(transaction.calls, reader: reader, writer: nil) }
            }
        }
    }

    private static func filter(_ calls: [Call], _ keep: (Call) -> Bool) -> [Call] {
        calls.compactMap { call in
            if case .savepoint(let inner) = call {
                let kept = filter(inner, keep)
                return kept.isEmpty ? nil : .savepoint(kept)
            }
            return keep(call) ? call : nil
        }
    }

    private static func run(_ calls: [Call], reader: any LedgerReader, writer: (any LedgerWriter)?) throws {
        for call in calls {
            switch call {
            case .treeSize: _ = try reader.treeSize()
            case .metadata(let key): _ = try reader.metadata(key)
            case .entry(let index): _ = try reader.entry(at: index)
            case .entries(let indices): _ = try reader.entries(at: indices)
            case .entryIndex(let id): _ = try reader.entryIndex(eventID: id)
            case .entryIndices(let ids): _ = try reader.entryIndices(eventIDs: ids)
            case .head(let chain): _ = try reader.head(of: chain)
            case .heads(let chains): _ = try reader.heads(of: chains)
            case .chain(let chain): _ = try reader.chain(chain)
            case .chainHeads(let size): _ = try reader.chainHeads(below: size)
            case .product(let product): _ = try reader.product(product)
            case .productsWithSerial(let serial): _ = try reader.products(withSerial: serial)
            case .chainLinks(let lower, let upper): _ = try reader.chainLinks(after: lower, through: upper)
            case .products(let lower, let upper): _ = try reader.products(after: lower, through: upper)
            case .latestCheckpoint: _ = try reader.latestCheckpoint()
            case .checkpoints: _ = try reader.checkpoints()
            case .checkpoint(let size): _ = try reader.checkpoint(size: size)
            case .checkpointsInRange(let sizes): _ = try reader.checkpoints(sizes: sizes)
            case .hashes(let nodes): _ = try reader.hashes(of: nodes)
            case .forEachEntry(let from, let to): try reader.forEachEntry(from: from, to: to) { _ in }
            default:
                guard let writer else { throw BenchError("a write was recorded in a read transaction") }
                switch call {
                case .setMetadata(let key, let value): try writer.setMetadata(key, value)
                case .insertEntry(let entry): try writer.insert(entry: entry)
                case .insertNodes(let ids, let hashes): try writer.insert(nodes: Array(zip(ids, hashes)))
                case .insertLink(let link): try writer.insert(link: link)
                case .insertProduct(let row): try writer.insert(product: row)
                case .insertCheckpoint(let checkpoint): try writer.insert(checkpoint: checkpoint)
                case .savepoint(let inner): try writer.withSavepoint { try run(inner, reader: writer, writer: writer) }
                default: break
                }
            }
        }
    }
}

/// A store that records every call made through it into a ``StoreRecording``.
final class RecordingStore: LedgerStore {
    let base: any LedgerStore
    let recording: StoreRecording

    init(base: any LedgerStore, recording: StoreRecording) {
        self.base = base
        self.recording = recording
    }

    var prefersParallelReads: Bool { base.prefersParallelReads }

    func read<T>(_ body: (any LedgerReader) throws -> T) throws -> T {
        let log = CallLog()
        defer { recording.add(.init(writing: false, calls: log.calls)) }
        return try base.read { reader in try body(RecordingWriter(reader: reader, writer: nil, log: log)) }
    }

    func write<T>(_ body: (any LedgerWriter) throws -> T) throws -> T {
        let log = CallLog()
        let result = try base.write { writer in try body(RecordingWriter(reader: writer, writer: writer, log: log)) }
        // Only committed transactions: one that threw wrote nothing, and replaying it would.
        recording.add(.init(writing: true, calls: log.calls))
        return result
    }
}

/// The calls of one transaction (or savepoint) as they are made; one thread at a time, as the
/// transaction that owns it.
private final class CallLog {
    var calls: [StoreRecording.Call] = []
}

/// Forwards every call to the store's own reader or writer and notes it. A read-only transaction
/// hands it out without a writer; a write through it then fails as the store's own would.
private struct RecordingWriter: LedgerWriter {
    let reader: any LedgerReader
    let writer: (any LedgerWriter)?
    let log: CallLog

    private func note(_ call: StoreRecording.Call) { log.calls.append(call) }

    private func writable() throws -> any LedgerWriter {
        guard let writer else { throw StorageError(.readOnly, "a write in a recorded read transaction") }
        return writer
    }

    func hashes(of nodes: [NodeID]) throws -> [NodeID: [UInt8]] {
        note(.hashes(nodes))
        return try reader.hashes(of: nodes)
    }
    func metadata(_ key: String) throws -> String? {
        note(.metadata(key))
        return try reader.metadata(key)
    }
    func treeSize() throws -> UInt64 {
        note(.treeSize)
        return try reader.treeSize()
    }
    func entry(at index: UInt64) throws -> StoredEntry? {
        note(.entry(index))
        return try reader.entry(at: index)
    }
    func forEachEntry(from: UInt64, to: UInt64, _ body: (StoredEntry) throws -> Void) throws {
        note(.forEachEntry(from, to))
        try reader.forEachEntry(from: from, to: to, body)
    }
    func entryIndex(eventID: [UInt8]) throws -> UInt64? {
        note(.entryIndex(eventID))
        return try reader.entryIndex(eventID: eventID)
    }
    func head(of chain: String) throws -> ChainLink? {
        note(.head(chain))
        return try reader.head(of: chain)
    }
    func chain(_ chain: String) throws -> [ChainLink] {
        note(.chain(chain))
        return try reader.chain(chain)
    }
    func chainHeads(below size: UInt64) throws -> [ChainLink] {
        note(.chainHeads(size))
        return try reader.chainHeads(below: size)
    }
    func product(_ product: String) throws -> ProductRow? {
        note(.product(product))
        return try reader.product(product)
    }
    func products(withSerial serial: String) throws -> [ProductRow] {
        note(.productsWithSerial(serial))
        return try reader.products(withSerial: serial)
    }
    func chainLinks(after lower: String?, through upper: String?) throws -> [ChainLink] {
        note(.chainLinks(lower, upper))
        return try reader.chainLinks(after: lower, through: upper)
    }
    func products(after lower: String?, through upper: String?) throws -> [ProductRow] {
        note(.products(lower, upper))
        return try reader.products(after: lower, through: upper)
    }
    func latestCheckpoint() throws -> StoredCheckpoint? {
        note(.latestCheckpoint)
        return try reader.latestCheckpoint()
    }
    func checkpoints() throws -> [StoredCheckpoint] {
        note(.checkpoints)
        return try reader.checkpoints()
    }
    func checkpoints(sizes: ClosedRange<UInt64>) throws -> [StoredCheckpoint] {
        note(.checkpointsInRange(sizes))
        return try reader.checkpoints(sizes: sizes)
    }
    func checkpoint(size: UInt64) throws -> StoredCheckpoint? {
        note(.checkpoint(size))
        return try reader.checkpoint(size: size)
    }
    func entryIndices(eventIDs: [[UInt8]]) throws -> [[UInt8]: UInt64] {
        note(.entryIndices(eventIDs))
        return try reader.entryIndices(eventIDs: eventIDs)
    }
    func heads(of chains: [String]) throws -> [String: ChainLink] {
        note(.heads(chains))
        return try reader.heads(of: chains)
    }
    func entries(at indices: [UInt64]) throws -> [UInt64: StoredEntry] {
        note(.entries(indices))
        return try reader.entries(at: indices)
    }

    func setMetadata(_ key: String, _ value: String) throws {
        try writable().setMetadata(key, value)
        note(.setMetadata(key, value))
    }
    func insert(entry: StoredEntry) throws {
        try writable().insert(entry: entry)
        note(.insertEntry(entry))
    }
    func insert(nodes: [(NodeID, [UInt8])]) throws {
        try writable().insert(nodes: nodes)
        note(.insertNodes(nodes.map(\.0), nodes.map(\.1)))
    }
    func insert(link: ChainLink) throws {
        try writable().insert(link: link)
        note(.insertLink(link))
    }
    func insert(product: ProductRow) throws {
        try writable().insert(product: product)
        note(.insertProduct(product))
    }
    func insert(checkpoint: StoredCheckpoint) throws {
        try writable().insert(checkpoint: checkpoint)
        note(.insertCheckpoint(checkpoint))
    }
    /// A savepoint's calls are kept only if it is released: one rolled back left nothing behind.
    func withSavepoint<T>(_ body: () throws -> T) throws -> T {
        let start = log.calls.count
        do {
            let result = try writable().withSavepoint { try body() }
            let inner = Array(log.calls[start...])
            log.calls.removeSubrange(start...)
            note(.savepoint(inner))
            return result
        } catch {
            log.calls.removeSubrange(start...)
            throw error
        }
    }
}

import MerkleLog
import RetraceStorage

/// A store that hands out altered entries, standing in for a database someone edited by hand.
struct TamperingStore: LedgerStore {
    let base: SQLiteLedgerStore
    let alter: @Sendable (StoredEntry) -> StoredEntry

    init(base: SQLiteLedgerStore, alter: @escaping @Sendable (StoredEntry) -> StoredEntry) {
        self.base = base
        self.alter = alter
    }

    func read<T>(_ body: (any LedgerReader) throws -> T) throws -> T {
        try base.read { reader in try body(TamperingReader(base: reader, alter: alter)) }
    }

    func write<T>(_ body: (any LedgerWriter) throws -> T) throws -> T {
        throw StorageError(.readOnly, "the tampering store is read-only")
    }
}

struct TamperingReader: ForwardingLedgerReader {
    let base: any LedgerReader
    let alter: @Sendable (StoredEntry) -> StoredEntry

    func entry(at index: UInt64) throws -> StoredEntry? { try base.entry(at: index).map(alter) }
    func forEachEntry(from: UInt64, to: UInt64, _ body: (StoredEntry) throws -> Void) throws {
        try base.forEachEntry(from: from, to: to) { try body(alter($0)) }
    }
}

extension StoredEntry {
    /// The same row with `old` replaced by `new` in its entry text, every other column left as stored.
    func replacing(_ old: String, with new: String) -> StoredEntry {
        replacingBytes(Array(String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: old, with: new).utf8))
    }

    /// The same row with other entry bytes: a value edited by hand, every other column left as stored.
    func replacingBytes(_ bytes: [UInt8]) -> StoredEntry {
        StoredEntry(
            index: index,
            eventID: eventID,
            type: type,
            received: received,
            leafHash: leafHash,
            bytes: bytes,
            members: members
        )
    }
}

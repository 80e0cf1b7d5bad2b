import CanonicalJSON
import RetraceRules
import RetraceStorage

/// The auditor's head of every product chain, with memory bounded by `capacity` heads.
///
/// An audit must remember each product's current state to judge its next event, and a ledger of
/// 10^6 entries holds about 140,000 products: kept in a dictionary, that is most of an audit's
/// memory and grows with the ledger. Here at most `capacity` heads stay in memory; when there are
/// more, the least recently used half is written to a ``ScratchTable`` (the audit's own temporary
/// file, never the ledger) and read back when its product shows up again. Products are touched in
/// bursts (a sale, its return and inspection are close together in the log), so a few thousand
/// resident heads serve most lookups.
///
/// The heads written out are the auditor's own derivations; nothing stored in the ledger is
/// believed because of this.
struct ChainHeads {
    let capacity: Int
    private var resident: [String: (head: ChainHead, lastUse: UInt64)] = [:]
    private var clock: UInt64 = 0
    private var spill: ScratchTable?
    /// Heads written out so far, for the report's figures and the tests.
    private(set) var spilled = 0
    /// Heads read back from the scratch table.
    private(set) var reloaded = 0

    init(capacity: Int = Auditor.defaultResidentChains) {
        self.capacity = max(capacity, 2)
    }

    /// The head of `key`'s chain, or `nil` for a chain not seen yet.
    mutating func head(_ key: String) throws -> ChainHead? {
        clock += 1
        if let found = resident[key] {
            resident[key] = (found.head, clock)
            return found.head
        }
        guard let spill, let bytes = try spill.value(for: key) else { return nil }
        let head = try Self.decode(bytes, key: key)
        reloaded += 1
        try set(key, head)
        return head
    }

    mutating func set(_ key: String, _ head: ChainHead) throws {
        clock += 1
        resident[key] = (head, clock)
        if resident.count > capacity { try evict() }
    }

    /// Writes the least recently used half of the resident heads to the scratch table.
    private mutating func evict() throws {
        let table = try spill ?? ScratchTable()
        spill = table
        let oldest = resident.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(resident.count / 2)
        var rows: [(key: String, value: [UInt8])] = []
        rows.reserveCapacity(oldest.count)
        for (key, entry) in oldest { rows.append((key, try Self.encode(entry.head))) }
        try table.put(rows)
        for row in rows { resident[row.key] = nil }
        spilled += rows.count
    }

    /// Every chain's head in bytewise key order: the resident ones merged with the written-out
    /// ones (a resident head is newer than its written-out copy, which is then skipped).
    func forEachSorted(_ body: (String, ChainHead) throws -> Void) throws {
        let memory = resident.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var next = 0
        func emitResident(before key: String?) throws {
            while next < memory.count, key.map({ memory[next].utf8.lexicographicallyPrecedes($0.utf8) }) ?? true {
                if let entry = resident[memory[next]] { try body(memory[next], entry.head) }
                next += 1
            }
        }
        if let spill {
            try spill.forEachInKeyOrder { key, bytes in
                try emitResident(before: key)
                guard resident[key] == nil else { return }
                try body(key, try Self.decode(bytes, key: key))
            }
        }
        try emitResident(before: nil)
    }

    // MARK: Encoding

    /// `flags ‖ sequence ‖ lastIndex ‖ commissionIndex ‖ len ‖ eventID ‖ len ‖ linkDigest ‖ state`,
    /// integers big-endian, the state as its canonical JSON (present when flags bit 0 is set).
    static func encode(_ head: ChainHead) throws -> [UInt8] {
        var bytes: [UInt8] = [head.state == nil ? 0 : 1]
        for value in [UInt64(bitPattern: head.sequence), head.lastIndex, head.commissionIndex] {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        for field in [head.eventID, head.linkDigest] {
            bytes.append(UInt8(field.count))
            bytes.append(contentsOf: field)
        }
        if let state = head.state { bytes.append(contentsOf: try state.canonicalBytes()) }
        return bytes
    }

    static func decode(_ bytes: [UInt8], key: String) throws -> ChainHead {
        var position = 0
        func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, bytes.count - position >= count else {
                throw AuditError(.storage, "the audit's scratch copy of \(key)'s head is cut short at byte \(position)")
            }
            defer { position += count }
            return bytes[position..<position + count]
        }
        func integer() throws -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
        let flags = try take(1).first ?? 0
        let sequence = Int64(bitPattern: try integer())
        let lastIndex = try integer()
        let commissionIndex = try integer()
        let eventID = Array(try take(Int(try take(1).first ?? 0)))
        let linkDigest = Array(try take(Int(try take(1).first ?? 0)))
        var state: ProductState?
        if flags & 1 == 1 {
            state = try ProductState(json: CanonicalJSON.decode(Array(bytes[position...])))
        }
        return ChainHead(
            eventID: eventID,
            sequence: sequence,
            state: state,
            linkDigest: linkDigest,
            lastIndex: lastIndex,
            commissionIndex: commissionIndex
        )
    }
}

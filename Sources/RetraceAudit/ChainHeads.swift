import CanonicalJSON
import RetraceCrypto
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
        // One lookup, and the use stamped in place: reading the entry and writing it back hashed
        // the key twice and copied the head in and out (issue 15).
        if let index = resident.index(forKey: key) {
            resident.values[index].lastUse = clock
            return resident.values[index].head
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
        // The half to write out is found by the use stamps alone (distinct, so the median splits
        // the heads exactly): sorting the entries themselves copied every resident head, its
        // state and arrays retained and released, on each eviction (issue 15).
        let stamps = resident.values.map(\.lastUse).sorted()
        let newestWrittenOut = stamps[resident.count / 2 - 1]
        var rows: [(key: String, value: [UInt8])] = []
        rows.reserveCapacity(resident.count / 2)
        for (key, entry) in resident where entry.lastUse <= newestWrittenOut {
            rows.append((key, try Self.encode(entry.head)))
        }
        try table.put(rows)
        for row in rows { resident[row.key] = nil }
        spilled += rows.count
    }

    /// Every chain's head in bytewise key order, as the end of an audit compares them with the
    /// stored rows: the resident ones merged with the written-out ones (a resident head is newer
    /// than its written-out copy, which is then skipped). A written-out head's state is passed on
    /// as the canonical bytes it was written as, not parsed back into a state only to be encoded
    /// again (parsing was 40 % of the single-threaded end of an audit of 10^6 entries, whose heads
    /// are nearly all written out; issue 15).
    func forEachSettled(_ body: (String, SettledHead) throws -> Void) throws {
        let memory = resident.keys.sorted(by: Bytewise.precedes)
        var next = 0
        func emitResident(before key: String?) throws {
            while next < memory.count, key.map({ Bytewise.precedes(memory[next], $0) }) ?? true {
                if let entry = resident[memory[next]] { try body(memory[next], try SettledHead(entry.head)) }
                next += 1
            }
        }
        if let spill {
            try spill.forEachInKeyOrder { key, bytes in
                try emitResident(before: key)
                guard resident[key] == nil else { return }
                try body(key, try Self.settled(bytes, key: key))
            }
        }
        try emitResident(before: nil)
    }

    // MARK: Encoding

    /// `flags ‖ sequence ‖ lastIndex ‖ commissionIndex ‖ len ‖ eventID ‖ len ‖ linkDigest`, then when
    /// flags bit 0 is set (a state) `len ‖ passport ‖ len ‖ GTIN ‖ state`: integers big-endian, the
    /// state as its canonical JSON, its passport and GTIN also apart so that ``settled(_:key:)``
    /// need not parse it.
    static func encode(_ head: ChainHead) throws -> [UInt8] {
        var bytes: [UInt8] = [head.state == nil ? 0 : 1]
        for value in [UInt64(bitPattern: head.sequence), head.lastIndex, head.commissionIndex] {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }
        var fields = [head.eventID, head.linkDigest]
        if let state = head.state { fields += [state.passport.bytes, Array(state.gtin.utf8)] }
        for field in fields {
            guard let count = UInt8(exactly: field.count) else {
                throw AuditError(
                    .storage,
                    "a field of a head is \(field.count) bytes, more than the scratch copy holds"
                )
            }
            bytes.append(count)
            bytes.append(contentsOf: field)
        }
        if let state = head.state { bytes.append(contentsOf: try state.canonicalBytes()) }
        return bytes
    }

    static func decode(_ bytes: [UInt8], key: String) throws -> ChainHead {
        let (head, eventID) = try record(bytes, key: key)
        return ChainHead(
            eventID: eventID,
            sequence: head.sequence,
            state: try head.state.map { try ProductState(json: CanonicalJSON.decode($0)) },
            linkDigest: head.linkDigest,
            lastIndex: head.lastIndex,
            commissionIndex: head.commissionIndex
        )
    }

    static func settled(_ bytes: [UInt8], key: String) throws -> SettledHead {
        try record(bytes, key: key).head
    }

    /// One reading of a record for both: ``decode(_:key:)`` parses the state it hands on as bytes.
    private static func record(_ bytes: [UInt8], key: String) throws -> (head: SettledHead, eventID: [UInt8]) {
        var reader = Fields(bytes: bytes, key: key)
        let flags = try reader.take(1).first ?? 0
        let sequence = Int64(bitPattern: try reader.integer())
        let lastIndex = try reader.integer()
        let commissionIndex = try reader.integer()
        let eventID = Array(try reader.field())
        let linkDigest = Array(try reader.field())
        var passport: [UInt8] = []
        var gtin = ""
        var state: [UInt8]?
        if flags & 1 == 1 {
            passport = Array(try reader.field())
            gtin = String(decoding: try reader.field(), as: UTF8.self)
            state = Array(try reader.rest())
        }
        let head = SettledHead(
            sequence: sequence,
            lastIndex: lastIndex,
            commissionIndex: commissionIndex,
            linkDigest: linkDigest,
            state: state,
            passport: passport,
            gtin: gtin
        )
        return (head, eventID)
    }

    /// Reads a scratch record front to back; a record cut short is an error naming the product.
    private struct Fields {
        let bytes: [UInt8]
        let key: String
        var position = 0

        init(bytes: [UInt8], key: String) {
            self.bytes = bytes
            self.key = key
        }

        mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, bytes.count - position >= count else {
                throw AuditError(.storage, "the audit's scratch copy of \(key)'s head is cut short at byte \(position)")
            }
            defer { position += count }
            return bytes[position..<position + count]
        }

        mutating func integer() throws -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }

        mutating func field() throws -> ArraySlice<UInt8> { try take(Int(try take(1).first ?? 0)) }

        mutating func rest() throws -> ArraySlice<UInt8> { try take(bytes.count - position) }
    }
}

/// A chain's head as the end of an audit compares it with the stored rows: where the chain ends, the
/// digest of its links, and its state as the canonical bytes the head link must store, with the two
/// fields the `products` row must repeat.
struct SettledHead: Equatable {
    let sequence: Int64
    let lastIndex: UInt64
    let commissionIndex: UInt64
    let linkDigest: [UInt8]
    /// The state's canonical JSON; `nil` for a chain without one (the roster, a class).
    let state: [UInt8]?
    /// The commission's id; empty without a state.
    let passport: [UInt8]
    let gtin: String

    init(
        sequence: Int64,
        lastIndex: UInt64,
        commissionIndex: UInt64,
        linkDigest: [UInt8],
        state: [UInt8]?,
        passport: [UInt8],
        gtin: String
    ) {
        self.sequence = sequence
        self.lastIndex = lastIndex
        self.commissionIndex = commissionIndex
        self.linkDigest = linkDigest
        self.state = state
        self.passport = passport
        self.gtin = gtin
    }

    init(_ head: ChainHead) throws {
        self.init(
            sequence: head.sequence,
            lastIndex: head.lastIndex,
            commissionIndex: head.commissionIndex,
            linkDigest: head.linkDigest,
            state: try head.state?.canonicalBytes(),
            passport: head.state?.passport.bytes ?? [],
            gtin: head.state?.gtin ?? ""
        )
    }
}

import CanonicalJSON
import Dispatch
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceRules
import RetraceStorage
import Synchronization
import VerifiableMap

/// Thrown inside the engine to stop at the first failure when the auditor does not keep going.
struct StopAudit: Error {}

/// What the auditor knows about one chain (a product, or the roster) at the current position.
///
/// This is the audit's only per-product memory: O(number of products), never O(entries).
struct ChainHead: Sendable, Equatable {
    var eventID: [UInt8]
    var sequence: Int64
    /// `nil` for the roster chain.
    var state: ProductState?
    /// Running SHA-256 over every link (sequence, index, event id, derived state) of the chain,
    /// compared with the stored chain_links rows at the end without keeping them.
    var linkDigest: [UInt8]
    var lastIndex: UInt64
    var commissionIndex: UInt64
}

/// How many of an audit's chunks are being prepared on a worker right now.
final class WorkerProbe: Sendable {
    let running = Atomic<Int>(0)
}

/// The streaming core shared by every audit source: entries come in log order, are parsed and
/// their signatures verified on `threads` workers a chunk at a time, then judged in order.
struct AuditEngine {
    static let chunkSize = 2_048

    let logKey: NoteVerifier
    let keepGoing: Bool
    let threads: Int
    let failureCap: Int
    let progress: (@Sendable (UInt64, UInt64) -> Void)?
    var total: UInt64 = 0
    var origin: String?
    /// The origin the export header or ledger metadata declares, when the auditor was given none:
    /// it must be the origin the checkpoints are signed for, or a renamed source would pass.
    var declaredOrigin: String?
    /// Stored derived data to compare with (SQLite); `nil` for an export.
    var reader: (any LedgerReader)?
    /// For an incremental audit: loads a product's verified state at the trusted size.
    var historyLoader: ((inout AuditEngine, String) throws -> ChainHead?)?

    /// Counts this audit's chunks still on a worker, for the tests that prove none outlives it.
    var probe: WorkerProbe?
    /// Told of every event the audit accepts, in log order (see ``AuditedEvent``).
    var observer: ((AuditedEvent) throws -> Void)?

    var trust: TrustState
    var trustGeneration = 0
    /// The trust state put in force by each roster entry, by index: O(number of rosters).
    var rosterHistory: [(index: UInt64, trust: TrustState)] = []
    var heads = ChainHeads()
    var rosterHead: ChainHead?
    /// Chains with a failure: not judged further, so one tampered event gives one failure.
    var broken: Set<String> = []

    var frontier = TreeFrontier()
    var indexShift: Int64 = 0
    var lastReceived: Int64?
    var lastSeenCheckpoint: UInt64 = 0
    var lastGoodCheckpoint: UInt64 = 0
    var rootDiverged = false
    var checkpointsChecked: UInt64 = 0
    /// The heads map recomputed from the entries alone, compared with each checkpoint's heads root:
    /// flat and updated in place, as nothing else shares it (``FlatHeadsMap``).
    var headsMap = FlatHeadsMap()
    /// Heads set since ``headsMap`` was last brought up to date, with their latest event and index
    /// and the events they gained meanwhile (``FlatHeadsMap/advance(all:)``): the map
    /// is only read at checkpoints, and one ``FlatHeadsMap/advance(all:)`` over the keys of a checkpoint
    /// interval rebuilds the shared upper nodes once instead of once per entry (one key at a time
    /// was ~83 K instructions per audited entry, issue 15). Bounded by the auditor's
    /// `residentChains`, so memory stays flat between checkpoints far apart. Keyed by the map
    /// key held inline: a `[UInt8]` key is hashed one byte at a time, twice per audited entry.
    private var pendingHeads: [SHA256Digest: FlatHeadsMap.Head] = [:]
    var pendingHeadsLimit = Auditor.defaultResidentChains
    /// Chains compared per range read at the end of a full audit: as many heads as the audit keeps
    /// in memory, with their stored links (about eight each at 10^6 entries) and rows.
    var chainsPerRead = Auditor.defaultResidentChains
    /// False for an incremental audit whose starting map could not be established: heads roots
    /// are then not compared.
    var headsKnown = true
    var headsRootsChecked: UInt64 = 0
    var entriesChecked: UInt64 = 0
    var failures: [AuditFailure] = []
    var failuresTruncated = false

    private var pending: [AuditInput] = []
    private var pendingEntries = 0
    private var inFlight: InFlight?

    init(
        trustRoots: [NoteVerifier],
        logKey: NoteVerifier,
        origin: String?,
        threads: Int,
        keepGoing: Bool,
        failureCap: Int,
        progress: (@Sendable (UInt64, UInt64) -> Void)?
    ) {
        self.trust = TrustState(trustRoots: trustRoots)
        self.logKey = logKey
        self.origin = origin
        self.threads = threads
        self.keepGoing = keepGoing
        self.failureCap = failureCap
        self.progress = progress
    }

    var position: UInt64 { frontier.size }

    // MARK: Failures

    mutating func fail(_ index: UInt64?, _ product: String?, _ rule: String, _ reason: String) throws {
        if failures.count < failureCap {
            failures.append(AuditFailure(index: index, product: product, rule: rule, reason: reason))
        } else {
            failuresTruncated = true
        }
        if !keepGoing { throw StopAudit() }
    }

    // MARK: Feeding

    mutating func feed(_ input: AuditInput) throws {
        pending.append(input)
        if case .entry = input { pendingEntries += 1 }
        // A roster ends its chunk: the statements after it are prepared under the roster it puts
        // in force (``flush()``).
        if pendingEntries >= Self.chunkSize || input.isStoredRoster { try flush() }
    }

    /// Sends the buffered chunk to be parsed and authenticated, and judges the chunk before it.
    ///
    /// With two threads the chunks are pipelined: chunk k+1 is parsed and its signatures checked on
    /// the workers while this thread judges chunk k in order. Chunk k+1 was authenticated under the
    /// trust state before chunk k was judged; if chunk k changed the roster, the generation differs
    /// and its events are authenticated again in order, so the result is the same as without the
    /// pipeline.
    ///
    /// A stored roster ends its chunk, and that chunk is judged before the next one is dispatched,
    /// so that the statements after a roster are authenticated on the workers, under the roster it
    /// put in force, rather than in order on this thread. Every ledger begins with its first
    /// roster; under no roster the 2,047 statements after it in its chunk failed to authenticate
    /// without any signature checked, and all 2,047 signatures were then checked one by one here
    /// (a tenth of the audit of 10^4 entries). The stored type is only a hint for the schedule: a
    /// roster stored under another type is found when its chunk is judged, and what follows it is
    /// authenticated again in order, as without the hint.
    mutating func flush() throws {
        if let previous = inFlight, previous.storedRoster {
            inFlight = nil
            try judge(previous)
        }
        let current: InFlight? = pending.isEmpty ? nil : dispatch()
        if let previous = inFlight {
            inFlight = nil
            do { try judge(previous) } catch {
                // Stopping (the first failure, or a read error): the next chunk may still be
                // checking signatures on a worker. Let it end before the audit returns: a CLI that
                // exits under it crashes in libcrypto's exit-time cleanup (signal 11 instead of
                // exit 1, in most runs of `retrace audit` on a ledger tampered early).
                current?.done.wait()
                throw error
            }
        }
        if let current {
            if threads > 1 {
                inFlight = current
            } else {
                try judge(current)
            }
        }
    }

    /// Judges whatever is still buffered or in flight.
    mutating func drain() throws {
        try flush()
        try flush()
    }

    /// Waits for a chunk still being prepared on a worker, whatever ended the audit.
    func settle() {
        inFlight?.done.wait()
    }

    /// A chunk whose parsing and signature checks run (or ran) on the workers.
    struct InFlight {
        /// The chunk's items in log order, an entry only marking its place: the entries themselves
        /// were moved to `work`. Keeping them here too retained and released every buffer of
        /// every entry once more, mostly out of cache by the time the chunk was judged (issue 15).
        let slots: [Slot]
        let generation: Int
        let work: ChunkWork
        /// Left by every worker task of this chunk, so that an audit that stops waits for them.
        let done: DispatchGroup
        /// Whether a stored row of the chunk says it is a roster statement.
        let storedRoster: Bool
    }

    enum Slot {
        case entry
        case checkpoint(note: String, stored: StoredCheckpoint?)
    }

    /// Entries per piece of a chunk handed to a worker.
    static let pieceSize = 64

    /// A chunk's parsing and signature checks, in pieces of ``pieceSize`` entries that whoever is
    /// free takes: the workers, and the judging thread when it reaches a chunk not yet finished.
    /// One contiguous slice per thread left a worker idle at the end of every chunk whenever the
    /// judging thread had slowed the other one down, and the judging thread idle while it waited
    /// (two threads used 1.66 of the 2 cores, issue 15's audit profile).
    final class ChunkWork: Sendable {
        let trust: TrustState
        let pieces: Int
        private let next = Atomic<Int>(0)
        /// Each piece's raw entries, until the thread that claims the piece takes them out and
        /// moves them into its prepared entries (retaining each buffer again for the prepared
        /// entry and releasing it with the chunk cost two atomic operations per buffer, on memory
        /// mostly out of cache at 10^6 entries; issue 15).
        private let raws: Mutex<[[RawEntry]]>
        private let slices: Mutex<[[PreparedEntry]]>

        /// `raws` in pieces of ``AuditEngine/pieceSize``, in order.
        init(_ raws: consuming [[RawEntry]], trust: TrustState) {
            self.trust = trust
            pieces = raws.count
            slices = Mutex([[PreparedEntry]](repeating: [], count: raws.count))
            // Consumed: a copy left with the caller would make the first piece taken out copy
            // every entry of its piece (copy on write).
            self.raws = Mutex(consume raws)
        }

        /// Prepares pieces until none is left unclaimed.
        func work() {
            while case let piece = next.wrappingAdd(1, ordering: .relaxed).oldValue, piece < pieces {
                var raws = self.raws.withLock { pieces in
                    var taken: [RawEntry] = []
                    swap(&taken, &pieces[piece])
                    return taken
                }
                var slice: [PreparedEntry] = []
                slice.reserveCapacity(raws.count)
                for index in raws.indices {
                    // Swapped out, so each raw entry is moved, not copied (`reverse` and `popLast`
                    // copied each element).
                    var raw = RawEntry.exportLine([])
                    swap(&raw, &raws[index])
                    slice.append(PreparedEntry(preparing: consume raw, trust: trust))
                }
                slices.withLock { $0[piece] = slice }
            }
        }

        /// Every piece, in order, moved out of the chunk; only once every claimed piece is finished
        /// (the group waited for). Not flattened into one array: that copied every prepared entry,
        /// a retain now and a release later of each of its buffers, which at 10^6 entries are
        /// mostly out of cache (issue 15).
        func takePrepared() -> [[PreparedEntry]] {
            slices.withLock { slices in
                var taken: [[PreparedEntry]] = []
                swap(&taken, &slices)
                return taken
            }
        }
    }

    private mutating func dispatch() -> InFlight {
        var items: [AuditInput] = []
        swap(&items, &pending)
        var pieces: [[RawEntry]] = []
        pieces.reserveCapacity((pendingEntries + Self.pieceSize - 1) / Self.pieceSize)
        pendingEntries = 0
        var slots: [Slot] = []
        slots.reserveCapacity(items.count)
        var storedRoster = false
        for index in items.indices {
            // Swapped out, so that each entry is moved into its piece, not copied.
            var item = AuditInput.checkpoint(note: "", stored: nil)
            swap(&item, &items[index])
            storedRoster = storedRoster || item.isStoredRoster
            switch consume item {
            case .entry(let raw):
                if pieces.isEmpty || pieces[pieces.count - 1].count == Self.pieceSize {
                    pieces.append([])
                    pieces[pieces.count - 1].reserveCapacity(Self.pieceSize)
                }
                pieces[pieces.count - 1].append(raw)
                slots.append(.entry)
            case .checkpoint(let note, let stored):
                slots.append(.checkpoint(note: note, stored: stored))
            }
        }
        let chunk = InFlight(
            slots: slots,
            generation: trustGeneration,
            work: ChunkWork(consume pieces, trust: trust),
            done: DispatchGroup(),
            storedRoster: storedRoster
        )
        if threads > 1 {
            let probe = self.probe
            for _ in 0..<min(threads, chunk.work.pieces) {
                probe?.running.add(1, ordering: .relaxed)
                DispatchQueue.global().async(group: chunk.done) { [work = chunk.work] in
                    defer { probe?.running.subtract(1, ordering: .releasing) }
                    work.work()
                }
            }
        } else {
            chunk.work.work()
        }
        return chunk
    }

    private mutating func judge(_ chunk: InFlight) throws {
        // Whatever no worker has claimed yet is checked here rather than waited for.
        chunk.work.work()
        chunk.done.wait()
        var pieces = chunk.work.takePrepared()
        var nodes: [(NodeID, SHA256Digest)] = []
        var piece = 0
        var next = 0
        for slot in chunk.slots {
            switch slot {
            case .entry:
                while piece < pieces.count, next == pieces[piece].count {
                    piece += 1
                    next = 0
                }
                guard piece < pieces.count else { return }
                // Moved out, leaving an empty entry behind: a read in place was still copied
                // around the call, a retain and a release of each buffer (see `takePrepared`).
                var prepared = PreparedEntry()
                swap(&prepared, &pieces[piece][next])
                try process(prepared, preparedGeneration: chunk.generation, nodes: &nodes)
                next += 1
            case .checkpoint(let note, let stored):
                try checkCheckpoint(note: note, stored: stored)
            }
        }
        if let reader, !nodes.isEmpty { try compareNodes(nodes, reader: reader) }
        progress?(entriesChecked, total)
    }

    // MARK: One entry

    private mutating func process(
        _ prepared: PreparedEntry,
        preparedGeneration: Int,
        nodes: inout [(NodeID, SHA256Digest)]
    ) throws {
        let index = position
        if let claimed = prepared.claimedIndex {
            let expected = Int64(index) + indexShift
            if Int64(claimed) != expected {
                indexShift = Int64(claimed) - Int64(index)
                try fail(
                    index,
                    nil,
                    AuditRule.entrySequence,
                    "entry \(claimed) found where entry \(expected) was expected: entries are missing, "
                        + "duplicated or out of order"
                )
            }
        }
        if let stored = prepared.stored {
            if stored.leafHash != prepared.leafHash {
                try fail(
                    index,
                    nil,
                    AuditRule.storedLeafHash,
                    "stored leaf_hash \(Hex.encode(stored.leafHash.prefix(6))) differs from the hash of the "
                        + "entry bytes \(Hex.encode(prepared.leafHash.prefix(6)))"
                )
            }
            if let entry = prepared.entry {
                let statement = entry.statement
                if stored.eventID != statement.id.bytes || stored.type != statement.type.name
                    || stored.received != entry.received.secondsSinceEpoch
                {
                    try fail(
                        index,
                        statement.product?.digitalLink,
                        AuditRule.storedColumns,
                        "stored event_id/type/received columns differ from the entry bytes "
                            + "(event \(statement.id.short), \(statement.type), received \(entry.received))"
                    )
                }
            }
        }
        // The audit hashes every leaf itself: always 32 bytes.
        frontier.append(leafHash: SHA256Digest(prepared.leafHash) ?? .zero, completed: &nodes, collect: reader != nil)
        entriesChecked += 1
        if let entry = prepared.entry { try advanceHeads(entry, index: index) }
        if let problem = prepared.problem {
            try fail(index, nil, problem.rule, problem.reason)
            return
        }
        guard let entry = prepared.entry else { return }
        let statement = entry.statement
        if statement.type == .roster {
            try processRoster(entry, index: index)
        } else if statement.type == .productClass {
            try processClass(entry, index: index, prepared: prepared, preparedGeneration: preparedGeneration)
        } else {
            try processEvent(entry, index: index, prepared: prepared, preparedGeneration: preparedGeneration)
        }
        try checkTimes(entry, index: index)
    }

    /// The log's own times: received never goes backwards, and no statement is dated more than the
    /// skew after it was received. Checked after the signed facts, which say more when both fail.
    private mutating func checkTimes(_ entry: LogEntry, index: UInt64) throws {
        let statement = entry.statement
        let received = entry.received.secondsSinceEpoch
        if let lastReceived, received < lastReceived {
            try fail(
                index,
                statement.product?.digitalLink,
                AuditRule.receivedOrder,
                "received \(entry.received) is before the previous entry's "
                    + "\(Timestamp(secondsSinceEpoch: lastReceived))"
            )
        }
        // Compared with the previous entry only, so one displaced entry gives at most two failures.
        lastReceived = received
        if statement.time.secondsSinceEpoch > received + Ledger.futureSkew {
            try fail(
                index,
                statement.product?.digitalLink,
                AuditRule.futureStatement,
                "the statement is dated \(statement.time), more than \(Ledger.futureSkew) s after the log received "
                    + "it (\(entry.received))"
            )
        }
    }

    private mutating func processRoster(_ entry: LogEntry, index: UInt64) throws {
        let key = Ledger.rosterChain
        guard !broken.contains(key) else { return }
        do {
            trust = try trust.applying(roster: entry.signed)
        } catch {
            broken.insert(key)
            try fail(index, key, AuditRule.roster, "\(error.rule): \(error.reason)")
            return
        }
        trustGeneration += 1
        rosterHistory.append((index, trust))
        let id = entry.statement.id.bytes
        let sequence = (rosterHead?.sequence ?? -1) + 1
        rosterHead = ChainHead(
            eventID: id,
            sequence: sequence,
            state: nil,
            linkDigest: Self.linkDigest(rosterHead?.linkDigest ?? [], sequence, index),
            lastIndex: index,
            commissionIndex: rosterHead?.commissionIndex ?? index
        )
    }

    /// A brand owner's `product-class` statement: authenticated, judged (`L13`, `L3`, `L4`) and
    /// linked to its GTIN's class chain (`C1`), which carries no product state.
    private mutating func processClass(
        _ entry: LogEntry,
        index: UInt64,
        prepared: PreparedEntry,
        preparedGeneration: Int
    ) throws {
        let signed = entry.signed
        let statement = signed.statement
        let key = Statement.classChain(gtin: statement.classGTIN ?? "")
        guard !broken.contains(key) else { return }
        let authentication = authentication(of: signed, prepared: prepared, preparedGeneration: preparedGeneration)
        let party: Party
        switch authentication {
        case .success(let found): party = found
        case .failure(let violation):
            broken.insert(key)
            try fail(index, key, AuditRule.signature, "\(violation.rule): \(violation.reason)")
            return
        case nil:
            try fail(index, nil, AuditRule.signature, "the statement was not authenticated")
            return
        }
        do {
            _ = try Lifecycle.judgeClass(statement, signer: party)
        } catch {
            broken.insert(key)
            try fail(index, key, AuditRule.lifecycle, "\(error.rule): \(error.reason)")
            return
        }
        var head = try heads.head(key)
        if head == nil, let historyLoader {
            head = try historyLoader(&self, key)
            guard !broken.contains(key) else { return }
        }
        guard statement.previous?.bytes == head?.eventID else {
            broken.insert(key)
            try fail(
                index,
                key,
                AuditRule.chainLink,
                head.map {
                    "C1 chain-head: previous \(statement.previous?.short ?? "none") is not the class head "
                        + "\(Hex.encode($0.eventID.prefix(6))) (entry \($0.lastIndex))"
                } ?? "C1 chain-head: the GTIN's first product-class statement names a previous statement"
            )
            return
        }
        let sequence = (head?.sequence ?? -1) + 1
        try heads.set(
            key,
            ChainHead(
                eventID: statement.id.bytes,
                sequence: sequence,
                state: nil,
                linkDigest: reader == nil
                    ? [] : Self.linkDigest(head?.linkDigest ?? [], sequence, index),
                lastIndex: index,
                commissionIndex: head?.commissionIndex ?? index
            )
        )
    }

    /// The prepared authentication, or a new one under the trust state in force when a roster
    /// judged since the entry was prepared changed it.
    private func authentication(
        of signed: SignedStatement,
        prepared: PreparedEntry,
        preparedGeneration: Int
    ) -> Result<Party, RuleViolation>? {
        guard preparedGeneration != trustGeneration else { return prepared.authentication }
        return Result { () throws(RuleViolation) in try trust.authenticate(signed) }
    }

    private mutating func processEvent(
        _ entry: LogEntry,
        index: UInt64,
        prepared: PreparedEntry,
        preparedGeneration: Int
    ) throws {
        let signed = entry.signed
        let statement = signed.statement
        let id = statement.id
        var targets: [(SGTIN, Digest?)] = []
        signed.forEachChain { chain, previous in
            if case .product(let product) = chain { targets.append((product, previous)) }
        }
        let authentication = authentication(of: signed, prepared: prepared, preparedGeneration: preparedGeneration)
        let party: Party
        switch authentication {
        case .success(let found): party = found
        case .failure(let violation):
            for (product, _) in targets { broken.insert(product.digitalLink) }
            try fail(
                index,
                targets.first?.0.digitalLink,
                AuditRule.signature,
                "\(violation.rule): \(violation.reason)"
            )
            return
        case nil:
            try fail(index, nil, AuditRule.signature, "the statement was not authenticated")
            return
        }
        var steps: [AuditedEvent.Step] = []
        for (product, previous) in targets {
            let key = product.digitalLink
            guard !broken.contains(key) else { continue }
            var head = try heads.head(key)
            if head == nil, let historyLoader {
                head = try historyLoader(&self, key)
                guard !broken.contains(key) else { continue }
            }
            if let head {
                guard let previous, previous.bytes == head.eventID else {
                    broken.insert(key)
                    if statement.type == .commission {
                        try fail(
                            index,
                            key,
                            AuditRule.chainLink,
                            "L2 commission-once: the product was commissioned already at entry \(head.commissionIndex)"
                        )
                    } else {
                        try fail(
                            index,
                            key,
                            AuditRule.chainLink,
                            "C1 chain-head: previous \(previous?.short ?? "none") is not the product's head "
                                + "\(Hex.encode(head.eventID.prefix(6))) (entry \(head.lastIndex))"
                        )
                    }
                    continue
                }
            } else if statement.type != .commission {
                broken.insert(key)
                try fail(index, key, AuditRule.chainLink, "L1 commissioned-first: the product was never commissioned")
                continue
            }
            let state: ProductState
            do {
                state = try Lifecycle.apply(
                    statement,
                    product: product,
                    eventID: id,
                    state: head?.state,
                    signer: party,
                    trust: trust
                )
            } catch {
                broken.insert(key)
                try fail(index, key, AuditRule.lifecycle, "\(error.rule): \(error.reason)")
                continue
            }
            let sequence = (head?.sequence ?? -1) + 1
            // The state is compared once per chain, at its head (`compare`), as only the head stores one.
            let digest = reader == nil ? [] : Self.linkDigest(head?.linkDigest ?? [], sequence, index)
            try heads.set(
                key,
                ChainHead(
                    eventID: id.bytes,
                    sequence: sequence,
                    state: state,
                    linkDigest: digest,
                    lastIndex: index,
                    commissionIndex: head?.commissionIndex ?? index
                )
            )
            if observer != nil { steps.append(AuditedEvent.Step(product: product, before: head?.state, after: state)) }
        }
        if let observer, !steps.isEmpty {
            try observer(AuditedEvent(index: index, entry: entry, signer: party, trust: trust, steps: steps))
        }
    }

    /// `SHA-256(previous digest ‖ sequence ‖ index)`: a chain's links, in order. The event id is
    /// not in it: a stored link has none of its own (schema 4), only the entry's at its index,
    /// whose `event_id` column the stream has compared with the entry's bytes. The derived state is
    /// not in it either: only the head stores one (schema 2), checked in `compare`.
    static func linkDigest(_ previous: [UInt8], _ sequence: Int64, _ index: UInt64) -> [UInt8] {
        previous.withUnsafeBytes { previous in
            withUnsafeBytes(of: UInt64(bitPattern: sequence).bigEndian) { sequence in
                withUnsafeBytes(of: index.bigEndian) { SHA256.hash(previous, sequence, $0) }
            }
        }
    }

    /// The trust state in force for an entry at `index` (rosters before it).
    func trust(at index: UInt64) -> TrustState? {
        rosterHistory.last(where: { $0.index < index })?.trust
    }

    // MARK: Heads map

    /// Sets the head of each chain the entry extends, whether or not the entry passes the rules:
    /// the map is defined by the log's content alone.
    private mutating func advanceHeads(_ entry: LogEntry, index: UInt64) throws {
        let eventID = entry.statement.id.bytes
        // One key at a time, held inline: no array of keys, and no array per key unless it is
        // new since the map was last brought up to date.
        try entry.signed.forEachChain { chain, _ in
            try advanceHead(chain.mapKeyDigest, eventID: eventID, index: index)
        }
        if pendingHeads.count >= pendingHeadsLimit { try flushHeads() }
    }

    /// Notes that the chain under `key` gained an event: the count it gained since the map was
    /// last brought up to date, which the map adds to the count it holds (``flushHeads()``).
    private mutating func advanceHead(_ key: SHA256Digest, eventID: [UInt8], index: UInt64) throws {
        guard let event = SHA256Digest(eventID) else {
            throw AuditError(.storage, "an event id of \(eventID.count) bytes reached the heads map")
        }
        if let pending = pendingHeads.index(forKey: key) {
            let gained = pendingHeads.values[pending].count + 1
            pendingHeads.values[pending] = try FlatHeadsMap.Head(key: key, eventID: event, count: gained, index: index)
        } else {
            pendingHeads[key] = try FlatHeadsMap.Head(key: key, eventID: event, count: 1, index: index)
        }
    }

    private mutating func flushHeads() throws {
        guard !pendingHeads.isEmpty else { return }
        try headsMap.advance(all: Array(pendingHeads.values))
        pendingHeads.removeAll(keepingCapacity: true)
    }

    // MARK: Checkpoints

    mutating func checkCheckpoint(note: String, stored: StoredCheckpoint?) throws {
        let size = position
        let at: UInt64? = size > 0 ? size - 1 : nil
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.open(note, verifiers: [logKey], origin: origin)
        } catch {
            try fail(
                at,
                nil,
                AuditRule.checkpointSignature,
                "the checkpoint stored at size \(size) does not verify under the log key \(logKey.name): \(error)"
            )
            return
        }
        if origin == nil {
            origin = checkpoint.origin
            if let declaredOrigin, declaredOrigin != checkpoint.origin {
                try fail(
                    nil,
                    nil,
                    AuditRule.header,
                    "the source declares origin \(declaredOrigin), but its checkpoints are signed for \(checkpoint.origin)"
                )
            }
        }
        lastSeenCheckpoint = max(lastSeenCheckpoint, checkpoint.size)
        if let stored, stored.size != checkpoint.size || stored.root != checkpoint.rootHash {
            try fail(
                at,
                nil,
                AuditRule.checkpointRoot,
                "the stored size/root columns (\(stored.size), \(Hex.encode(stored.root.prefix(6)))) differ from "
                    + "the signed note (\(checkpoint.size), \(Hex.encode(checkpoint.rootHash.prefix(6))))"
            )
        }
        guard checkpoint.size == size else {
            // A signed size that disagrees with the entries before it: entries were removed (or added).
            try fail(
                min(size, checkpoint.size),
                nil,
                AuditRule.entrySequence,
                "a checkpoint signed for size \(checkpoint.size) follows \(size) entries: entries "
                    + (checkpoint.size > size ? "\(size)..<\(checkpoint.size) are missing" : "were added or moved")
            )
            return
        }
        guard checkpoint.rootHash == frontier.rootHash else {
            if !rootDiverged {
                try fail(
                    lastGoodCheckpoint,
                    nil,
                    AuditRule.checkpointRoot,
                    "the signed root at size \(size) differs from the root recomputed from the entries: an entry in "
                        + "[\(lastGoodCheckpoint), \(size)) is not what the log signed"
                )
            }
            rootDiverged = true
            return
        }
        rootDiverged = false
        if let signedHeads = checkpoint.headsRoot, headsKnown {
            try flushHeads()
            guard signedHeads == headsMap.root else {
                try fail(
                    at,
                    nil,
                    AuditRule.headsRoot,
                    "checkpoint \(size)'s heads root \(Hex.encode(signedHeads.prefix(6))) differs from the heads map "
                        + "recomputed from its \(size) entries (\(Hex.encode(headsMap.root.prefix(6)))): the ledger "
                        + "signed a wrong commitment to the products' heads"
                )
                return
            }
            headsRootsChecked += 1
        }
        lastGoodCheckpoint = size
        checkpointsChecked += 1
    }

    // MARK: Stored derived data

    /// The nodes a chunk completed lie, level by level, in runs of consecutive indices: each run
    /// is compared with one range read (a point query per node was about 15 K instructions per
    /// audited entry, on the judging thread; issue 15).
    private mutating func compareNodes(_ nodes: [(NodeID, SHA256Digest)], reader: any LedgerReader) throws {
        let sorted = nodes.sorted { ($0.0.level, $0.0.index) < ($1.0.level, $1.0.index) }
        var start = 0
        while start < sorted.count {
            let level = sorted[start].0.level
            var end = start + 1
            while end < sorted.count, sorted[end].0.level == level, sorted[end].0.index == sorted[end - 1].0.index + 1 {
                end += 1
            }
            // Each stored hash compared where it lies, in index order with the recomputed ones: a
            // recomputed node before the next stored one is missing.
            var next = start
            try reader.forEachNodeHash(
                level: level,
                indices: sorted[start].0.index..<(sorted[end - 1].0.index + 1)
            ) { index, stored in
                while next < end, sorted[next].0.index < index {
                    try fail(
                        sorted[next].0.firstLeaf,
                        nil,
                        AuditRule.storedNodes,
                        "stored Merkle node \(sorted[next].0) is missing"
                    )
                    next += 1
                }
                guard next < end, sorted[next].0.index == index else { return }
                if !sorted[next].1.withUnsafeBytes({ Bytewise.equal($0, stored) }) {
                    try fail(
                        sorted[next].0.firstLeaf,
                        nil,
                        AuditRule.storedNodes,
                        "stored Merkle node \(sorted[next].0) differs from the recomputed hash"
                    )
                }
                next += 1
            }
            for (node, _) in sorted[next..<end] {
                try fail(node.firstLeaf, nil, AuditRule.storedNodes, "stored Merkle node \(node) is missing")
            }
            start = end
        }
    }

    /// Ends the stream: flushes, checks coverage, then compares stored chains and products.
    mutating func finish(expectedSize: UInt64?) throws {
        try drain()
        if let expectedSize, expectedSize != position {
            try fail(
                min(expectedSize, position),
                nil,
                AuditRule.entrySequence,
                "the ledger declares \(expectedSize) entries; \(position) were found"
            )
        }
        if let reader, let latest = try reader.latestCheckpoint(), latest.size > position {
            if (try? Checkpoint.open(latest.note, verifiers: [logKey], origin: origin)) != nil {
                try fail(
                    position,
                    nil,
                    AuditRule.entrySequence,
                    "a signed checkpoint covers \(latest.size) entries but only \(position) are stored: "
                        + "entries were removed (truncated)"
                )
                lastSeenCheckpoint = max(lastSeenCheckpoint, latest.size)
            } else {
                try fail(
                    position,
                    nil,
                    AuditRule.checkpointSignature,
                    "a checkpoint beyond the entries (size \(latest.size)) does not verify"
                )
            }
        }
        if lastSeenCheckpoint < position {
            try fail(
                lastSeenCheckpoint,
                nil,
                AuditRule.uncoveredEntries,
                "entries \(lastSeenCheckpoint)..<\(position) are covered by no signed checkpoint"
            )
        }
        if let reader { try compareChains(reader: reader) }
    }
}

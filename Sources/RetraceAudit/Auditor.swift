import CanonicalJSON
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceLedger
import RetraceRules
import RetraceStorage
import RetraceTiles
import VerifiableMap

/// Verifies a whole ledger trusting nothing but the governance trust roots and the log key
/// (spec/audit.md).
///
/// Every entry is parsed strictly, every signature checked under the roster in force at its
/// position, every product chain re-linked and every lifecycle rule re-judged, the Merkle tree is
/// recomputed from the entry bytes and compared with every stored checkpoint, and, for an SQLite
/// ledger, every stored derived value (leaf hashes, Merkle nodes, chain links, product rows) is
/// compared with what the entries imply. Streams entries in chunks and keeps at most
/// ``residentChains`` product heads in memory (the rest in a temporary file): memory is
/// O(rosters + one chunk + residentChains), flat in the size of the ledger.
public struct Auditor: Sendable {
    /// At most this many failures are listed when keeping going.
    public static let failureCap = 1_000
    /// A head takes about 3 KiB in memory; with 4,096 resident a two-thread audit peaked at 56, 79 and
    /// 82 MiB at 10^4, 10^5 and 10^6 entries, bounded beyond (BENCHMARKS.md), and was no slower
    /// than with 32,768 (the log touches a product's events in bursts).
    public static let defaultResidentChains = 4_096

    public let trustRoots: [NoteVerifier]
    public let logKey: NoteVerifier
    /// The origin the log key is trusted for; `nil` takes the origin of the first valid checkpoint.
    public let origin: String?
    /// Workers for parsing and signature checks: 1 or 2.
    public let threads: Int
    /// List every failure (up to ``failureCap``) instead of stopping at the first.
    public let keepGoing: Bool
    /// Called after each chunk with (entries done, entries in the ledger).
    public let progress: (@Sendable (UInt64, UInt64) -> Void)?
    /// Product chains whose heads stay in memory; more are written to a temporary file.
    public let residentChains: Int
    /// Set by tests to watch this auditor's workers.
    var probe: WorkerProbe?

    public init(
        trustRoots: [NoteVerifier],
        logKey: NoteVerifier,
        origin: String?,
        threads: Int = 2,
        keepGoing: Bool = false,
        progress: (@Sendable (UInt64, UInt64) -> Void)? = nil,
        residentChains: Int = Auditor.defaultResidentChains
    ) {
        self.trustRoots = trustRoots
        self.logKey = logKey
        self.origin = origin
        self.threads = min(max(threads, 1), 2)
        self.keepGoing = keepGoing
        self.progress = progress
        self.residentChains = residentChains
    }

    private func makeEngine() -> AuditEngine {
        var engine = AuditEngine(
            trustRoots: trustRoots,
            logKey: logKey,
            origin: origin,
            threads: threads,
            keepGoing: keepGoing,
            failureCap: Self.failureCap,
            progress: progress
        )
        engine.heads = ChainHeads(capacity: residentChains)
        engine.pendingHeadsLimit = max(residentChains, 1)
        engine.chainsPerRead = max(residentChains, 1)
        engine.probe = probe
        return engine
    }

    // MARK: SQLite (any LedgerStore)

    /// Audits a stored ledger from its first entry, including its stored derived data.
    ///
    /// `observe` is told of every event the audit accepts, in log order, as it is judged; an event
    /// seen there is vouched for only if the report passes (a later checkpoint may still fail).
    public func audit(store: any LedgerStore, observe: ((AuditedEvent) throws -> Void)? = nil) throws -> AuditReport {
        var report: AuditReport?
        try run { report = try store.read { reader in try audit(reader: reader, observe: observe) } }
        guard let report else { throw AuditError(.storage, "the audit of the store did not finish") }
        return report
    }

    /// ``audit(store:observe:)`` on a snapshot the caller holds: a writer's own transaction, so
    /// that what it wrote is audited before it commits (a mirror's sync).
    public func audit(reader: any LedgerReader, observe: ((AuditedEvent) throws -> Void)? = nil) throws -> AuditReport {
        var engine = makeEngine()
        engine.observer = observe
        defer { engine.settle() }
        try run {
            engine.reader = reader
            defer { engine.reader = nil }
            try checkMetadata(reader, &engine)
            let size = try reader.treeSize()
            engine.total = size
            try stream(reader, from: 0, to: size, into: &engine)
            try engine.finish(expectedSize: nil)
        }
        return report(engine)
    }

    /// Audits only what was appended after a checkpoint the auditor verified earlier.
    ///
    /// Verifies the trusted note, a consistency proof from it to the newest stored checkpoint, the
    /// stored frontier against the trusted root; rebuilds the roster at the trusted size and each
    /// touched product's state from its earlier entries, each proven included in the trusted root;
    /// then judges the new entries exactly as a full audit does. See spec/audit.md §4 for what this
    /// does and does not establish.
    public func audit(
        store: any LedgerStore,
        since trustedCheckpoint: String,
        observe: ((AuditedEvent) throws -> Void)? = nil
    ) throws -> AuditReport {
        var report: AuditReport?
        try run {
            report = try store.read { reader in try audit(reader: reader, since: trustedCheckpoint, observe: observe) }
        }
        guard let report else { throw AuditError(.storage, "the audit of the store did not finish") }
        return report
    }

    /// ``audit(store:since:observe:)`` on a snapshot the caller holds (see ``audit(reader:observe:)``).
    public func audit(
        reader: any LedgerReader,
        since trustedCheckpoint: String,
        observe: ((AuditedEvent) throws -> Void)? = nil
    ) throws -> AuditReport {
        let trusted: Checkpoint
        do {
            trusted = try Checkpoint.open(trustedCheckpoint, verifiers: [logKey], origin: origin)
        } catch {
            throw AuditError(
                .untrustedCheckpoint,
                "the trusted checkpoint does not verify under \(logKey.name): \(error)"
            )
        }
        var engine = makeEngine()
        engine.observer = observe
        defer { engine.settle() }
        engine.origin = trusted.origin
        let oldSize = trusted.size
        let oldRoot = trusted.rootHash
        try run {
            do {
                engine.reader = reader
                defer { engine.reader = nil }
                try checkMetadata(reader, &engine)
                let size = try reader.treeSize()
                engine.total = size > oldSize ? size - oldSize : 0
                guard try verifyNewest(reader, oldSize: oldSize, oldRoot: oldRoot, engine: &engine),
                    try loadPrefix(
                        reader,
                        oldSize: oldSize,
                        oldRoot: oldRoot,
                        trustedNote: trustedCheckpoint,
                        engine: &engine
                    )
                else { return }
                engine.historyLoader = { engine, key in
                    guard let reader = engine.reader else { return nil }
                    var replay = ChainReplay(
                        key: key,
                        reader: reader,
                        rosterHistory: engine.rosterHistory,
                        inclusion: (oldSize, oldRoot)
                    )
                    do {
                        for link in try reader.chain(key) where link.index < oldSize {
                            if let problem = try replay.step(link) {
                                engine.broken.insert(key)
                                try engine.fail(problem.index, key, problem.rule, problem.reason)
                                return nil
                            }
                        }
                    } catch let error as StorageError where error.code == .corrupt {
                        // An earlier entry of the chain that cannot be read, or a link naming
                        // none: a finding about this chain, and the audit goes on.
                        engine.broken.insert(key)
                        if let damaged = error.unreadableEntry {
                            try engine.fail(
                                damaged.index,
                                key,
                                AuditRule.entryFormat,
                                "the stored entry cannot be read: \(error.reason)"
                            )
                        } else {
                            try engine.fail(oldSize, key, AuditRule.storedChainLinks, error.reason)
                        }
                        return nil
                    }
                    return replay.head
                }
                try stream(reader, from: oldSize, to: size, into: &engine)
                try engine.finish(expectedSize: nil)
            }
        }
        return report(engine)
    }

    /// The newest stored checkpoint must verify and extend the trusted one (consistency proof).
    private func verifyNewest(
        _ reader: any LedgerReader,
        oldSize: UInt64,
        oldRoot: [UInt8],
        engine: inout AuditEngine
    )
        throws -> Bool
    {
        guard let latest = try reader.latestCheckpoint() else {
            try engine.fail(nil, nil, AuditRule.consistency, "the ledger holds no checkpoint")
            return false
        }
        let newest: Checkpoint
        do {
            newest = try Checkpoint.open(latest.note, verifiers: [logKey], origin: engine.origin)
        } catch {
            try engine.fail(
                latest.size > 0 ? latest.size - 1 : nil,
                nil,
                AuditRule.checkpointSignature,
                "the newest stored checkpoint does not verify: \(error)"
            )
            return false
        }
        guard newest.size >= oldSize else {
            try engine.fail(
                newest.size,
                nil,
                AuditRule.consistency,
                "the newest checkpoint (size \(newest.size)) is older than the trusted one (size \(oldSize)): "
                    + "the ledger was rolled back"
            )
            return false
        }
        guard oldSize > 0 else { return true }
        do {
            let proof = try MerkleTree.consistencyProof(from: oldSize, to: newest.size, reader: reader)
            try MerkleProof.verifyConsistency(
                size1: oldSize,
                size2: newest.size,
                proof: proof,
                root1: oldRoot,
                root2: newest.rootHash
            )
        } catch {
            try engine.fail(
                oldSize,
                nil,
                AuditRule.consistency,
                "no valid consistency proof from the trusted size \(oldSize) to \(newest.size): \(error)"
            )
            return false
        }
        return true
    }

    /// The frontier, rosters and last receive time at the trusted size, each proven against its root.
    private func loadPrefix(
        _ reader: any LedgerReader,
        oldSize: UInt64,
        oldRoot: [UInt8],
        trustedNote: String,
        engine: inout AuditEngine
    ) throws -> Bool {
        guard let range = try? CompactRange.load(size: oldSize, reader: reader), range.rootHash == oldRoot else {
            try engine.fail(
                oldSize,
                nil,
                AuditRule.storedNodes,
                "the stored frontier at the trusted size \(oldSize) does not fold to the trusted root"
            )
            return false
        }
        engine.frontier = TreeFrontier(range)
        func included(_ stored: StoredEntry) -> Bool {
            guard
                let proof = try? MerkleTree.inclusionProof(leafIndex: stored.index, treeSize: oldSize, reader: reader)
            else { return false }
            return
                (try? MerkleProof.verifyInclusion(
                    leafHash: MerkleHash.leafHash(stored.bytes),
                    leafIndex: stored.index,
                    treeSize: oldSize,
                    proof: proof,
                    rootHash: oldRoot
                )) != nil
        }
        // The heads map at the trusted size, from the stored chain heads, believed only if it
        // reproduces the trusted checkpoint's heads root; without one, heads roots are not compared.
        engine.headsKnown = false
        if let note = try? SignedNote(parsing: trustedNote), let trusted = try? Checkpoint(parsing: note.text),
            let signedHeads = trusted.headsRoot
        {
            let seeded = try HeadsIndex.fromChainHeads(size: oldSize, reader: reader)
            guard seeded.map.root == signedHeads else {
                // A head's event id is read from its entry (schema 4), so an entry rewritten
                // before the trusted size shows here first: name it when its bytes are not the
                // ones the trusted root includes, or its id column not theirs.
                for link in try reader.chainHeads(below: oldSize).sorted(by: { $0.index < $1.index }) {
                    let stored = try reader.entry(at: link.index)
                    if let stored, included(stored),
                        (try? LogEntry(parsing: stored.bytes, members: BatchMember.parsing(stored.members)))?.statement
                            .id.bytes
                            == link.eventID
                    {
                        continue
                    }
                    try engine.fail(
                        link.index,
                        link.chain,
                        AuditRule.consistency,
                        "entry \(link.index), the stored head of its chain at the trusted size \(oldSize), is not the "
                            + "entry the trusted checkpoint includes there"
                    )
                    return false
                }
                try engine.fail(
                    oldSize,
                    nil,
                    AuditRule.headsRoot,
                    "the stored chain heads at the trusted size \(oldSize) do not reproduce its heads root"
                )
                return false
            }
            engine.headsMap = try FlatHeadsMap(seeded.map)
            engine.headsKnown = true
        }
        engine.lastSeenCheckpoint = oldSize
        engine.lastGoodCheckpoint = oldSize
        // An entry that cannot be read back is reported as such; the checks below then find it
        // missing.
        func readable(_ index: UInt64) throws -> StoredEntry? {
            do {
                return try reader.entry(at: index)
            } catch let error as StorageError where error.unreadableEntry != nil {
                try engine.fail(index, nil, AuditRule.entryFormat, "the stored entry cannot be read: \(error.reason)")
                return nil
            }
        }
        for link in try reader.chain(Ledger.rosterChain) where link.index < oldSize {
            guard let stored = try readable(link.index), included(stored),
                let entry = try? LogEntry(parsing: stored.bytes), entry.statement.id.bytes == link.eventID
            else {
                try engine.fail(
                    link.index,
                    Ledger.rosterChain,
                    AuditRule.consistency,
                    "roster entry \(link.index) is missing or not included in the trusted checkpoint"
                )
                return false
            }
            do {
                engine.trust = try engine.trust.applying(roster: entry.signed)
            } catch {
                try engine.fail(link.index, Ledger.rosterChain, AuditRule.roster, "\(error.rule): \(error.reason)")
                return false
            }
            engine.rosterHistory.append((link.index, engine.trust))
            let sequence = (engine.rosterHead?.sequence ?? -1) + 1
            engine.rosterHead = ChainHead(
                eventID: link.eventID,
                sequence: sequence,
                state: nil,
                linkDigest: AuditEngine.linkDigest(engine.rosterHead?.linkDigest ?? [], sequence, link.index),
                lastIndex: link.index,
                commissionIndex: engine.rosterHead?.commissionIndex ?? link.index
            )
        }
        engine.trustGeneration += 1
        if oldSize > 0 {
            guard let stored = try readable(oldSize - 1) else {
                // Only its received time was wanted: the next entry's order goes unchecked.
                return true
            }
            guard included(stored),
                let entry = try? LogEntry(parsing: stored.bytes, members: BatchMember.parsing(stored.members))
            else {
                try engine.fail(
                    oldSize - 1,
                    nil,
                    AuditRule.consistency,
                    "the last trusted entry is missing or not included in the trusted checkpoint"
                )
                return false
            }
            engine.lastReceived = entry.received.secondsSinceEpoch
        }
        return true
    }

    /// Entries whose checkpoints are read ahead at once: a few dozen notes at the usual interval.
    static let checkpointWindow: UInt64 = 65_536

    private func stream(_ reader: any LedgerReader, from: UInt64, to: UInt64, into engine: inout AuditEngine) throws {
        // The checkpoints of sizes (readThrough - window, readThrough], by size: read a window at
        // a time, as one lookup per entry was a round trip per entry on PostgreSQL.
        var ahead: [StoredCheckpoint] = []
        var nextAhead = 0
        var readThrough = from
        func feed(_ raw: RawEntry, index: UInt64) throws {
            try engine.feed(.entry(raw))
            let size = index + 1
            if size > readThrough {
                readThrough = size + Self.checkpointWindow - 1
                ahead = try reader.checkpoints(sizes: size...readThrough)
                nextAhead = 0
            }
            while nextAhead < ahead.count, ahead[nextAhead].size < size { nextAhead += 1 }
            if nextAhead < ahead.count, ahead[nextAhead].size == size {
                try engine.feed(.checkpoint(note: ahead[nextAhead].note, stored: ahead[nextAhead]))
                nextAhead += 1
            }
        }
        // An entry that cannot be read back is a finding at its index, and the stream goes on
        // after it (a chunked reader may not have handed over the entries before it yet).
        var next = from
        while next < to {
            do {
                try reader.forEachEntry(from: next, to: to) { stored in
                    next = stored.index + 1
                    try feed(.stored(stored), index: stored.index)
                }
                return
            } catch let error as StorageError {
                guard let damaged = error.unreadableEntry, damaged.index >= next, damaged.index < to else {
                    throw error
                }
                try reader.forEachEntry(from: next, to: damaged.index) { stored in
                    try feed(.stored(stored), index: stored.index)
                }
                try feed(
                    .unreadable(index: damaged.index, storedLeafHash: damaged.storedLeafHash, reason: error.reason),
                    index: damaged.index
                )
                next = damaged.index + 1
            }
        }
    }

    /// The ledger's own metadata is not trusted, only compared: a mismatch is worth reporting.
    private func checkMetadata(_ reader: any LedgerReader, _ engine: inout AuditEngine) throws {
        guard try reader.metadata("format") == "retrace/v1" else {
            throw AuditError(.notALedger, "the store holds no Retrace v1 ledger")
        }
        if let stored = try reader.metadata("log-key"), stored != logKey.description {
            try engine.fail(nil, nil, AuditRule.header, "the ledger names log key \(stored), not \(logKey)")
        }
        if let stored = try reader.metadata("origin") {
            if let origin, stored != origin {
                try engine.fail(nil, nil, AuditRule.header, "the ledger's origin is \(stored), not \(origin)")
            }
            engine.declaredOrigin = stored
        }
        if let stored = try reader.metadata("governance"),
            Set(stored.split(separator: "\n").map(String.init)) != Set(trustRoots.map(\.description))
        {
            try engine.fail(nil, nil, AuditRule.header, "the ledger names other governance keys than the trust roots")
        }
    }

    // MARK: Export file

    /// Audits an export file (spec/format.md §7), reading it line by line.
    public func audit(exportAt path: String, observe: ((AuditedEvent) throws -> Void)? = nil) throws -> AuditReport {
        var lines = try LineReader(path: path)
        defer { lines.close() }
        guard let first = try lines.next() else { throw AuditError(.notALedger, "\(path) is empty") }
        return try auditExport(headerLine: first.line, lines: &lines, observe: observe)
    }

    /// Audits an export whose header line is kept apart from its body: a mirror appends entry and
    /// checkpoint lines to the body as it grows and rewrites only the small header (its tree size).
    public func audit(exportHeader headerLine: [UInt8], bodyAt path: String) throws -> AuditReport {
        var lines = try LineReader(path: path)
        defer { lines.close() }
        return try auditExport(headerLine: headerLine, lines: &lines, observe: nil)
    }

    private func auditExport(
        headerLine: [UInt8],
        lines: inout LineReader,
        observe: ((AuditedEvent) throws -> Void)?
    ) throws -> AuditReport {
        let header = try ExportLine.header(headerLine)
        var engine = makeEngine()
        engine.observer = observe
        defer { engine.settle() }
        engine.total = header.treeSize
        try run {
            if header.logKey != logKey.description {
                try engine.fail(nil, nil, AuditRule.header, "the export names log key \(header.logKey), not \(logKey)")
            }
            if let origin, header.origin != origin {
                try engine.fail(nil, nil, AuditRule.header, "the export's origin is \(header.origin), not \(origin)")
            }
            engine.declaredOrigin = header.origin
            if Set(header.governance) != Set(trustRoots.map(\.description)) {
                try engine.fail(
                    nil,
                    nil,
                    AuditRule.header,
                    "the export names other governance keys than the trust roots"
                )
            }
            while let (line, terminated) = try lines.next() {
                guard terminated else {
                    try engine.drain()
                    try engine.fail(
                        engine.position,
                        nil,
                        AuditRule.entrySequence,
                        "the file ends in the middle of a line (truncated)"
                    )
                    break
                }
                if ExportLine.isCheckpoint(line) {
                    let note = (try? ExportLine.checkpoint(line)) ?? String(decoding: line, as: UTF8.self)
                    try engine.feed(.checkpoint(note: note, stored: nil))
                } else {
                    try engine.feed(.entry(.exportLine(line)))
                }
            }
            try engine.finish(expectedSize: header.treeSize)
        }
        return report(engine)
    }

    // MARK: Tiles

    /// Audits a log read from C2SP tlog-tiles alone (a folder or a static web host): every entry of
    /// the published checkpoint, with batch members from the host's `members/` files, checked as in
    /// an export audit, and the recomputed root compared with that checkpoint. The host is trusted
    /// for nothing: a missing, altered or reordered entry or member fails the audit.
    public func audit(tiles: TiledLog) throws -> AuditReport {
        let note = try tiles.checkpointNote()
        let size: UInt64
        do {
            size = try Checkpoint(parsing: SignedNote(parsing: note).text).size
        } catch {
            throw AuditError(.notALedger, "the checkpoint at \(tiles.location) does not parse: \(error)")
        }
        var engine = makeEngine()
        defer { engine.settle() }
        engine.total = size
        try run {
            do {
                try tiles.forEachEntry(treeSize: size, from: 0, to: size) { index, bytes in
                    // A batch statement whose members the host does not publish goes in without
                    // them, so the strict parse fails it at its index and the tree still advances.
                    let members = Self.isBatchStatement(bytes) ? try tiles.members(at: index) ?? [] : []
                    try engine.feed(.entry(.tiled(index: index, bytes: bytes, members: members)))
                }
            } catch let error as TileError {
                try engine.drain()
                try engine.fail(engine.position, nil, AuditRule.entrySequence, "reading tiles: \(error.reason)")
            }
            try engine.feed(.checkpoint(note: note, stored: nil))
            try engine.finish(expectedSize: size)
        }
        return report(engine)
    }

    /// Whether an entry's statement has a `batch` member, read without trusting the bytes: a wrong
    /// answer only makes the strict parse that follows fail.
    private static func isBatchStatement(_ bytes: [UInt8]) -> Bool {
        guard case .object(let entry)? = try? CanonicalJSON.decode(bytes),
            case .object(let statement)? = entry["statement"]
        else { return false }
        return statement["batch"] != nil
    }

    // MARK: Running

    private func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch is StopAudit {
            return
        } catch let error as AuditError {
            throw error
        } catch let error as StorageError {
            throw AuditError(
                error.code == .notALedger || error.code == .notFound ? .notALedger : .storage,
                error.reason
            )
        } catch {
            throw AuditError(.storage, "reading the ledger failed: \(error)")
        }
    }

    private func report(_ engine: AuditEngine) -> AuditReport {
        AuditReport(
            entriesChecked: engine.entriesChecked,
            checkpointsChecked: engine.checkpointsChecked,
            treeSize: engine.position,
            rootHash: engine.frontier.rootHash,
            failures: engine.failures,
            failuresTruncated: engine.failuresTruncated,
            headsRootsChecked: engine.headsRootsChecked
        )
    }
}

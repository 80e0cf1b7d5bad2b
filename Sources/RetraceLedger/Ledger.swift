import CanonicalJSON
import Dispatch
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import RetraceStorage
import Synchronization
import VerifiableMap

/// A Retrace ledger: the append path that turns signed statements into log entries.
///
/// Every append re-reads the product heads, the roster and the tree size inside one exclusive
/// storage transaction, so two writers (threads or processes) can never fork a product's chain
/// or interleave half-batches. Signatures are checked on the other cores while the state checks
/// and inserts run under the lock (a large batch's are streamed beside its commit; group commit
/// checks the next batches while this one commits), so the lock is held about as long as the
/// batch's signatures take on the cores not committing.
public final class Ledger: Sendable {
    public static let rosterChain = "roster"
    /// How far ahead of the log's clock a statement's own time may be.
    public static let futureSkew: Int64 = 300

    public let store: any LedgerStore
    public let origin: String
    public let logKey: NoteVerifier
    /// The governance keys the first roster must be signed by: the trust root.
    public let trustRoots: [NoteVerifier]
    private let logSigner: NoteSigner?
    private let trustCache: Mutex<CachedTrust?>
    private let clock: @Sendable () -> Timestamp
    /// The heads map every checkpoint commits to, kept at the tree size (and a few versions back).
    public let heads: HeadsIndex
    /// Decoded states of recently extended chains (a commit's cost, not a source of truth).
    let headStates = HeadStates()

    struct CachedTrust {
        let rosterHead: [UInt8]?
        let state: TrustState
    }

    init(
        store: any LedgerStore,
        origin: String,
        logKey: NoteVerifier,
        trustRoots: [NoteVerifier],
        logSigner: NoteSigner?,
        clock: @escaping @Sendable () -> Timestamp
    ) {
        self.store = store
        self.origin = origin
        self.logKey = logKey
        self.trustRoots = trustRoots
        self.logSigner = logSigner
        self.trustCache = Mutex(nil)
        self.clock = clock
        self.heads = HeadsIndex()
    }

    public static let systemClock: @Sendable () -> Timestamp = {
        Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
    }

    /// Starts a new ledger: records its origin, log key and trust roots, and appends the first
    /// roster, which must be signed by one of `governance`.
    public static func create(
        store: any LedgerStore,
        origin: String,
        logSigner: NoteSigner,
        governance: [NoteVerifier],
        roster: SignedStatement,
        clock: @escaping @Sendable () -> Timestamp = systemClock
    ) throws(LedgerError) -> Ledger {
        guard !origin.isEmpty, !origin.contains("\n"), !origin.hasPrefix("retrace/") else {
            throw LedgerError(.malformed, "origin \"\(origin)\" must be one line and must not start with retrace/")
        }
        guard !governance.isEmpty else { throw LedgerError(.malformed, "a ledger needs at least one governance key") }
        let ledger = Ledger(
            store: store,
            origin: origin,
            logKey: logSigner.verifier,
            trustRoots: governance,
            logSigner: logSigner,
            clock: clock
        )
        // Metadata and the first roster commit together: a refused roster or a crash leaves no
        // half-created ledger (metadata on an empty log, which create would then refuse forever).
        let empty = CachedTrust(rosterHead: nil, state: TrustState(trustRoots: governance))
        let committed: Committed
        do {
            committed = try store.write { writer in
                guard try writer.metadata("format") == nil else {
                    throw StorageError(.alreadyExists, "the store already holds a ledger")
                }
                try writer.setMetadata("format", "retrace/v1")
                try writer.setMetadata("origin", origin)
                try writer.setMetadata("log-key", logSigner.verifier.description)
                try writer.setMetadata("governance", governance.map(\.description).joined(separator: "\n"))
                return try ledger.commit(
                    [roster],
                    preauthenticated: .none(count: 1),
                    snapshot: empty,
                    heads: HeadsIndex.Version(size: 0, map: HeadsMap()),
                    now: clock(),
                    writer: writer
                )
            }
        } catch { throw LedgerError.wrap(error) }
        ledger.trustCache.withLock { $0 = committed.trust }
        ledger.heads.remember(committed.heads)
        _ = try? ledger.publishCheckpoint(committed.result, signer: logSigner)
        return ledger
    }

    /// Opens an existing ledger. Without a log signer it can be read and verified but not appended to.
    public static func open(
        store: any LedgerStore,
        logSigner: NoteSigner? = nil,
        clock: @escaping @Sendable () -> Timestamp = systemClock
    ) throws(LedgerError) -> Ledger {
        do {
            let (format, origin, logKeyText, governanceText) = try store.read { reader in
                (
                    try reader.metadata("format"), try reader.metadata("origin"), try reader.metadata("log-key"),
                    try reader.metadata("governance")
                )
            }
            guard format == "retrace/v1", let origin, let logKeyText, let governanceText else {
                throw StorageError(.notALedger, "the store has no Retrace v1 ledger metadata")
            }
            let logKey = try NoteVerifier(parsing: logKeyText)
            let roots = try governanceText.split(separator: "\n").map { (line) throws(CryptoError) in
                try NoteVerifier(parsing: String(line))
            }
            if let logSigner, logSigner.verifier != logKey {
                throw LedgerError(
                    .wrongLogKey,
                    "the log key \(logSigner.verifier.name) is not this ledger's log key (\(logKey.name))"
                )
            }
            let ledger = Ledger(
                store: store,
                origin: origin,
                logKey: logKey,
                trustRoots: roots,
                logSigner: logSigner,
                clock: clock
            )
            // Best effort: a damaged or locked file reports its error on the first real operation.
            if let logSigner { try? ledger.coverUncheckpointedTail(signer: logSigner) }
            return ledger
        } catch { throw LedgerError.wrap(error) }
    }

    // MARK: Appending

    /// The outcome of one accepted append: where each statement landed and the signed head that
    /// now covers them.
    public struct AppendResult: Sendable {
        public struct Receipt: Sendable, Hashable {
            public let index: UInt64
            public let eventID: Digest
            public let leafHash: [UInt8]
        }

        public let receipts: [Receipt]
        public let treeSize: UInt64
        public let rootHash: [UInt8]
        /// The heads map's root over the same entries, committed to by the checkpoint.
        public let headsRoot: [UInt8]
        /// The signed checkpoint note covering the batch, published only after it was durable.
        public let checkpoint: String?

        func with(checkpoint: String?) -> AppendResult {
            AppendResult(
                receipts: receipts,
                treeSize: treeSize,
                rootHash: rootHash,
                headsRoot: headsRoot,
                checkpoint: checkpoint
            )
        }
    }

    /// Appends statements as one all-or-nothing batch.
    ///
    /// When this returns, the entries are durable (acknowledged). A checkpoint covering them is then
    /// signed and stored; if that second step fails (a full disk, a lock held past the timeout),
    /// ``AppendResult/checkpoint`` is `nil` and the next append's checkpoint covers these entries
    /// too. If it throws, nothing was written.
    @discardableResult
    public func append(_ statements: [SignedStatement]) throws(LedgerError) -> AppendResult {
        guard let logSigner else {
            throw LedgerError(.wrongLogKey, "this ledger was opened without its log key; it cannot append")
        }
        guard !statements.isEmpty else { throw LedgerError(.emptyBatch, "nothing to append") }
        let snapshot = try currentTrust()
        let preauthenticated = authentications(statements, trust: snapshot.state)
        defer { preauthenticated.finish() }
        let now = clock()
        let committed: Committed
        do {
            committed = try store.write { writer in
                try self.commit(
                    statements,
                    preauthenticated: preauthenticated,
                    snapshot: snapshot,
                    heads: nil,
                    now: now,
                    writer: writer
                )
            }
        } catch { throw LedgerError.wrap(error) }
        trustCache.withLock { $0 = committed.trust }
        heads.remember(committed.heads)
        let result = committed.result
        let note = try? publishCheckpoint(result, signer: logSigner)
        return result.with(checkpoint: note)
    }

    /// Appends statements with the received time another copy of this ledger gave them, checking
    /// every rule as ``append(_:)`` does, without signing a checkpoint: the migration path, which
    /// then stores the source's own checkpoints (``storeCheckpoint(note:)``), so that the copy is
    /// the same log byte for byte. `received` must not be earlier than the last entry's.
    @discardableResult
    public func append(
        _ statements: [SignedStatement],
        receivedAt received: Timestamp
    ) throws(LedgerError)
        -> AppendResult
    {
        guard !statements.isEmpty else { throw LedgerError(.emptyBatch, "nothing to append") }
        let snapshot = try currentTrust()
        let preauthenticated = authentications(statements, trust: snapshot.state)
        defer { preauthenticated.finish() }
        let committed: Committed
        do {
            committed = try store.write { writer in
                if let last = try writer.entry(at: max(try writer.treeSize(), 1) - 1),
                    last.received > received.secondsSinceEpoch
                {
                    throw LedgerError(
                        .malformed,
                        "received time \(received) is earlier than the last entry's; entries must be in log order"
                    )
                }
                return try self.commit(
                    statements,
                    preauthenticated: preauthenticated,
                    snapshot: snapshot,
                    heads: nil,
                    now: received,
                    writer: writer
                )
            }
        } catch { throw LedgerError.wrap(error) }
        trustCache.withLock { $0 = committed.trust }
        heads.remember(committed.heads)
        return committed.result
    }

    /// Stores a checkpoint signed elsewhere for this log, after checking that it opens under this
    /// ledger's log key and origin and that its root is this ledger's root at its size.
    public func storeCheckpoint(note: String) throws(LedgerError) {
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.open(note, verifiers: [logKey], origin: origin)
        } catch {
            throw LedgerError(
                .malformed,
                "the checkpoint does not open under \(logKey.name) for \(origin): \(error.reason)"
            )
        }
        do {
            try store.write { writer in
                guard checkpoint.size <= (try writer.treeSize()) else {
                    throw LedgerError(.malformed, "the checkpoint of size \(checkpoint.size) is beyond this ledger")
                }
                let root = try MerkleTree.rootHash(size: checkpoint.size, reader: writer)
                guard root == checkpoint.rootHash else {
                    throw LedgerError(
                        .malformed,
                        "the checkpoint of size \(checkpoint.size) has another root than this ledger"
                    )
                }
                if let headsRoot = checkpoint.headsRoot,
                    try heads.map(at: checkpoint.size, reader: writer).root != headsRoot
                {
                    throw LedgerError(
                        .malformed,
                        "the checkpoint of size \(checkpoint.size) commits to another heads map than this ledger's"
                    )
                }
                try writer.insert(checkpoint: StoredCheckpoint(size: checkpoint.size, root: root, note: note))
            }
        } catch { throw LedgerError.wrap(error) }
    }

    /// Judges `statements` exactly as ``append(_:)`` would, against the ledger as it is now, and
    /// writes nothing: the same code runs on a ``DryRunWriter`` over a read snapshot, so a store
    /// opened read-only can refuse a batch before anyone opens the file for writing.
    ///
    /// A batch this accepts may still be refused by the append that follows (another writer may
    /// have moved a head or the roster in between); the append re-checks everything.
    public func check(_ statements: [SignedStatement]) throws(LedgerError) {
        guard !statements.isEmpty else { throw LedgerError(.emptyBatch, "nothing to append") }
        let snapshot = try currentTrust()
        let now = clock()
        do {
            _ = try store.read { reader in
                try self.commit(
                    statements,
                    preauthenticated: .none(count: statements.count),
                    snapshot: snapshot,
                    heads: nil,
                    now: now,
                    writer: DryRunWriter(base: reader)
                )
            }
        } catch { throw LedgerError.wrap(error) }
    }

    /// Statements whose signatures were already checked against the roster in force when they
    /// were prepared: the expensive half of an append, done outside the write lock.
    ///
    /// A group-committing writer prepares each client's batch as it arrives, on whatever core is
    /// free, so its single writer thread only runs the cheap state checks and the inserts: signature
    /// checking overlaps the commits instead of preceding each one. If the roster moves before the
    /// batch is committed, the preparation is ignored and the batch is authenticated afresh.
    public struct PreparedBatch: Sendable {
        public let statements: [SignedStatement]
        let parties: [Party?]
        let rosterHead: [UInt8]?
    }

    /// Checks the statements' signatures (on up to `threads` cores for a large batch) against the
    /// current roster.
    ///
    /// The roster is the one this ledger last committed or read, without asking the store again
    /// (a read transaction per request cost a sixth of a group-committing server's CPU): if
    /// another writer has moved it since, the commit sees the roster head differ and authenticates
    /// the batch afresh, so a stale roster costs a second check, never a wrong party.
    ///
    /// - Parameter threads: how many threads check at once, the calling thread among them. A caller
    ///   preparing beside a running commit passes the cores the commit leaves
    ///   (`Parallelism.cores - 1`): the commit thread is the one every batch waits for, and with
    ///   all cores checking signatures it shares its core with them (issue 15: on two cores,
    ///   appends prepared that way ran at 13 % of cores × verify, against 16 % for the same batches
    ///   checked by one thread streaming beside the commit).
    public func prepare(_ statements: [SignedStatement], threads: Int = Parallelism.cores) -> PreparedBatch {
        guard let snapshot = trustCache.withLock({ $0 }) ?? (try? currentTrust()) else {
            // The store cannot be read now; the commit will say why, and authenticates itself.
            return PreparedBatch(statements: statements, parties: statements.map { _ in nil }, rosterHead: [])
        }
        return PreparedBatch(
            statements: statements,
            parties: authenticateInParallel(statements, trust: snapshot.state, threads: threads),
            rosterHead: snapshot.rosterHead
        )
    }

    /// Appends several independent batches in one storage transaction: group commit.
    ///
    /// Each group is all-or-nothing on its own (a savepoint per group, or the transaction itself
    /// when it holds one group), so one client's refused batch does not spoil the others, while
    /// all accepted groups share one fsync and one checkpoint. Groups are applied in order: a
    /// later group sees an earlier one's heads. The results are in the order of `groups`; accepted
    /// groups all carry the same tree size, root and checkpoint, the head after the whole
    /// transaction. If the transaction itself fails (a full disk, a lock held past the timeout),
    /// every group fails with that error and nothing was written.
    public func append(groups: [[SignedStatement]]) -> [Result<AppendResult, LedgerError>] {
        append(prepared: groups.map { prepare($0) })
    }

    /// ``append(groups:)`` for batches prepared beforehand (``prepare(_:)``).
    public func append(prepared groups: [PreparedBatch]) -> [Result<AppendResult, LedgerError>] {
        guard let logSigner else {
            let error = LedgerError(.wrongLogKey, "this ledger was opened without its log key; it cannot append")
            return groups.map { _ in .failure(error) }
        }
        let snapshot: CachedTrust
        do { snapshot = try currentTrust() } catch { return groups.map { _ in .failure(error) } }
        let now = clock()
        let outcomes: [Result<[AppendResult.Receipt], LedgerError>]
        let committed: Committed
        do {
            (outcomes, committed) = try store.write { writer in
                var staged = try beginCommit(snapshot: snapshot, now: now, writer: writer)
                var outcomes: [Result<[AppendResult.Receipt], LedgerError>] = []
                for group in groups {
                    guard !group.statements.isEmpty else {
                        outcomes.append(.failure(LedgerError(.emptyBatch, "nothing to append")))
                        continue
                    }
                    let stageGroup = {
                        try self.stage(
                            group.statements,
                            preauthenticated: .known(group.parties),
                            authenticatedUnder: group.rosterHead,
                            after: staged,
                            writer: writer
                        )
                    }
                    // A refused group's rows go with its savepoint, and its part is never merged.
                    // A transaction of one group needs none: refused, the group takes the whole
                    // transaction with it (its error leaves this closure, and the store rolls
                    // back). The savepoint's journal holds every page the group changes; for a
                    // 1,000-statement batch that was a temporary file of about 13 MB and a sixth of
                    // the commit (issue 15: `retrace-bench phase --phase append-pipelined`, 10,000
                    // appends at 10^6 in 0.98-1.00 s without it, 1.13-1.22 s with it).
                    do {
                        let part = try groups.count == 1 ? stageGroup() : writer.withSavepoint(stageGroup)
                        staged.merge(part)
                        outcomes.append(.success(part.receipts))
                    } catch let error as LedgerError where error.code != .storage && groups.count > 1 {
                        outcomes.append(.failure(error))
                    }
                }
                return (outcomes, try finishCommit(staged, receipts: [], heads: nil, writer: writer))
            }
        } catch {
            let failure = LedgerError.wrap(error)
            return groups.map { _ in .failure(failure) }
        }
        trustCache.withLock { $0 = committed.trust }
        heads.remember(committed.heads)
        let head = committed.result
        // A transaction whose every group was refused added nothing for a checkpoint to cover.
        let added = outcomes.contains { (try? $0.get()) != nil }
        let note = added ? try? publishCheckpoint(head, signer: logSigner) : nil
        return outcomes.map { outcome in
            outcome.map {
                AppendResult(
                    receipts: $0,
                    treeSize: head.treeSize,
                    rootHash: head.rootHash,
                    headsRoot: head.headsRoot,
                    checkpoint: note
                )
            }
        }
    }

    /// A crash between an append's commit and its checkpoint leaves durable entries no checkpoint
    /// covers; the writer that opens the ledger next signs one for them before anything else.
    func coverUncheckpointedTail(signer: NoteSigner) throws {
        let (size, covered) = try store.read { reader in
            (try reader.treeSize(), try reader.latestCheckpoint()?.size ?? 0)
        }
        guard size > covered else { return }
        let (root, map) = try store.read { reader in
            (try MerkleTree.rootHash(size: size, reader: reader), try heads.map(at: size, reader: reader))
        }
        try publishCheckpoint(size: size, root: root, headsRoot: map.root, signer: signer)
    }

    @discardableResult
    func publishCheckpoint(_ result: AppendResult, signer: NoteSigner) throws -> String {
        try publishCheckpoint(size: result.treeSize, root: result.rootHash, headsRoot: result.headsRoot, signer: signer)
    }

    /// Signs and stores a checkpoint for a head that is already durable, committing to the heads
    /// map over the same entries in its extension line.
    @discardableResult
    func publishCheckpoint(size: UInt64, root: [UInt8], headsRoot: [UInt8], signer: NoteSigner) throws -> String {
        let note = try Checkpoint(origin: origin, size: size, rootHash: root, headsRoot: headsRoot)
            .sign(with: signer).serialized
        try store.write { writer in
            try writer.insert(checkpoint: StoredCheckpoint(size: size, root: root, note: note))
        }
        return note
    }

    /// Signatures for a batch one caller commits: below a few dozen statements checked here (the
    /// hand-off to other threads costs more than the signatures), above that streamed beside the
    /// commit, which starts after the first chunk instead of after the last.
    func authentications(_ statements: [SignedStatement], trust: TrustState) -> Authentications {
        statements.count >= 32
            ? .stream(statements, trust: trust) : .known(authenticateInParallel(statements, trust: trust))
    }

    func authenticateInParallel(
        _ statements: [SignedStatement],
        trust: TrustState,
        threads: Int = Parallelism.cores
    ) -> [Party?] {
        let threads = min(max(1, threads), Parallelism.cores)
        let results = Mutex([Party?](repeating: nil, count: statements.count))
        // Below a few dozen statements the thread hand-off costs more than the signatures: one
        // chunk, checked on the calling thread. On every core, twice as many chunks as cores even
        // out a slow one; `concurrentPerform` runs as many at once as there are cores, so fewer
        // threads take one chunk each.
        let workers: Int
        if statements.count < 32 || threads == 1 {
            workers = 1
        } else {
            workers = threads == Parallelism.cores ? 2 * threads : threads
        }
        let chunk = (statements.count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let range = (worker * chunk)..<min(statements.count, (worker + 1) * chunk)
            guard !range.isEmpty else { return }
            var found: [(Int, Party)] = []
            for index in range where statements[index].statement.type != .roster {
                if let party = try? trust.authenticate(statements[index]) { found.append((index, party)) }
            }
            results.withLock { parties in
                for (index, party) in found { parties[index] = party }
            }
        }
        return results.withLock { $0 }
    }

    // MARK: Trust

    /// The roster in force at the head of the log, rebuilt from the roster chain only when it moved.
    func currentTrust() throws(LedgerError) -> CachedTrust {
        do {
            let head = try store.read { try $0.head(of: Self.rosterChain) }
            if let cached = trustCache.withLock({ $0 }), cached.rosterHead == head?.eventID {
                return cached
            }
            let state = try store.read { try Self.loadTrust(roots: trustRoots, reader: $0) }
            let fresh = CachedTrust(rosterHead: head?.eventID, state: state)
            trustCache.withLock { $0 = fresh }
            return fresh
        } catch { throw LedgerError.wrap(error) }
    }

    /// Who is trusted at the head of the log.
    public func trustState() throws(LedgerError) -> TrustState { try currentTrust().state }

    static func loadTrust(roots: [NoteVerifier], reader: any LedgerReader) throws -> TrustState {
        var trust = TrustState(trustRoots: roots)
        let links = try reader.chain(rosterChain)
        let read = try reader.entries(at: links.map(\.index))
        for link in links {
            guard let stored = read[link.index] else {
                throw StorageError(.corrupt, "roster entry \(link.index) is missing")
            }
            trust = try trust.applying(roster: LogEntry(parsing: stored.bytes).signed)
        }
        return trust
    }
}

import CanonicalJSON
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import RetraceStorage
import VerifiableMap

/// The commit: what an append does inside its storage transaction.
///
/// A transaction appends one or more groups (a caller's batch, or each client's batch of a group
/// commit), each all-or-nothing. What depends only on the transaction — the tree size and roster
/// at its start, the log's received time, and at its end the Merkle nodes, the root and the heads
/// map — is read and computed once per transaction, not once per group: a group commit of many
/// single-statement requests otherwise spent more on those than on the statements.
extension Ledger {
    struct PendingHead {
        var eventID: [UInt8]
        var sequence: Int64
        var index: UInt64
        /// `nil` for a class chain, which has no product state.
        var state: ProductState?
    }

    /// What one committed batch leaves: its result, the roster it ends with, and the heads map after it.
    struct Committed {
        let result: AppendResult
        let trust: CachedTrust
        let heads: HeadsIndex.Version
    }

    /// A transaction between its groups: where the log stands inside it, and what the groups
    /// accepted so far added. A group is staged against it and merged in only once its savepoint
    /// holds, so a refused group leaves it as it was.
    struct StagedCommit {
        let startSize: UInt64
        /// The log's time for every entry of the transaction: the clock, or the last entry's
        /// received time if that is later (the log's times never go backwards).
        let received: Timestamp
        var size: UInt64
        var trust: TrustState
        var rosterHead: ChainLink?
        var leafHashes: [[UInt8]] = []
        /// The head of every chain the accepted groups extended, the last group's winning.
        var heads: [String: PendingHead] = [:]

        var cachedTrust: CachedTrust { CachedTrust(rosterHead: rosterHead?.eventID, state: trust) }

        mutating func merge(_ group: StagedGroup) {
            size = group.size
            trust = group.trust
            rosterHead = group.rosterHead
            leafHashes += group.leafHashes
            heads.merge(group.heads) { _, later in later }
        }
    }

    /// One group's part of a transaction, not yet merged into it.
    struct StagedGroup {
        var receipts: [AppendResult.Receipt]
        var leafHashes: [[UInt8]]
        var heads: [String: PendingHead]
        var size: UInt64
        var trust: TrustState
        var rosterHead: ChainLink?
    }

    /// The chains a batch's statements extend (products, product classes), for one read of their
    /// heads; a chain missed here is looked up on its own. The roster's head is the commit's own.
    static func chainKeys(of statements: [SignedStatement]) -> Set<String> {
        var keys: Set<String> = []
        for signed in statements {
            signed.forEachChain { chain, _ in
                if chain != .roster { keys.insert(chain.name) }
            }
        }
        return keys
    }

    /// Commits one batch: ``beginCommit(snapshot:now:writer:)``, ``stage(_:preauthenticated:authenticatedUnder:after:writer:)``
    /// and ``finishCommit(_:heads:writer:)`` in a row.
    ///
    /// - Parameter heads: the heads map at the current tree size when the caller has it (an earlier
    ///   group of the same transaction); otherwise it is taken from ``heads`` and brought up to date.
    func commit(
        _ statements: [SignedStatement],
        preauthenticated: Authentications,
        snapshot: CachedTrust,
        heads startHeads: HeadsIndex.Version?,
        now: Timestamp,
        writer: any LedgerWriter
    ) throws -> Committed {
        var staged = try beginCommit(snapshot: snapshot, now: now, writer: writer)
        let group = try stage(
            statements,
            preauthenticated: preauthenticated,
            authenticatedUnder: snapshot.rosterHead,
            after: staged,
            writer: writer
        )
        staged.merge(group)
        return try finishCommit(staged, receipts: group.receipts, heads: startHeads, writer: writer)
    }

    /// Reads where the log stands at the start of a transaction; the roster is loaded afresh when it
    /// is not the one `snapshot` holds (another writer moved it).
    func beginCommit(snapshot: CachedTrust, now: Timestamp, writer: any LedgerWriter) throws -> StagedCommit {
        let size = try writer.treeSize()
        var trust = snapshot.state
        let rosterHead = try writer.head(of: Self.rosterChain)
        if rosterHead?.eventID != snapshot.rosterHead { trust = try Self.loadTrust(roots: trustRoots, reader: writer) }
        var received = now
        if size > 0, let last = try writer.entry(at: size - 1), last.received > now.secondsSinceEpoch {
            received = Timestamp(secondsSinceEpoch: last.received)
        }
        return StagedCommit(startSize: size, received: received, size: size, trust: trust, rosterHead: rosterHead)
    }

    /// Checks and inserts one group's statements after what `staged` holds; throws at the first
    /// refused statement (the caller's savepoint then undoes the group's rows).
    ///
    /// - Parameter authenticatedUnder: the roster head `preauthenticated` was checked under; once
    ///   the roster in force is another, every statement is authenticated afresh.
    func stage(
        _ statements: [SignedStatement],
        preauthenticated: Authentications,
        authenticatedUnder: [UInt8]?,
        after staged: StagedCommit,
        writer: any LedgerWriter
    ) throws -> StagedGroup {
        var size = staged.size
        var trust = staged.trust
        var rosterHead = staged.rosterHead
        var trustChanged = rosterHead?.eventID != authenticatedUnder
        let received = staged.received
        var pending: [String: PendingHead] = [:]
        var seenIDs: Set<Digest> = []
        var receipts: [AppendResult.Receipt] = []
        var leafHashes: [[UInt8]] = []
        // The batch's lookups in two reads instead of two per statement (a store across the
        // network pays a round trip for each): which ids are logged, and the head of every chain
        // the batch names, as they are before this commit writes. A chain this commit has written
        // is in `pending`, so these answers are only used for chains it has not touched yet.
        let logged = try writer.entryIndices(eventIDs: statements.map(\.statement.id.bytes))
        let chainKeys = Self.chainKeys(of: statements)
        let storedHeads = try writer.heads(of: Array(chainKeys))
        func storedHead(_ key: String) throws -> ChainLink? {
            chainKeys.contains(key) ? storedHeads[key] : try writer.head(of: key)
        }

        for (position, signed) in statements.enumerated() {
            let statement = signed.statement
            let id = statement.id
            do {
                guard statement.time.secondsSinceEpoch <= received.secondsSinceEpoch + Self.futureSkew else {
                    throw LedgerError(
                        .futureEvent,
                        "the statement is dated \(statement.time), after the log's time \(received) "
                            + "plus \(Self.futureSkew) s"
                    )
                }
                // The signature is checked before the duplicate test (server.md §4): the id covers
                // the statement, not its signature, so a replay with a damaged signature is an
                // unauthenticated statement (401), not a harmless retry (409).
                let party: Party?
                if statement.type == .roster {
                    party = nil
                    // A logged roster no longer follows the roster in force, so a retry would fail
                    // the roster chain: compare with the logged signature instead (Ed25519 is
                    // deterministic, so another signature over the same statement is not valid).
                    if let logged = try writer.entryIndex(eventID: id.bytes), let stored = try writer.entry(at: logged),
                        try LogEntry(parsing: stored.bytes).signed.signature != signed.signature
                    {
                        throw LedgerError(
                            .untrusted,
                            "the roster statement \(id.short) is logged with another signature; this one "
                                + "does not verify",
                            rule: "T9 signature"
                        )
                    }
                    let logged = try writer.entryIndex(eventID: id.bytes) != nil
                    if logged || seenIDs.contains(id) {
                        throw LedgerError(.duplicate, "statement \(id.short) is already in the log")
                    }
                    trust = try trust.applying(roster: signed)
                    trustChanged = true
                } else if !trustChanged, let known = preauthenticated.party(at: position) {
                    party = known
                } else {
                    party = try trust.authenticate(signed)
                }
                // An id written earlier in this commit is in `seenIDs`; `logged` holds those before it.
                guard seenIDs.insert(id).inserted, logged[id.bytes] == nil else {
                    throw LedgerError(.duplicate, "statement \(id.short) is already in the log")
                }
                let entry = LogEntry(received: received, signed: signed)
                let entryBytes = entry.canonicalBytes
                let leafHash = MerkleHash.leafHash(entryBytes)
                if statement.type == .roster {
                    let link = ChainLink(
                        chain: Self.rosterChain,
                        sequence: (rosterHead?.sequence ?? -1) + 1,
                        index: size,
                        eventID: id.bytes,
                        state: []
                    )
                    try writer.insert(link: link)
                    rosterHead = link
                } else if statement.type == .productClass, let party {
                    // A class chain holds no product state and has no products row: only the
                    // chain of the GTIN's statements, so the one in force is provable (C1).
                    _ = try Lifecycle.judgeClass(statement, signer: party)
                    let key = Statement.classChain(gtin: statement.classGTIN ?? "")
                    var head = pending[key]
                    if head == nil, let stored = try storedHead(key) {
                        head = PendingHead(
                            eventID: stored.eventID,
                            sequence: stored.sequence,
                            index: stored.index,
                            state: nil
                        )
                    }
                    guard statement.previous?.bytes == head?.eventID else {
                        throw LedgerError(
                            .chainConflict,
                            head.map {
                                "previous \(statement.previous?.short ?? "none") is not the current head "
                                    + "\(Hex.encode($0.eventID.prefix(6))) of \(key); read the head and sign again"
                            }
                                ?? "\(key) has no statement yet; the first names no previous",
                            product: key,
                            rule: "C1 chain-head"
                        )
                    }
                    let sequence = (head?.sequence ?? -1) + 1
                    try writer.insert(
                        link: ChainLink(chain: key, sequence: sequence, index: size, eventID: id.bytes, state: [])
                    )
                    pending[key] = PendingHead(eventID: id.bytes, sequence: sequence, index: size, state: nil)
                } else if let party {
                    for (product, previous) in signed.productLinks {
                        let key = product.digitalLink
                        var head = pending[key]
                        if head == nil, let stored = try storedHead(key) {
                            let state: ProductState
                            if let kept = headStates.state(key, bytes: stored.state) {
                                state = kept
                            } else {
                                state = try ProductState(json: CanonicalJSON.decode(stored.state))
                                headStates.remember(key, bytes: stored.state, state: state)
                            }
                            head = PendingHead(
                                eventID: stored.eventID,
                                sequence: stored.sequence,
                                index: stored.index,
                                state: state
                            )
                        }
                        if let head {
                            guard let previous, previous.bytes == head.eventID else {
                                throw LedgerError(
                                    statement.type == .commission ? .ruleViolation : .chainConflict,
                                    statement.type == .commission
                                        ? "\(key) is already commissioned; a serial is commissioned once"
                                        : "previous \(previous?.short ?? "none") is not the current head "
                                            + "\(Hex.encode(head.eventID.prefix(6))) of \(key); read the head and sign again",
                                    product: key,
                                    rule: statement.type == .commission ? "L2 commission-once" : "C1 chain-head"
                                )
                            }
                        } else if statement.type != .commission {
                            throw LedgerError(
                                .ruleViolation,
                                "\(key) was never commissioned",
                                product: key,
                                rule: "L1 commissioned-first"
                            )
                        }
                        let state = try Lifecycle.apply(
                            statement,
                            product: product,
                            eventID: id,
                            state: head?.state,
                            signer: party,
                            trust: trust
                        )
                        let sequence = (head?.sequence ?? -1) + 1
                        let stateBytes = try state.canonicalBytes()
                        try writer.insert(
                            link: ChainLink(
                                chain: key,
                                sequence: sequence,
                                index: size,
                                eventID: id.bytes,
                                state: stateBytes
                            )
                        )
                        headStates.remember(key, bytes: stateBytes, state: state)
                        if head == nil {
                            try writer.insert(
                                product: ProductRow(
                                    product: key,
                                    gtin: product.gtin.digits,
                                    serial: product.serial.value,
                                    passport: id.bytes
                                )
                            )
                        }
                        pending[key] = PendingHead(eventID: id.bytes, sequence: sequence, index: size, state: state)
                    }
                }
                try writer.insert(
                    entry: StoredEntry(
                        index: size,
                        eventID: id.bytes,
                        type: statement.type.name,
                        received: received.secondsSinceEpoch,
                        leafHash: leafHash,
                        bytes: entryBytes,
                        members: signed.members.map(\.canonicalBytes)
                    )
                )
                receipts.append(.init(index: size, eventID: id, leafHash: leafHash))
                leafHashes.append(leafHash)
                size += 1
            } catch let error as LedgerError {
                throw LedgerError.wrap(error, statement: position)
            } catch let error as FormatError {
                throw LedgerError.wrap(error, statement: position)
            } catch let error as RuleViolation {
                throw LedgerError.wrap(error, statement: position)
            } catch let error as StorageError {
                throw LedgerError.wrap(error, statement: position)
            }
            // Anything else is the store's own failure (GRDB's DatabaseError): it propagates to
            // `LedgerStore.write`, which maps it to a StorageError (readOnly, full, corrupt, ...).
        }
        return StagedGroup(
            receipts: receipts,
            leafHashes: leafHashes,
            heads: pending,
            size: size,
            trust: trust,
            rosterHead: rosterHead
        )
    }

    /// Ends a transaction's appends: the Merkle nodes over every leaf it added, the root, and the
    /// heads map moved to the new size in one pass.
    func finishCommit(
        _ staged: StagedCommit,
        receipts: [AppendResult.Receipt],
        heads startHeads: HeadsIndex.Version?,
        writer: any LedgerWriter
    ) throws -> Committed {
        let nodes = try MerkleTree.nodesToAppend(
            leafHashes: staged.leafHashes,
            startingAt: staged.startSize,
            reader: writer
        )
        try writer.insert(nodes: nodes)
        let root = try MerkleTree.rootHash(size: staged.size, reader: writer)
        var map: HeadsMap
        if let startHeads, startHeads.size == staged.startSize {
            map = startHeads.map
        } else {
            map = try heads.map(at: staged.startSize, reader: writer)
        }
        var updates: [(key: [UInt8], value: HeadValue)] = []
        updates.reserveCapacity(staged.heads.count + 1)
        for (key, head) in staged.heads {
            updates.append(
                (
                    HeadsIndex.mapKey(chain: key),
                    try HeadValue(eventID: head.eventID, count: UInt64(head.sequence + 1), index: head.index)
                )
            )
        }
        if let rosterHead = staged.rosterHead, rosterHead.index >= staged.startSize {
            updates.append(
                (
                    MapKey.roster,
                    try HeadValue(
                        eventID: rosterHead.eventID,
                        count: UInt64(rosterHead.sequence + 1),
                        index: rosterHead.index
                    )
                )
            )
        }
        // One pass over the union of the keys' paths, each node rebuilt once.
        try map.set(all: updates)
        return Committed(
            result: AppendResult(
                receipts: receipts,
                treeSize: staged.size,
                rootHash: root,
                headsRoot: map.root,
                checkpoint: nil
            ),
            trust: staged.cachedTrust,
            heads: HeadsIndex.Version(size: staged.size, map: map)
        )
    }
}

import CanonicalJSON
import Dispatch
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import Synchronization
import VerifiableMap

/// Verifies product evidence with only the trust anchors: the one codepath behind dock verdicts,
/// histories, proof-of-recycling and offline bundles, whether the evidence came from a ledger
/// database or from a bundle file.
///
/// Checks, in order: the checkpoint's signature under the log key; each entry's inclusion proof in
/// the checkpoint's root; the roster chain from the governance keys; each statement's signature
/// under the roster in force at its log position; the chain links (commission first, each
/// `previous` the prior event's id); and the lifecycle rules, re-applied to recompute the state.
///
/// What is verified once is remembered, keyed only by the exact bytes it was verified on, so a
/// changed byte is a cache miss and is verified afresh (nothing is ever keyed by a log index alone):
/// - roster prefixes: by a hash chained over each roster entry's index and leaf hash;
/// - checkpoints: by the exact signed note text (the last few only);
/// - events: by (the roster prefix in force, the entry's leaf hash), i.e. "these exact entry bytes
///   parse to this statement, and its signature authenticates this party under this exact roster".
///   Refusals are kept the same way. A repeat scan of a product therefore checks no signature of an
///   event it has seen, while every inclusion proof, chain link, time order and lifecycle rule is
///   still checked on every call.
/// Signatures not in the cache are checked in parallel on all cores; the results are then used in
/// log order, so the first failure reported is the same as a sequential check would report.
public final class EvidenceVerifier: Sendable {
    public let anchors: TrustAnchors
    /// By roster prefix key: the trust state after it, and its newest roster's event id.
    private let rosterCache: Mutex<[[UInt8]: (trust: TrustState, id: [UInt8])]>
    private let checkpointCache: Mutex<[(note: String, checkpoint: Checkpoint)]>
    private let eventCache: Mutex<EventCache>
    /// Inclusions already proven: a leaf hash at an index of the tree with a given size and root.
    private let inclusions: Mutex<Set<Inclusion>>
    private let counters = Counters()

    /// An inclusion proof that verified: this proof leads from this leaf hash at `index` to `root`
    /// in the tree of `size` leaves. A repeated scan offers the same proof again, and need not
    /// recompute its 17–20 hashes (a fifth of a warm scan's instructions). Keyed by every input of
    /// the check, the proof included, like the event cache: a changed byte anywhere is a miss and
    /// is checked afresh, so the answer for a given bundle never depends on what was seen before
    /// (a valid claim with a damaged proof is still refused).
    private struct Inclusion: Hashable {
        let leafHash: [UInt8]
        let index: UInt64
        let size: UInt64
        let root: [UInt8]
        let proof: [[UInt8]]

        /// Hashes the leaf, its place and the root, not the proof: one (leaf, index, size, root) has
        /// one valid proof, so the proof's 600-odd bytes only made every lookup dearer (0.3 M of a
        /// cold 20-event scan's 24 M instructions; issue 15). Equality is still the synthesized
        /// one, over every field, the proof included.
        func hash(into hasher: inout Hasher) {
            hasher.combine(index)
            hasher.combine(size)
            leafHash.withUnsafeBytes { hasher.combine(bytes: $0) }
            root.withUnsafeBytes { hasher.combine(bytes: $0) }
        }
    }

    /// How many verified proofs are kept (under 1 KiB each); cleared when full.
    public static let inclusionCacheCapacity = 1 << 16

    /// How many events' verified facts are kept (two generations of half that each), about 1–2 KiB
    /// each: tens of megabytes at most, for the events of the last few thousand products scanned.
    public static let eventCacheCapacity = 32_768
    /// How many verified checkpoint notes are kept; a dock sees new heads in order, old ones rarely recur.
    public static let checkpointCacheCapacity = 4

    public init(anchors: TrustAnchors) {
        self.anchors = anchors
        self.rosterCache = Mutex([:])
        self.checkpointCache = Mutex([])
        self.eventCache = Mutex(EventCache(capacity: Self.eventCacheCapacity))
        self.inclusions = Mutex([])
    }

    /// Work done so far: signatures checked and facts taken from the caches.
    public struct Statistics: Hashable, Sendable {
        /// Event signatures checked (cache misses).
        public var eventSignatures: Int
        /// Events whose parse and authentication came from the cache.
        public var eventsFromCache: Int
        /// Checkpoint signatures checked (notes not seen recently).
        public var checkpointSignatures: Int
        public var checkpointsFromCache: Int
        /// Roster entries applied (each checks its governance signatures).
        public var rosterEntries: Int

        /// Every Ed25519 check made: events, checkpoints and roster entries.
        public var signatureChecks: Int { eventSignatures + checkpointSignatures + rosterEntries }
    }

    public var statistics: Statistics {
        Statistics(
            eventSignatures: counters.eventSignatures.load(ordering: .relaxed),
            eventsFromCache: counters.eventsFromCache.load(ordering: .relaxed),
            checkpointSignatures: counters.checkpointSignatures.load(ordering: .relaxed),
            checkpointsFromCache: counters.checkpointsFromCache.load(ordering: .relaxed),
            rosterEntries: counters.rosterEntries.load(ordering: .relaxed)
        )
    }

    /// Verifies a bundle file's bytes.
    public func verify(bytes: [UInt8]) throws(VerificationError) -> VerifiedBundle {
        try verify(ProofBundle(parsing: bytes))
    }

    public func verify(_ bundle: ProofBundle) throws(VerificationError) -> VerifiedBundle {
        let checkpoint = try openCheckpoint(bundle.checkpoint)
        // Every inclusion proof first: cheap hashing, and a changed entry is refused before any parsing.
        let rosterBytes = try bundle.roster.map { (item) throws(VerificationError) in
            try includedBytes(item, checkpoint: checkpoint).bytes
        }
        let chainBytes = try bundle.products.map { (chain) throws(VerificationError) in
            try chain.events.map { (item) throws(VerificationError) in try includedBytes(item, checkpoint: checkpoint) }
        }
        let classBytes = try (bundle.productClass?.entries ?? []).map { (item) throws(VerificationError) in
            try includedBytes(item, checkpoint: checkpoint).bytes
        }
        let certificateBytes = try bundle.certificate.map { (item) throws(VerificationError) in
            try includedBytes(item, checkpoint: checkpoint).bytes
        }
        let rosters = try verifyRoster(bundle.roster, bytes: rosterBytes)
        guard let newest = rosters.last?.trust else {
            throw VerificationError(.rosterInvalid, "the bundle carries no roster")
        }
        guard !bundle.products.isEmpty else {
            throw VerificationError(.malformedBundle, "the bundle carries no product chain")
        }
        var seen: Set<String> = []
        var products: [VerifiedProduct] = []
        let authenticated = authenticate(bundle.products, included: chainBytes, rosters: rosters)
        for (chain, prepared) in zip(bundle.products, authenticated) {
            guard seen.insert(chain.product).inserted else {
                throw VerificationError(.malformedBundle, "the chain of \(chain.product) appears twice")
            }
            products.append(try verifyChain(chain, prepared: prepared, checkpoint: checkpoint))
        }
        if let classChain = bundle.productClass {
            guard bundle.certificate == nil, products.count == 1 else {
                throw VerificationError(.malformedBundle, "only a product bundle carries a productClass")
            }
            products[0].productClass = try verifyClass(
                classChain,
                bytes: classBytes,
                rosters: rosters,
                gtin: products[0].product.gtin.digits
            )
        }
        var certificate: VerifiedCertificate?
        if let item = bundle.certificate, let bytes = certificateBytes {
            let verified = try verifyCertificate(item, bytes: bytes, rosters: rosters)
            try checkCoverage(verified, products: products)
            certificate = verified
        } else if products.count != 1 {
            throw VerificationError(.malformedBundle, "a product bundle carries exactly one chain")
        }
        let completeness = try checkHeads(
            bundle,
            checkpoint: checkpoint,
            rosterID: rosters.last?.id,
            products: products,
            classBytes: classBytes
        )
        for position in products.indices { products[position].completeness = completeness }
        return VerifiedBundle(
            checkpoint: checkpoint,
            products: products,
            certificate: certificate,
            trust: newest,
            completeness: completeness
        )
    }

    // MARK: Heads

    /// Proves every chain and the roster complete from the checkpoint's heads root (v2 evidence).
    ///
    /// A checkpoint that commits to heads makes the proofs mandatory: a bundle that drops them
    /// (posing as v1) could otherwise drop a chain's newest events as well. A checkpoint made before
    /// the map existed proves inclusion only, and says so.
    private func checkHeads(
        _ bundle: ProofBundle,
        checkpoint: Checkpoint,
        rosterID: [UInt8]?,
        products: [VerifiedProduct],
        classBytes: [[UInt8]]
    ) throws(VerificationError) -> VerifiedBundle.Completeness {
        guard let root = checkpoint.headsRoot else {
            if bundle.isVersion2 {
                throw VerificationError(
                    .malformedBundle,
                    "the bundle carries head proofs but checkpoint \(checkpoint.size) commits to no heads root"
                )
            }
            return .notProven
        }
        guard let rosterProof = bundle.rosterHead, let lastRoster = bundle.roster.last, let rosterID else {
            throw VerificationError(
                .incompleteHistory,
                "checkpoint \(checkpoint.size) commits to every chain's head, but the evidence carries no head proofs "
                    + "(a v1 bundle made from a v2 checkpoint): it cannot be shown complete"
            )
        }
        try proveHead(
            rosterProof,
            key: MapKey.roster,
            what: "the roster",
            eventID: rosterID,
            count: bundle.roster.count,
            index: lastRoster.index,
            root: root,
            checkpoint: checkpoint
        )
        for (chain, verified) in zip(bundle.products, products) {
            guard let proof = chain.head, let last = verified.events.last else {
                throw VerificationError(.incompleteHistory, "the chain of \(chain.product) carries no head proof")
            }
            try proveHead(
                proof,
                key: MapKey.product(chain.product),
                what: chain.product,
                eventID: last.id.bytes,
                count: verified.events.count,
                index: last.index,
                root: root,
                checkpoint: checkpoint
            )
        }
        if let classChain = bundle.productClass {
            try proveClassHead(classChain, bytes: classBytes, root: root, checkpoint: checkpoint)
        }
        return .proven(checkpoint: checkpoint.size)
    }

    /// The class chain carried is the GTIN's whole class chain at the checkpoint: a membership
    /// proof of its newest statement, or an absence proof when it carries none.
    private func proveClassHead(
        _ classChain: ProofBundle.ClassChain,
        bytes: [[UInt8]],
        root: [UInt8],
        checkpoint: Checkpoint
    ) throws(VerificationError) {
        let what = Statement.classChain(gtin: classChain.gtin)
        guard let proof = classChain.head else {
            throw VerificationError(
                .incompleteHistory,
                "the class chain \(what) carries no head proof: it cannot be shown complete"
            )
        }
        let key = MapKey.productClass(classChain.gtin)
        guard let last = classChain.entries.last, let lastBytes = bytes.last else {
            let proven: HeadValue?
            do { proven = try proof.verify(key: key, root: root) } catch {
                throw VerificationError(
                    .incompleteHistory,
                    "the head proof of \(what) does not verify against checkpoint \(checkpoint.size): \(error)"
                )
            }
            if let proven {
                throw VerificationError(
                    .incompleteHistory,
                    "\(what) has \(proven.count) statement(s) up to checkpoint \(checkpoint.size), the newest at log "
                        + "index \(proven.index); the evidence holds none: the product class was left out",
                    index: proven.index
                )
            }
            return
        }
        let id = try parseEntry(last, bytes: lastBytes, members: []).statement.id
        try proveHead(
            proof,
            key: key,
            what: what,
            eventID: id.bytes,
            count: classChain.entries.count,
            index: last.index,
            root: root,
            checkpoint: checkpoint
        )
    }

    private func proveHead(
        _ proof: MapProof,
        key: [UInt8],
        what: String,
        eventID: [UInt8],
        count: Int,
        index: UInt64,
        root: [UInt8],
        checkpoint: Checkpoint
    ) throws(VerificationError) {
        let proven: HeadValue?
        do { proven = try proof.verify(key: key, root: root) } catch {
            throw VerificationError(
                .incompleteHistory,
                "the head proof of \(what) does not verify against checkpoint \(checkpoint.size): \(error)"
            )
        }
        guard let proven else {
            throw VerificationError(
                .incompleteHistory,
                "checkpoint \(checkpoint.size) proves \(what) has no chain, yet evidence of one was given"
            )
        }
        guard proven.eventID == eventID, proven.count == UInt64(count), proven.index == index else {
            throw VerificationError(
                .incompleteHistory,
                "\(what) has \(proven.count) event(s) up to checkpoint \(checkpoint.size), the newest at log index "
                    + "\(proven.index); the evidence holds \(count), the newest at index \(index): events are missing or added",
                index: proven.index
            )
        }
    }

    /// The roster in force at a roster bundle's checkpoint (no product chains): every roster entry
    /// included in the checkpoint and applied from the governance anchors.
    public func verifyRoster(
        _ bundle: ProofBundle
    ) throws(VerificationError) -> (checkpoint: Checkpoint, trust: TrustState) {
        let checkpoint = try openCheckpoint(bundle.checkpoint)
        let rosterBytes = try bundle.roster.map { (item) throws(VerificationError) in
            try includedBytes(item, checkpoint: checkpoint).bytes
        }
        guard let newest = try verifyRoster(bundle.roster, bytes: rosterBytes).last?.trust else {
            throw VerificationError(.rosterInvalid, "the bundle carries no roster")
        }
        return (checkpoint, newest)
    }

    /// The product class in force for `gtin` at a class bundle's checkpoint (a service's answer to
    /// `GET /v1/classes/{gtin}`: the roster, the GTIN's class chain and both head proofs, no product
    /// chain); `nil` when the checkpoint proves the GTIN has no class statement.
    ///
    /// - Throws: `incomplete-history` when the chain is not the one the heads map commits to, and
    ///   `malformed-bundle` for any other shape (a product chain, no class chain, another GTIN).
    public func verifyClass(
        _ bundle: ProofBundle,
        gtin: String
    ) throws(VerificationError) -> (checkpoint: Checkpoint, productClass: VerifiedProductClass?) {
        guard bundle.products.isEmpty, bundle.certificate == nil, let classChain = bundle.productClass,
            bundle.isVersion2
        else {
            throw VerificationError(
                .malformedBundle,
                "a class bundle is v2 and carries the roster and a productClass, and no product chain"
            )
        }
        let checkpoint = try openCheckpoint(bundle.checkpoint)
        let rosterBytes = try bundle.roster.map { (item) throws(VerificationError) in
            try includedBytes(item, checkpoint: checkpoint).bytes
        }
        let classBytes = try classChain.entries.map { (item) throws(VerificationError) in
            try includedBytes(item, checkpoint: checkpoint).bytes
        }
        let rosters = try verifyRoster(bundle.roster, bytes: rosterBytes)
        guard !rosters.isEmpty else { throw VerificationError(.rosterInvalid, "the bundle carries no roster") }
        let verified = try verifyClass(classChain, bytes: classBytes, rosters: rosters, gtin: gtin)
        _ = try checkHeads(
            bundle,
            checkpoint: checkpoint,
            rosterID: rosters.last?.id,
            products: [],
            classBytes: classBytes
        )
        return (checkpoint, verified)
    }

    // MARK: Checkpoints

    /// The checkpoint of `note`, once its signature verifies under the log key (or verified before:
    /// the exact same note text).
    private func openCheckpoint(_ note: String) throws(VerificationError) -> Checkpoint {
        if let cached = checkpointCache.withLock({ $0.first(where: { $0.note == note })?.checkpoint }) {
            counters.checkpointsFromCache.add(1, ordering: .relaxed)
            return cached
        }
        let checkpoint: Checkpoint
        do {
            counters.checkpointSignatures.add(1, ordering: .relaxed)
            checkpoint = try Checkpoint.open(note, verifiers: [anchors.logKey], origin: anchors.origin)
        } catch {
            throw VerificationError(.checkpointInvalid, "the checkpoint does not verify under the log key: \(error)")
        }
        checkpointCache.withLock { cache in
            cache.insert((note, checkpoint), at: 0)
            if cache.count > Self.checkpointCacheCapacity { cache.removeLast() }
        }
        return checkpoint
    }

    // MARK: Entries

    /// The entry's canonical bytes and leaf hash, once its inclusion proof leads to the checkpoint's root.
    private func includedBytes(
        _ item: BundleEntry,
        checkpoint: Checkpoint
    ) throws(VerificationError)
        -> (bytes: [UInt8], leafHash: [UInt8])
    {
        let bytes: [UInt8]
        if let stored = item.storedBytes {
            bytes = stored
        } else {
            do { bytes = try CanonicalJSON.encode(.object(item.entry)) } catch {
                throw VerificationError(
                    .malformedBundle,
                    "entry \(item.index) cannot be encoded: \(error)",
                    index: item.index
                )
            }
        }
        let leafHash = MerkleHash.leafHash(bytes)
        let fact = Inclusion(
            leafHash: leafHash,
            index: item.index,
            size: checkpoint.size,
            root: checkpoint.rootHash,
            proof: item.proof
        )
        if inclusions.withLock({ $0.contains(fact) }) { return (bytes, leafHash) }
        do {
            try MerkleProof.verifyInclusion(
                leafHash: leafHash,
                leafIndex: item.index,
                treeSize: checkpoint.size,
                proof: item.proof,
                rootHash: checkpoint.rootHash
            )
            inclusions.withLock { proven in
                if proven.count >= Self.inclusionCacheCapacity { proven.removeAll() }
                proven.insert(fact)
            }
        } catch {
            throw VerificationError(
                .inclusionFailed,
                "entry \(item.index) is not included in the checkpoint of size \(checkpoint.size): \(error.reason)",
                index: item.index
            )
        }
        return (bytes, leafHash)
    }

    private func parseEntry(
        _ item: BundleEntry,
        bytes: [UInt8],
        members: [BatchMember]
    ) throws(VerificationError) -> LogEntry {
        do {
            let canonical: BundleEntry.CanonicalEntry?
            switch item.body {
            case .undecoded:
                return try LogEntry(parsing: bytes, members: members)
            case .object(_, let known):
                if !members.isEmpty { return try LogEntry(parsing: bytes, members: members) }
                canonical = known
            }
            var fields = item.entry
            guard case .string(let receivedText)? = fields.removeValue(forKey: "received"),
                case .string(let signatureText)? = fields.removeValue(forKey: "signature"),
                let statementValue = fields.removeValue(forKey: "statement"), fields.isEmpty
            else {
                throw FormatError(.invalidValue, field: "entry", "an entry has exactly received, signature, statement")
            }
            let received = try Timestamp(parsing: receivedText, field: "entry.received")
            guard let signature = Base64.decode(signatureText), signature.count == 64,
                Base64.encode(signature) == signatureText
            else {
                throw FormatError(.invalidValue, field: "entry.signature", "not canonical base64 of 64 bytes")
            }
            let statement = try Statement(
                json: statementValue,
                path: "entry.statement",
                canonicalBytes: canonical?.statementBytes
            )
            return LogEntry(received: received, signed: SignedStatement(statement: statement, signature: signature))
        } catch {
            throw VerificationError(.malformedBundle, "entry \(item.index): \(error)", index: item.index)
        }
    }

    // MARK: Roster

    /// The trust state in force after the roster entry at `index`; `key` names the exact roster
    /// prefix it follows from (a hash chained over every roster entry's index and leaf hash), and
    /// `id` is that entry's event id (the roster head a heads proof must name).
    typealias RosterPoint = (index: UInt64, trust: TrustState, key: [UInt8], id: [UInt8])

    private func verifyRoster(
        _ items: [BundleEntry],
        bytes rosterBytes: [[UInt8]]
    ) throws(VerificationError)
        -> [RosterPoint]
    {
        var trust = TrustState(trustRoots: anchors.governance)
        var points: [RosterPoint] = []
        var key: [UInt8] = []
        for (position, (item, bytes)) in zip(items, rosterBytes).enumerated() {
            if position == 0, item.index != 0 {
                throw VerificationError(
                    .rosterInvalid,
                    "the first roster must be log entry 0, found \(item.index)",
                    index: item.index
                )
            }
            if let last = points.last, item.index <= last.index {
                throw VerificationError(.rosterInvalid, "roster entries are not in log order", index: item.index)
            }
            var material = key
            withUnsafeBytes(of: item.index.bigEndian) { material.append(contentsOf: $0) }
            material.append(contentsOf: MerkleHash.leafHash(bytes))
            key = SHA256.hash(material)
            let id: [UInt8]
            if let cached = rosterCache.withLock({ $0[key] }) {
                // The same roster entries, at the same indices, after the same prefix: verified before.
                (trust, id) = cached
            } else {
                counters.rosterEntries.add(1, ordering: .relaxed)
                let entry = try parseEntry(item, bytes: bytes, members: [])
                guard entry.statement.type == .roster else {
                    throw VerificationError(
                        .rosterInvalid,
                        "entry \(item.index) is a \(entry.statement.type), not a roster",
                        index: item.index
                    )
                }
                do { trust = try trust.applying(roster: entry.signed) } catch {
                    throw VerificationError(
                        .rosterInvalid,
                        "roster entry \(item.index) does not follow from the trust roots: \(error)",
                        index: item.index
                    )
                }
                id = entry.statement.id.bytes
                let state = trust
                rosterCache.withLock { cache in
                    if cache.count > 1024 { cache.removeAll() }
                    cache[key] = (state, id)
                }
            }
            points.append((item.index, trust, key, id))
        }
        return points
    }

    private func trust(at index: UInt64, rosters: [RosterPoint]) throws(VerificationError) -> TrustState {
        try rosterPoint(at: index, rosters: rosters).trust
    }

    private func rosterPoint(at index: UInt64, rosters: [RosterPoint]) throws(VerificationError) -> RosterPoint {
        guard let point = rosters.last(where: { $0.index < index }) else {
            throw VerificationError(.authenticationFailed, "no roster precedes entry \(index)", index: index)
        }
        return point
    }

    // MARK: Authentication (parallel, cached)

    /// One chain entry, parsed and authenticated ahead of the in-order chain checks, each step's
    /// outcome kept (not thrown) so ``verifyChain`` can report failures in log order.
    struct PreparedEntry {
        let item: BundleEntry
        let entry: Result<LogEntry, VerificationError>
        let trust: Result<TrustState, VerificationError>
        let party: Result<Party, RuleViolation>?
    }

    /// Parses and authenticates every chain entry: facts verified before for the same bytes under
    /// the same roster prefix come from the cache; the rest are checked on all cores, then cached.
    private func authenticate(
        _ chains: [ProofBundle.Chain],
        included: [[(bytes: [UInt8], leafHash: [UInt8])]],
        rosters: [RosterPoint]
    ) -> [[PreparedEntry]] {
        struct Work {
            let chain: Int
            let position: Int
            let entry: LogEntry
            let trust: TrustState
            let key: [UInt8]
        }
        var prepared: [[PreparedEntry?]] = chains.map { [PreparedEntry?](repeating: nil, count: $0.events.count) }
        var pending: [Work] = []
        for (c, (chain, items)) in zip(chains, included).enumerated() {
            for (position, (item, bytes)) in zip(chain.events, items).enumerated() {
                let point: RosterPoint
                do { point = try rosterPoint(at: item.index, rosters: rosters) } catch {
                    prepared[c][position] = PreparedEntry(
                        item: item,
                        entry: Result { () throws(VerificationError) in
                            try parseEntry(item, bytes: bytes.bytes, members: [])
                        },
                        trust: .failure(error),
                        party: nil
                    )
                    continue
                }
                let key = point.key + bytes.leafHash
                if let cached = eventCache.withLock({ $0[key] }) {
                    counters.eventsFromCache.add(1, ordering: .relaxed)
                    prepared[c][position] = PreparedEntry(
                        item: item,
                        entry: .success(cached.entry),
                        trust: .success(point.trust),
                        party: cached.party
                    )
                    continue
                }
                do {
                    let entry = try parseEntry(item, bytes: bytes.bytes, members: [])
                    pending.append(Work(chain: c, position: position, entry: entry, trust: point.trust, key: key))
                } catch {
                    prepared[c][position] = PreparedEntry(
                        item: item,
                        entry: .failure(error),
                        trust: .success(point.trust),
                        party: nil
                    )
                }
            }
        }
        let parties = Self.inParallel(pending) { work in
            Result { () throws(RuleViolation) in try work.trust.authenticate(work.entry.signed) }
        }
        counters.eventSignatures.add(pending.count, ordering: .relaxed)
        eventCache.withLock { cache in
            for (work, party) in zip(pending, parties) {
                cache[work.key] = CachedEvent(entry: work.entry, party: party)
            }
        }
        for (work, party) in zip(pending, parties) {
            prepared[work.chain][work.position] = PreparedEntry(
                item: chains[work.chain].events[work.position],
                entry: .success(work.entry),
                trust: .success(work.trust),
                party: party
            )
        }
        return prepared.map { $0.compactMap { $0 } }
    }

    /// The checks of the signatures of `entries` (stored entry bytes, not yet proven included) ahead
    /// of their verification, filling the event cache: the dock path starts them on a second core
    /// while the first gathers the proofs, and the first joins in when its gathering is done
    /// (``PrewarmWork``). It only ever adds facts keyed like every other (the exact leaf
    /// hash under the exact roster prefix), so bytes that differ from the bundle's later simply miss;
    /// it uses roster prefixes already verified, and skips anything it cannot decide.
    ///
    /// The leaf hashes given are the store's, not computed here, and serve only to find facts
    /// already cached: a roster key built from them names a roster state that was verified, and an
    /// event found under a stored hash is one whose bytes hashed to it when it was checked. A stored
    /// hash that lies at worst skips this head start; whatever is checked here is cached under the
    /// hash of the bytes checked, so a warm scan hashes nothing on this core and a cold one hashes
    /// each entry once more.
    func prewarm(
        roster: [(index: UInt64, leafHash: [UInt8])],
        entries: [(index: UInt64, bytes: [UInt8], storedLeafHash: [UInt8])]
    ) -> PrewarmWork {
        var key: [UInt8] = []
        var points: [RosterPoint] = []
        var verifiedBelow = UInt64.max
        for item in roster {
            var material = key
            withUnsafeBytes(of: item.index.bigEndian) { material.append(contentsOf: $0) }
            material.append(contentsOf: item.leafHash)
            key = SHA256.hash(material)
            guard let cached = rosterCache.withLock({ $0[key] }) else {
                verifiedBelow = item.index
                break
            }
            points.append((item.index, cached.trust, key, cached.id))
        }
        let candidates = entries.filter { $0.index <= verifiedBelow }
        return PrewarmWork(count: candidates.count) { [points] position in
            let (index, bytes, storedLeafHash) = candidates[position]
            guard let point = points.last(where: { $0.index < index }),
                self.eventCache.withLock({ $0[point.key + storedLeafHash] }) == nil
            else { return }
            let leafHash = MerkleHash.leafHash(bytes)
            let cacheKey = point.key + leafHash
            // Looked up again only when the stored hash was not the bytes' own. The bytes are read
            // as the scan reads them (`.undecoded`: strictly, the plain reader first): the scan
            // takes a cached entry without reading it again, so a lenient reading here let a scan
            // accept a respelled entry whenever this core reached it first.
            guard leafHash == storedLeafHash || self.eventCache.withLock({ $0[cacheKey] }) == nil,
                let entry = try? self.parseEntry(
                    BundleEntry(index: index, body: .undecoded(bytes), proof: []),
                    bytes: bytes,
                    members: []
                )
            else { return }
            self.counters.eventSignatures.add(1, ordering: .relaxed)
            let party = Result { () throws(RuleViolation) in try point.trust.authenticate(entry.signed) }
            self.eventCache.withLock { $0[cacheKey] = CachedEvent(entry: entry, party: party) }
        }
    }

    /// `body` over `items` on every core (in order, on this thread, when there are fewer than two).
    static func inParallel<Item: Sendable, Output: Sendable>(
        _ items: [Item],
        _ body: @escaping @Sendable (Item) -> Output
    ) -> [Output] {
        guard items.count > 1 else { return items.map(body) }
        let workers = min(items.count, max(1, Parallelism.cores))
        let results = Mutex([Output?](repeating: nil, count: items.count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var local: [(Int, Output)] = []
            for index in stride(from: worker, to: items.count, by: workers) {
                local.append((index, body(items[index])))
            }
            results.withLock { all in for (index, output) in local { all[index] = output } }
        }
        return results.withLock { $0 }.compactMap { $0 }
    }

    // MARK: Chains

    private func verifyChain(
        _ chain: ProofBundle.Chain,
        prepared: [PreparedEntry],
        checkpoint: Checkpoint
    ) throws(VerificationError) -> VerifiedProduct {
        let product: SGTIN
        do { product = try IdentityParser.parse(chain.product).sgtin } catch {
            throw VerificationError(.malformedBundle, "\(chain.product) is not a product identity: \(error)")
        }
        guard product.digitalLink == chain.product else {
            throw VerificationError(.malformedBundle, "\(chain.product) is not a canonical Digital Link")
        }
        guard !chain.events.isEmpty else {
            throw VerificationError(.chainBroken, "the chain of \(chain.product) has no events")
        }
        var events: [VerifiedEvent] = []
        var state: ProductState?
        var endOfLife: VerifiedEvent?
        for (position, step) in prepared.enumerated() {
            let item = step.item
            let entry = try step.entry.get()
            let statement = entry.statement
            let id = statement.id
            if let last = events.last {
                guard item.index > last.index else {
                    throw VerificationError(
                        .chainBroken,
                        "entry \(item.index) comes after entry \(last.index) in the chain but not in the log",
                        index: item.index
                    )
                }
                guard entry.received >= last.entry.received else {
                    throw VerificationError(
                        .timeInvalid,
                        "entry \(item.index) was received before entry \(last.index)",
                        index: item.index
                    )
                }
            }
            guard statement.time.secondsSinceEpoch <= entry.received.secondsSinceEpoch + 300 else {
                throw VerificationError(
                    .timeInvalid,
                    "the statement is dated \(statement.time), after its receipt \(entry.received)",
                    index: item.index
                )
            }
            let subject: SGTIN?
            let previous: Digest?
            if let batch = statement.batch {
                guard let member = item.member, let memberIndex = item.memberIndex, item.members.isEmpty else {
                    throw VerificationError(
                        .malformedBundle,
                        "batch entry \(item.index) needs member, memberIndex and memberProof",
                        index: item.index
                    )
                }
                do {
                    try MerkleProof.verifyInclusion(
                        leafHash: member.leafHash,
                        leafIndex: memberIndex,
                        treeSize: UInt64(max(batch.count, 0)),
                        proof: item.memberProof,
                        rootHash: batch.root.bytes
                    )
                } catch {
                    throw VerificationError(
                        .memberProofFailed,
                        "\(member.product.digitalLink) is not member \(memberIndex) of batch \(id.short): "
                            + error.reason,
                        index: item.index
                    )
                }
                subject = member.product
                previous = member.previous
            } else {
                guard item.member == nil, item.members.isEmpty else {
                    throw VerificationError(
                        .malformedBundle,
                        "entry \(item.index) is not a batch statement but carries members",
                        index: item.index
                    )
                }
                subject = statement.product
                previous = statement.previous
            }
            guard let subject, subject == product else {
                throw VerificationError(
                    .chainBroken,
                    "entry \(item.index) is about \(subject?.digitalLink ?? "no product"), "
                        + "not \(chain.product)",
                    index: item.index
                )
            }
            if let last = events.last {
                guard previous == last.id else {
                    throw VerificationError(
                        .chainBroken,
                        "entry \(item.index) (\(statement.type)) names previous \(previous?.short ?? "none"), but the "
                            + "prior event is \(last.id.short) (entry \(last.index)): "
                            + "an event is missing or out of order",
                        index: item.index
                    )
                }
            } else {
                guard statement.type == .commission, position == 0 else {
                    throw VerificationError(
                        .chainBroken,
                        "the chain of \(chain.product) starts with \(statement.type), not commission",
                        index: item.index
                    )
                }
            }
            let trust = try step.trust.get()
            guard let authenticated = step.party else {
                throw VerificationError(
                    .authenticationFailed,
                    "entry \(item.index) was not authenticated",
                    index: item.index
                )
            }
            let party: Party
            do { party = try authenticated.get() } catch {
                throw VerificationError(
                    .authenticationFailed,
                    "entry \(item.index): \(error.reason)",
                    index: item.index
                )
            }
            if let endOfLife {
                throw VerificationError(
                    .eventAfterEndOfLife,
                    "\(chain.product) was \(endOfLife.state.phase) by \(endOfLife.party.name) "
                        + "(event \(endOfLife.id.short), entry \(endOfLife.index)), yet \(party.name) recorded "
                        + "\(statement.type) (event \(id.short), entry \(item.index)): a cloned serial or a false "
                        + "end-of-life claim",
                    index: item.index,
                    events: [endOfLife.id.hex, id.hex]
                )
            }
            let next: ProductState
            do {
                next = try Lifecycle.apply(
                    statement,
                    product: product,
                    eventID: id,
                    state: state,
                    signer: party,
                    trust: trust
                )
            } catch {
                throw VerificationError(
                    .lifecycleViolation,
                    "entry \(item.index): rule \(error.rule): \(error.reason)",
                    index: item.index
                )
            }
            state = next
            let event = VerifiedEvent(
                index: item.index,
                id: id,
                entry: entry,
                member: item.member,
                memberIndex: item.memberIndex,
                party: party,
                state: next
            )
            if next.phase.isTerminal, endOfLife == nil { endOfLife = event }
            events.append(event)
        }
        guard let state else { throw VerificationError(.chainBroken, "the chain of \(chain.product) has no events") }
        return VerifiedProduct(product: product, events: events, state: state, checkpoint: checkpoint)
    }

    // MARK: Product classes

    /// Checks a GTIN's class chain like a product chain: entries in log order, receipts not going
    /// backwards, each a `product-class` statement of this GTIN naming the previous one, signed by a
    /// key of the roster in force and accepted by the class rules (`L13`, `L3`, `L4`).
    private func verifyClass(
        _ classChain: ProofBundle.ClassChain,
        bytes: [[UInt8]],
        rosters: [RosterPoint],
        gtin: String
    ) throws(VerificationError) -> VerifiedProductClass? {
        guard classChain.gtin == gtin else {
            throw VerificationError(
                .malformedBundle,
                "the productClass describes GTIN \(classChain.gtin), not the product's \(gtin)"
            )
        }
        var last: (index: UInt64, id: Digest, received: Timestamp)?
        var current: VerifiedProductClass?
        for (item, entryBytes) in zip(classChain.entries, bytes) {
            let entry = try parseEntry(item, bytes: entryBytes, members: [])
            let statement = entry.statement
            guard item.member == nil, item.members.isEmpty else {
                throw VerificationError(
                    .malformedBundle,
                    "class entry \(item.index) carries batch members",
                    index: item.index
                )
            }
            if let last {
                guard item.index > last.index else {
                    throw VerificationError(
                        .chainBroken,
                        "class entry \(item.index) comes after entry \(last.index) in the chain but not in the log",
                        index: item.index
                    )
                }
                guard entry.received >= last.received else {
                    throw VerificationError(
                        .timeInvalid,
                        "entry \(item.index) was received before entry \(last.index)",
                        index: item.index
                    )
                }
            }
            guard statement.time.secondsSinceEpoch <= entry.received.secondsSinceEpoch + 300 else {
                throw VerificationError(
                    .timeInvalid,
                    "the statement is dated \(statement.time), after its receipt \(entry.received)",
                    index: item.index
                )
            }
            guard statement.classGTIN == classChain.gtin, statement.previous == last?.id else {
                throw VerificationError(
                    .chainBroken,
                    "entry \(item.index) (\(statement.type)) is not the next product-class statement of GTIN "
                        + "\(classChain.gtin): a statement is missing, out of order or about another GTIN",
                    index: item.index
                )
            }
            let trust = try trust(at: item.index, rosters: rosters)
            let party: Party
            do { party = try trust.authenticate(entry.signed) } catch {
                throw VerificationError(
                    .authenticationFailed,
                    "entry \(item.index): \(error.reason)",
                    index: item.index
                )
            }
            let details: ProductClassDetails
            do { details = try Lifecycle.judgeClass(statement, signer: party) } catch {
                throw VerificationError(
                    .lifecycleViolation,
                    "entry \(item.index): rule \(error.rule): \(error.reason)",
                    index: item.index
                )
            }
            last = (item.index, statement.id, entry.received)
            current = VerifiedProductClass(
                details: details,
                index: item.index,
                id: statement.id,
                party: party,
                statements: (current?.statements ?? 0) + 1
            )
        }
        return current
    }

    // MARK: Certificates

    private func verifyCertificate(
        _ item: BundleEntry,
        bytes: [UInt8],
        rosters: [RosterPoint]
    ) throws(VerificationError) -> VerifiedCertificate {
        guard !item.members.isEmpty, item.member == nil else {
            throw VerificationError(
                .malformedBundle,
                "the certificate carries all its members and no single member",
                index: item.index
            )
        }
        let entry = try parseEntry(item, bytes: bytes, members: item.members)
        guard entry.statement.batch != nil else {
            throw VerificationError(.certificateMismatch, "the certificate is not a batch statement", index: item.index)
        }
        let trust = try trust(at: item.index, rosters: rosters)
        let party: Party
        do { party = try trust.authenticate(entry.signed) } catch {
            throw VerificationError(
                .authenticationFailed,
                "certificate entry \(item.index): \(error.reason)",
                index: item.index
            )
        }
        return VerifiedCertificate(
            index: item.index,
            id: entry.statement.id,
            entry: entry,
            members: item.members,
            party: party,
            trust: trust
        )
    }

    /// A certificate bundle carries exactly the chains of the certificate's members, each through it.
    private func checkCoverage(
        _ certificate: VerifiedCertificate,
        products: [VerifiedProduct]
    ) throws(VerificationError) {
        let byProduct = Dictionary(products.map { ($0.product, $0) }, uniquingKeysWith: { first, _ in first })
        guard products.count == certificate.members.count else {
            throw VerificationError(
                .certificateMismatch,
                "the certificate has \(certificate.members.count) members but the bundle \(products.count) chains"
            )
        }
        for member in certificate.members {
            guard let chain = byProduct[member.product],
                chain.events.contains(where: { $0.id == certificate.id && $0.member == member })
            else {
                throw VerificationError(
                    .certificateMismatch,
                    "the chain of member \(member.product.digitalLink) does not pass through the certificate",
                    index: certificate.index
                )
            }
        }
    }
}

/// A verified event fact: the parse of exact entry bytes, and the party its signature authenticates
/// under one roster prefix (or why it does not: a refusal is as much a fact of those bytes).
struct CachedEvent: Sendable {
    let entry: LogEntry
    let party: Result<Party, RuleViolation>
}

/// Two generations of verified event facts: when the newer fills up it becomes the older and the
/// oldest are forgotten, so memory stays bounded without a cliff where everything is lost at once.
struct EventCache: Sendable {
    /// A key's bytes, hashed in one call: a `[UInt8]` key feeds the hasher one byte at a time,
    /// 64 calls for a roster prefix and a leaf hash, and each scan looks every entry up (issue 15).
    private struct Key: Hashable {
        let bytes: [UInt8]

        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }

    let capacity: Int
    private var current: [Key: CachedEvent] = [:]
    private var previous: [Key: CachedEvent] = [:]

    init(capacity: Int) { self.capacity = max(2, capacity) }

    subscript(key: [UInt8]) -> CachedEvent? {
        get { current[Key(bytes: key)] ?? previous[Key(bytes: key)] }
        set {
            guard let newValue else { return }
            if current.count >= capacity / 2 {
                previous = current
                current = [:]
            }
            current[Key(bytes: key)] = newValue
        }
    }
}

/// Counters behind ``EvidenceVerifier/statistics``.
final class Counters: Sendable {
    let eventSignatures = Atomic<Int>(0)
    let eventsFromCache = Atomic<Int>(0)
    let checkpointSignatures = Atomic<Int>(0)
    let checkpointsFromCache = Atomic<Int>(0)
    let rosterEntries = Atomic<Int>(0)
}

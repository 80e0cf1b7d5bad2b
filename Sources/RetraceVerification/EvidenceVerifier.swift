import CanonicalJSON
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import Synchronization

/// Verifies product evidence with only the trust anchors: the one codepath behind dock verdicts,
/// histories, proof-of-recycling and offline bundles, whether the evidence came from a ledger
/// database or from a bundle file.
///
/// Checks, in order: the checkpoint's signature under the log key; each entry's inclusion proof in
/// the checkpoint's root; the roster chain from the governance keys; each statement's signature
/// under the roster in force at its log position; the chain links (commission first, each
/// `previous` the prior event's id); and the lifecycle rules, re-applied to recompute the state.
///
/// Verified roster prefixes are cached (keyed by the exact leaf hashes and indices), so checking
/// many products of one ledger parses the roster and checks its signatures once.
public final class EvidenceVerifier: Sendable {
    public let anchors: TrustAnchors
    private let rosterCache: Mutex<[[UInt8]: TrustState]>

    public init(anchors: TrustAnchors) {
        self.anchors = anchors
        self.rosterCache = Mutex([:])
    }

    /// Verifies a bundle file's bytes.
    public func verify(bytes: [UInt8]) throws(VerificationError) -> VerifiedBundle {
        try verify(ProofBundle(parsing: bytes))
    }

    public func verify(_ bundle: ProofBundle) throws(VerificationError) -> VerifiedBundle {
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.open(bundle.checkpoint, verifiers: [anchors.logKey], origin: anchors.origin)
        } catch {
            throw VerificationError(.checkpointInvalid, "the checkpoint does not verify under the log key: \(error)")
        }
        // Every inclusion proof first: cheap hashing, and a changed entry is refused before any parsing.
        let rosterBytes = try bundle.roster.map { (item) throws(VerificationError) in
            try includedBytes(item, checkpoint: checkpoint)
        }
        let chainBytes = try bundle.products.map { (chain) throws(VerificationError) in
            try chain.events.map { (item) throws(VerificationError) in try includedBytes(item, checkpoint: checkpoint) }
        }
        let certificateBytes = try bundle.certificate.map { (item) throws(VerificationError) in
            try includedBytes(item, checkpoint: checkpoint)
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
        for (chain, bytes) in zip(bundle.products, chainBytes) {
            guard seen.insert(chain.product).inserted else {
                throw VerificationError(.malformedBundle, "the chain of \(chain.product) appears twice")
            }
            products.append(try verifyChain(chain, bytes: bytes, checkpoint: checkpoint, rosters: rosters))
        }
        var certificate: VerifiedCertificate?
        if let item = bundle.certificate, let bytes = certificateBytes {
            let verified = try verifyCertificate(item, bytes: bytes, rosters: rosters)
            try checkCoverage(verified, products: products)
            certificate = verified
        } else if products.count != 1 {
            throw VerificationError(.malformedBundle, "a product bundle carries exactly one chain")
        }
        return VerifiedBundle(checkpoint: checkpoint, products: products, certificate: certificate, trust: newest)
    }

    // MARK: Entries

    /// The entry's canonical bytes, once its inclusion proof leads to the checkpoint's root.
    private func includedBytes(_ item: BundleEntry, checkpoint: Checkpoint) throws(VerificationError) -> [UInt8] {
        let bytes: [UInt8]
        do { bytes = try CanonicalJSON.encode(.object(item.entry)) } catch {
            throw VerificationError(
                .malformedBundle, "entry \(item.index) cannot be encoded: \(error)", index: item.index)
        }
        do {
            try MerkleProof.verifyInclusion(
                leafHash: MerkleHash.leafHash(bytes), leafIndex: item.index, treeSize: checkpoint.size,
                proof: item.proof, rootHash: checkpoint.rootHash)
        } catch {
            throw VerificationError(
                .inclusionFailed,
                "entry \(item.index) is not included in the checkpoint of size \(checkpoint.size): \(error.reason)",
                index: item.index)
        }
        return bytes
    }

    private func parseEntry(
        _ item: BundleEntry, bytes: [UInt8], members: [BatchMember]
    ) throws(VerificationError) -> LogEntry {
        do {
            if !members.isEmpty { return try LogEntry(parsing: bytes, members: members) }
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
            let statement = try Statement(json: statementValue, path: "entry.statement")
            return LogEntry(received: received, signed: SignedStatement(statement: statement, signature: signature))
        } catch {
            throw VerificationError(.malformedBundle, "entry \(item.index): \(error)", index: item.index)
        }
    }

    // MARK: Roster

    typealias RosterPoint = (index: UInt64, trust: TrustState)

    private func verifyRoster(_ items: [BundleEntry], bytes rosterBytes: [[UInt8]]) throws(VerificationError)
        -> [RosterPoint]
    {
        var trust = TrustState(trustRoots: anchors.governance)
        var points: [RosterPoint] = []
        var key: [UInt8] = []
        for (position, (item, bytes)) in zip(items, rosterBytes).enumerated() {
            if position == 0, item.index != 0 {
                throw VerificationError(
                    .rosterInvalid, "the first roster must be log entry 0, found \(item.index)", index: item.index)
            }
            if let last = points.last, item.index <= last.index {
                throw VerificationError(.rosterInvalid, "roster entries are not in log order", index: item.index)
            }
            var material = key
            withUnsafeBytes(of: item.index.bigEndian) { material.append(contentsOf: $0) }
            material.append(contentsOf: MerkleHash.leafHash(bytes))
            key = SHA256.hash(material)
            if let cached = rosterCache.withLock({ $0[key] }) {
                // The same roster entries, at the same indices, after the same prefix: verified before.
                trust = cached
            } else {
                let entry = try parseEntry(item, bytes: bytes, members: [])
                guard entry.statement.type == .roster else {
                    throw VerificationError(
                        .rosterInvalid, "entry \(item.index) is a \(entry.statement.type), not a roster",
                        index: item.index)
                }
                do { trust = try trust.applying(roster: entry.signed) } catch {
                    throw VerificationError(
                        .rosterInvalid, "roster entry \(item.index) does not follow from the trust roots: \(error)",
                        index: item.index)
                }
                let state = trust
                rosterCache.withLock { cache in
                    if cache.count > 1024 { cache.removeAll() }
                    cache[key] = state
                }
            }
            points.append((item.index, trust))
        }
        return points
    }

    private func trust(at index: UInt64, rosters: [RosterPoint]) throws(VerificationError) -> TrustState {
        guard let point = rosters.last(where: { $0.index < index }) else {
            throw VerificationError(.authenticationFailed, "no roster precedes entry \(index)", index: index)
        }
        return point.trust
    }

    // MARK: Chains

    private func verifyChain(
        _ chain: ProofBundle.Chain, bytes chainBytes: [[UInt8]], checkpoint: Checkpoint, rosters: [RosterPoint]
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
        for (position, (item, bytes)) in zip(chain.events, chainBytes).enumerated() {
            let entry = try parseEntry(item, bytes: bytes, members: [])
            let statement = entry.statement
            let id = statement.id
            if let last = events.last {
                guard item.index > last.index else {
                    throw VerificationError(
                        .chainBroken,
                        "entry \(item.index) comes after entry \(last.index) in the chain but not in the log",
                        index: item.index)
                }
                guard entry.received >= last.entry.received else {
                    throw VerificationError(
                        .timeInvalid, "entry \(item.index) was received before entry \(last.index)", index: item.index)
                }
            }
            guard statement.time.secondsSinceEpoch <= entry.received.secondsSinceEpoch + 300 else {
                throw VerificationError(
                    .timeInvalid, "the statement is dated \(statement.time), after its receipt \(entry.received)",
                    index: item.index)
            }
            let subject: SGTIN?
            let previous: Digest?
            if let batch = statement.batch {
                guard let member = item.member, let memberIndex = item.memberIndex, item.members.isEmpty else {
                    throw VerificationError(
                        .malformedBundle, "batch entry \(item.index) needs member, memberIndex and memberProof",
                        index: item.index)
                }
                do {
                    try MerkleProof.verifyInclusion(
                        leafHash: member.leafHash, leafIndex: memberIndex, treeSize: UInt64(max(batch.count, 0)),
                        proof: item.memberProof, rootHash: batch.root.bytes)
                } catch {
                    throw VerificationError(
                        .memberProofFailed,
                        "\(member.product.digitalLink) is not member \(memberIndex) of batch \(id.short): "
                            + error.reason,
                        index: item.index)
                }
                subject = member.product
                previous = member.previous
            } else {
                guard item.member == nil, item.members.isEmpty else {
                    throw VerificationError(
                        .malformedBundle, "entry \(item.index) is not a batch statement but carries members",
                        index: item.index)
                }
                subject = statement.product
                previous = statement.previous
            }
            guard let subject, subject == product else {
                throw VerificationError(
                    .chainBroken,
                    "entry \(item.index) is about \(subject?.digitalLink ?? "no product"), "
                        + "not \(chain.product)", index: item.index)
            }
            if let last = events.last {
                guard previous == last.id else {
                    throw VerificationError(
                        .chainBroken,
                        "entry \(item.index) (\(statement.type)) names previous \(previous?.short ?? "none"), but the "
                            + "prior event is \(last.id.short) (entry \(last.index)): "
                            + "an event is missing or out of order",
                        index: item.index)
                }
            } else {
                guard statement.type == .commission, position == 0 else {
                    throw VerificationError(
                        .chainBroken, "the chain of \(chain.product) starts with \(statement.type), not commission",
                        index: item.index)
                }
            }
            let trust = try trust(at: item.index, rosters: rosters)
            let party: Party
            do { party = try trust.authenticate(entry.signed) } catch {
                throw VerificationError(
                    .authenticationFailed, "entry \(item.index): \(error.reason)", index: item.index)
            }
            if let endOfLife {
                throw VerificationError(
                    .eventAfterEndOfLife,
                    "\(chain.product) was \(endOfLife.state.phase) by \(endOfLife.party.name) "
                        + "(event \(endOfLife.id.short), entry \(endOfLife.index)), yet \(party.name) recorded "
                        + "\(statement.type) (event \(id.short), entry \(item.index)): a cloned serial or a false "
                        + "end-of-life claim",
                    index: item.index, events: [endOfLife.id.hex, id.hex])
            }
            let next: ProductState
            do {
                next = try Lifecycle.apply(
                    statement, product: product, eventID: id, state: state, signer: party, trust: trust)
            } catch {
                throw VerificationError(
                    .lifecycleViolation, "entry \(item.index): rule \(error.rule): \(error.reason)", index: item.index)
            }
            state = next
            let event = VerifiedEvent(
                index: item.index, id: id, entry: entry, member: item.member, memberIndex: item.memberIndex,
                party: party, state: next)
            if next.phase.isTerminal, endOfLife == nil { endOfLife = event }
            events.append(event)
        }
        guard let state else { throw VerificationError(.chainBroken, "the chain of \(chain.product) has no events") }
        return VerifiedProduct(product: product, events: events, state: state, checkpoint: checkpoint)
    }

    // MARK: Certificates

    private func verifyCertificate(
        _ item: BundleEntry, bytes: [UInt8], rosters: [RosterPoint]
    ) throws(VerificationError) -> VerifiedCertificate {
        guard !item.members.isEmpty, item.member == nil else {
            throw VerificationError(
                .malformedBundle, "the certificate carries all its members and no single member", index: item.index)
        }
        let entry = try parseEntry(item, bytes: bytes, members: item.members)
        guard entry.statement.batch != nil else {
            throw VerificationError(.certificateMismatch, "the certificate is not a batch statement", index: item.index)
        }
        let trust = try trust(at: item.index, rosters: rosters)
        let party: Party
        do { party = try trust.authenticate(entry.signed) } catch {
            throw VerificationError(
                .authenticationFailed, "certificate entry \(item.index): \(error.reason)", index: item.index)
        }
        return VerifiedCertificate(
            index: item.index, id: entry.statement.id, entry: entry, members: item.members, party: party, trust: trust)
    }

    /// A certificate bundle carries exactly the chains of the certificate's members, each through it.
    private func checkCoverage(
        _ certificate: VerifiedCertificate, products: [VerifiedProduct]
    ) throws(VerificationError) {
        let byProduct = Dictionary(products.map { ($0.product, $0) }, uniquingKeysWith: { first, _ in first })
        guard products.count == certificate.members.count else {
            throw VerificationError(
                .certificateMismatch,
                "the certificate has \(certificate.members.count) members but the bundle \(products.count) chains")
        }
        for member in certificate.members {
            guard let chain = byProduct[member.product],
                chain.events.contains(where: { $0.id == certificate.id && $0.member == member })
            else {
                throw VerificationError(
                    .certificateMismatch,
                    "the chain of member \(member.product.digitalLink) does not pass through the certificate",
                    index: certificate.index)
            }
        }
    }
}

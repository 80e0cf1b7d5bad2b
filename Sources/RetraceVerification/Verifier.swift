import Dispatch
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceStorage
import VerifiableMap

/// Verification over a ledger store: dock verdicts, histories, bundles and proofs of recycling.
///
/// Every answer is built by gathering the evidence into a ``ProofBundle`` and verifying it with
/// ``EvidenceVerifier`` against the trust anchors, the same codepath an offline bundle takes;
/// nothing is answered from a bare database lookup. The anchors should come from configuration
/// the verifier trusts, not from the database it checks (``init(ledger:)`` is a convenience that
/// takes them from the ledger's metadata).
public final class Verifier: Sendable {
    public let store: any LedgerStore
    public let evidence: EvidenceVerifier
    private let clock: @Sendable () -> Timestamp
    /// Upper Merkle nodes kept across scans while the log is proven append-only (see ``MerkleNodeCache``).
    let nodes: MerkleNodeCache
    /// Recycle statements by certificate number, read once and then only for new entries.
    private let certificates: CertificateIndex
    /// The heads map at the checkpoints scans are proven against, built once and then moved forward.
    public let heads: HeadsIndex

    public init(
        store: any LedgerStore,
        anchors: TrustAnchors,
        clock: @escaping @Sendable () -> Timestamp = Ledger.systemClock
    ) {
        self.store = store
        self.evidence = EvidenceVerifier(anchors: anchors)
        self.clock = clock
        self.nodes = MerkleNodeCache()
        self.certificates = CertificateIndex()
        self.heads = HeadsIndex()
    }

    public convenience init(ledger: Ledger, clock: @escaping @Sendable () -> Timestamp = Ledger.systemClock) {
        self.init(
            store: ledger.store,
            anchors: TrustAnchors(governance: ledger.trustRoots, logKey: ledger.logKey, origin: ledger.origin),
            clock: clock
        )
    }

    /// Parses a scan in any identity form.
    public static func product(scan: String) throws(VerificationError) -> SGTIN {
        do { return try IdentityParser.parse(scan).sgtin } catch {
            throw VerificationError(.invalidScan, "\"\(scan)\" is not a product identity: \(error)")
        }
    }

    // MARK: Bundles

    /// The offline proof bundle of a product.
    public func bundle(scan: String) throws(VerificationError) -> ProofBundle {
        let product = try Self.product(scan: scan)
        prepareProofs(product)
        guard
            let bundle = try read({ reader throws(VerificationError) in
                try EvidenceCollector.productBundle(product, reader: reader, heads: heads)
            })
        else {
            // No rows: believed only if the checkpoint's heads map proves the product absent.
            _ = try read { reader throws(VerificationError) in
                try EvidenceCollector.absence(product, reader: reader, heads: heads)
            }
            throw VerificationError(.notFound, "\(product.digitalLink) was never commissioned in this ledger")
        }
        return bundle
    }

    /// The certificate bundles of every recycle statement with this certificate number.
    public func certificateBundles(certificate: String) throws(VerificationError) -> [ProofBundle] {
        try read { reader throws(VerificationError) in
            var bundles: [ProofBundle] = []
            for index in try recycleEntries(certificate: certificate, reader: reader) {
                guard let stored = try? reader.entry(at: index), !stored.members.isEmpty else { continue }
                bundles.append(try EvidenceCollector.certificateBundle(at: index, reader: reader, heads: heads))
            }
            return bundles
        }
    }

    /// The evidence behind a certificate number, for a client that checks it itself: the certificate
    /// bundle of each batch recycle statement carrying it, and the products recycled by a single
    /// statement carrying it (their own bundles are the evidence).
    public func certificateEvidence(
        certificate: String
    ) throws(VerificationError)
        -> (bundles: [ProofBundle], products: [String])
    {
        try read { reader throws(VerificationError) in
            var bundles: [ProofBundle] = []
            var products: [String] = []
            for index in try recycleEntries(certificate: certificate, reader: reader) {
                guard let stored = try? reader.entry(at: index) else {
                    throw VerificationError(.storage, "entry \(index) cannot be read", index: index)
                }
                if !stored.members.isEmpty {
                    bundles.append(try EvidenceCollector.certificateBundle(at: index, reader: reader))
                } else if let entry = try? LogEntry(parsing: stored.bytes), let product = entry.statement.product {
                    products.append(product.digitalLink)
                }
            }
            return (bundles, products)
        }
    }

    /// The roster chain with its proofs, for a client that verifies who is trusted itself.
    public func rosterBundle() throws(VerificationError) -> ProofBundle {
        try read { reader throws(VerificationError) in try EvidenceCollector.rosterBundle(reader: reader) }
    }

    /// The class bundle of a GTIN-14 (`GET /v1/classes/{gtin}`), gathered and verified here first.
    public func classBundle(gtin: String) throws(VerificationError) -> ProofBundle {
        let bundle = try read { reader throws(VerificationError) in
            try EvidenceCollector.classBundle(gtin: gtin, reader: reader, heads: heads)
        }
        do { _ = try evidence.verifyClass(bundle, gtin: gtin) } catch {
            heads.removeAll()
            nodes.removeAll()
            throw VerificationError(
                .ledgerIntegrityFailure,
                "the class chain of \(gtin) read from the ledger does not verify: \(error.reason)"
            )
        }
        return bundle
    }

    /// The product's verified evidence.
    public func verifiedProduct(scan: String) throws(VerificationError) -> VerifiedProduct {
        let product = try Self.product(scan: scan)
        let gathered = try whilePrewarming(product) { () throws(VerificationError) in try bundle(scan: scan) }
        let verified: VerifiedBundle
        do { verified = try evidence.verify(gathered) } catch {
            nodes.removeAll()
            throw Self.ownEvidence(error)
        }
        guard let item = verified.products.first(where: { $0.product == product }) else {
            throw VerificationError(.notFound, "the evidence does not cover \(product.digitalLink)")
        }
        return item
    }

    // MARK: Answers

    /// The dock verdict for a scanned item. Throws only for a scan that is not a product identity
    /// or a store that cannot be read; every finding about the product is a verdict.
    public func verdict(_ request: DockRequest) throws(VerificationError) -> DockVerdict {
        let product = try Self.product(scan: request.scan)
        let now = request.now ?? clock()
        let gathered: DockEvidence
        do {
            gathered = try whilePrewarming(product) { () throws(VerificationError) in
                try dockEvidence(product, form: .undecoded)
            }
        } catch {
            guard error.code != .storage else { throw error }
            return integrityFailure(product, error)
        }
        let verdict = try evidence.verdict(request, evidence: gathered, now: now)
        if verdict.code == .ledgerIntegrityFailure {
            nodes.removeAll()
            heads.removeAll()
        }
        return verdict
    }

    /// The evidence a dock verdict is judged from, for a client that judges it itself.
    public func dockEvidence(scan: String) throws(VerificationError) -> DockEvidence {
        try dockEvidence(try Self.product(scan: scan), form: .decoded)
    }

    /// A product's verified history.
    public func history(scan: String) throws(VerificationError) -> ProductHistory {
        ProductHistory(try verifiedProduct(scan: scan))
    }

    /// Proof of recycling for a scanned product; a batch recycle is checked with its whole certificate.
    public func recyclingProof(scan: String) throws(VerificationError) -> RecyclingProof {
        let product = try Self.product(scan: scan)
        let bundle: ProofBundle
        do { bundle = try self.bundle(scan: scan) } catch {
            if error.code == .notFound || error.code == .invalidScan || error.code == .storage { throw error }
            return recyclingFailure(product, error)
        }
        let verified: VerifiedBundle
        do { verified = try evidence.verify(bundle) } catch { return recyclingFailure(product, error) }
        if let recycle = verified.products.first?.events.first(where: { $0.statement.type == .recycle }),
            recycle.statement.batch != nil
        {
            do {
                let certificate = try read { reader throws(VerificationError) in
                    try EvidenceCollector.certificateBundle(at: recycle.index, reader: reader, heads: heads)
                }
                return ProofOfRecycling.check(product, evidence: try evidence.verify(certificate))
            } catch {
                return recyclingFailure(product, error)
            }
        }
        return ProofOfRecycling.check(product, evidence: verified)
    }

    /// Proofs of recycling for every product a certificate number covers (found by scanning the log).
    public func recyclingProofs(certificate: String) throws(VerificationError) -> [RecyclingProof] {
        let indices = try read { reader throws(VerificationError) in
            try recycleEntries(certificate: certificate, reader: reader)
        }
        guard !indices.isEmpty else {
            throw VerificationError(.notFound, "no recycle statement carries certificate \(certificate)")
        }
        var proofs: [RecyclingProof] = []
        for index in indices {
            let bundle = try read { reader throws(VerificationError) -> ProofBundle? in
                guard let stored = try? reader.entry(at: index) else { return nil }
                if !stored.members.isEmpty {
                    return try EvidenceCollector.certificateBundle(at: index, reader: reader, heads: heads)
                }
                return nil
            }
            if let bundle {
                let verified: VerifiedBundle
                do { verified = try evidence.verify(bundle) } catch { throw Self.ownEvidence(error) }
                proofs += verified.products.map { ProofOfRecycling.check($0.product, evidence: verified) }
            } else {
                let scan = try read { reader throws(VerificationError) -> String in
                    guard let stored = try? reader.entry(at: index),
                        let entry = try? LogEntry(parsing: stored.bytes), let product = entry.statement.product
                    else { throw VerificationError(.storage, "entry \(index) cannot be read", index: index) }
                    return product.digitalLink
                }
                proofs.append(try recyclingProof(scan: scan))
            }
        }
        return proofs
    }

    /// What a dock verdict is judged from: the product's own bundle, or else the bundles of other
    /// products that carry the same serial (a substitution or a relabelled item), with the latest
    /// checkpoint note when nothing matches.
    ///
    /// `form` is `.undecoded` for a verdict judged here, `.decoded` for evidence served to a dock
    /// that judges it itself (``EvidenceCollector/EntryForm``).
    private func dockEvidence(
        _ product: SGTIN,
        form: EvidenceCollector.EntryForm
    ) throws(VerificationError) -> DockEvidence {
        prepareProofs(product)
        return try read { reader throws(VerificationError) in
            if let bundle = try EvidenceCollector.productBundle(product, reader: reader, heads: heads, form: form) {
                return DockEvidence(bundle: bundle, others: [], checkpoint: nil)
            }
            var others: [ProofBundle] = []
            let rows: [ProductRow]
            do { rows = try reader.products(withSerial: product.serial.value) } catch {
                throw VerificationError(.storage, "looking up serial \(product.serial.value): \(error)")
            }
            for row in rows where row.product != product.digitalLink {
                if let other = try EvidenceCollector.productBundle(
                    try Self.product(scan: row.product),
                    reader: reader,
                    heads: heads,
                    form: form
                ) {
                    others.append(other)
                }
            }
            guard others.isEmpty, (try? reader.latestCheckpoint()) != nil else {
                return DockEvidence(bundle: nil, others: others, checkpoint: nil)
            }
            let absence = try EvidenceCollector.absence(product, reader: reader, heads: heads)
            return DockEvidence(bundle: nil, others: [], checkpoint: absence.checkpoint, absence: absence.proof)
        }
    }

    /// A failure of evidence this verifier gathered from the ledger's own database: a chain that
    /// is not the one the signed heads map commits to means the database's rows were changed, not
    /// that someone handed over a short bundle.
    static func ownEvidence(_ error: VerificationError) -> VerificationError {
        guard error.code == .incompleteHistory else { return error }
        return VerificationError(
            .ledgerIntegrityFailure,
            "the ledger's rows disagree with its signed heads map: \(error.reason)",
            index: error.index,
            events: error.events
        )
    }

    /// Entries read so far to find recycle statements by certificate (the index's first build,
    /// then only new entries).
    public var certificateIndexEntriesRead: Int { certificates.statistics }

    /// Builds the certificate index ahead of the first lookup (a service does it in the background
    /// after it starts, so no client waits for the one full read of the log). `shouldStop` is asked
    /// as it goes; a stopped build leaves nothing half-made and is simply redone by the next lookup.
    public func prepareCertificateIndex(shouldStop: () -> Bool) throws(VerificationError) {
        try read { reader throws(VerificationError) in
            do { try certificates.update(reader: reader, shouldStop: shouldStop) } catch is CancellationError {
                return
            } catch {
                throw VerificationError(.storage, "indexing recycling certificates: \(error)")
            }
        }
    }

    private func recycleEntries(certificate: String, reader: any LedgerReader) throws(VerificationError) -> [UInt64] {
        do { return try certificates.entries(certificate: certificate, reader: reader) } catch {
            throw VerificationError(.storage, "looking up certificate \(certificate): \(error)")
        }
    }

    /// Merkle node lookups of all scans so far, and how many the node cache answered.
    public var nodeStatistics: (lookups: Int, fromCache: Int) {
        let statistics = nodes.statistics
        return (statistics.lookups, statistics.hits)
    }

    /// A verdict of integrity failure; the node cache is emptied, so that a node read from damaged
    /// storage cannot keep failing scans once the storage is repaired.
    private func integrityFailure(_ product: SGTIN, _ error: VerificationError) -> DockVerdict {
        nodes.removeAll()
        heads.removeAll()
        return DockJudge.integrityFailure(product, error)
    }

    private func recyclingFailure(_ product: SGTIN, _ error: VerificationError) -> RecyclingProof {
        nodes.removeAll()
        return ProofOfRecycling.failure(product, error)
    }

    /// Runs `body` while a second core checks the signatures of the product's stored events (see
    /// ``prewarm(_:)``), then joins that core in checking what is left, so a first scan costs about
    /// half of the two together rather than the longer of them: the checks were the longer part
    /// (16.7 M instructions of a 20-event scan's 25 M, the gathering about 4 M; BENCHMARKS.md).
    ///
    /// The background read must end before the call that started it returns: a process that
    /// exits (the CLI after a not-found) while it still hashes crashes in libcrypto's exit-time
    /// cleanup. Hence the only way in is this function, which waits on every path, a throw included.
    private func whilePrewarming<T>(
        _ product: SGTIN,
        _ body: () throws(VerificationError) -> T
    )
        throws(VerificationError) -> T
    {
        let warming = prewarm(product)
        defer { warming?.group.wait() }
        let result = try body()
        warming?.shared.work.withLock { $0 }?.drain()
        return result
    }

    /// Fills ``EvidenceVerifier``'s event cache, keyed by the exact bytes, while this core gathers
    /// the proofs (the larger part of a scan's reading); the verification that follows is unchanged.
    /// Not on a store that prefers one snapshot per reader (``LedgerStore/prefersParallelReads``).
    /// `work` is the checks, once the second core has read the entries: the gathering core takes
    /// its share of them from there.
    private func prewarm(_ product: SGTIN) -> (group: DispatchGroup, shared: SharedPrewarm)? {
        guard Parallelism.cores > 1, store.prefersParallelReads else { return nil }
        let group = DispatchGroup()
        let store = self.store
        let evidence = self.evidence
        let shared = SharedPrewarm()
        DispatchQueue.global(qos: .userInitiated).async(group: group) {
            let stored = try? store.read { reader in
                // Both chains' entries in one read each (one query on PostgreSQL).
                let rosterLinks = try reader.chain(Ledger.rosterChain)
                let chainLinks = try reader.chain(product.digitalLink)
                let read = try reader.entries(at: rosterLinks.map(\.index) + chainLinks.map(\.index))
                // The stored leaf hashes only find what is cached already (see
                // EvidenceVerifier.prewarm): a scan whose signatures are all checked hashes nothing here.
                let roster = rosterLinks.compactMap { link in
                    read[link.index].map { (index: link.index, leafHash: $0.leafHash) }
                }
                let entries = chainLinks.compactMap { link in
                    read[link.index].map { (index: link.index, bytes: $0.bytes, storedLeafHash: $0.leafHash) }
                }
                return (roster, entries)
            }
            guard let stored else { return }
            let work = evidence.prewarm(roster: stored.0, entries: stored.1)
            shared.work.withLock { $0 = work }
            work.drain()
        }
        return (group, shared)
    }

    /// The product's inclusion proofs, built ahead with their nodes read on all cores (see
    /// ``NodePrefetch``), where the store gains by parallel reads.
    private func prepareProofs(_ product: SGTIN) {
        let cores = Parallelism.cores
        guard cores > 1, store.prefersParallelReads else { return }
        NodePrefetch.prepare(product: product.digitalLink, store: store, workers: cores, cache: nodes)
    }

    private func read<T>(_ body: (any LedgerReader) throws(VerificationError) -> T) throws(VerificationError) -> T {
        do {
            return try store.read { reader in
                nodes.anchor(to: reader)
                return try body(CachedNodeReader(base: reader, cache: nodes))
            }
        } catch let error as VerificationError {
            throw error
        } catch {
            throw VerificationError(.storage, "the ledger store cannot be read: \(error)")
        }
    }
}

/// Offline answers from a bundle file and the trust anchors alone.
extension EvidenceVerifier {
    /// The dock verdict from a product bundle (no database, no network).
    public func verdict(
        _ request: DockRequest,
        bundle bytes: [UInt8],
        now: Timestamp
    ) throws(VerificationError)
        -> DockVerdict
    {
        let product = try Verifier.product(scan: request.scan)
        do {
            return DockJudge.verdict(request, product: product, evidence: try verify(bytes: bytes), now: now)
        } catch {
            return DockJudge.integrityFailure(product, error)
        }
    }

    /// Proof of recycling from a bundle (a product bundle, or a certificate bundle for the batch's mass).
    public func recyclingProof(scan: String, bundle bytes: [UInt8]) throws(VerificationError) -> RecyclingProof {
        let product = try Verifier.product(scan: scan)
        do { return ProofOfRecycling.check(product, evidence: try verify(bytes: bytes)) } catch {
            return ProofOfRecycling.failure(product, error)
        }
    }
}

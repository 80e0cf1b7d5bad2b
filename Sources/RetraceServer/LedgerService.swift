import CanonicalJSON
import Logging
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceStorage
import RetraceVerification

/// What the HTTP routes call: the ledger's operations, each answering a JSON document or
/// throwing the ``Problem`` a client should see. Nothing here knows about HTTP routing, so the
/// same operations could sit behind another transport.
public final class LedgerService: Sendable {
    public let ledger: Ledger
    public let verifier: Verifier
    /// Nil when the service runs without the log key: it then serves reads only.
    public let sequencer: AppendSequencer?
    public let metrics: ServiceMetrics
    /// Set when checkpoints are sent to witnesses (`--witness-policy`).
    public let witnesses: WitnessPublication?
    /// Insights and the EPCIS query, folded over audited events (``AuditedView``).
    let audited: AuditedView
    /// Docks' signed scan journals (`retrace serve --scan-journal`), counted into `/v1/insights`
    /// and `/insights` at each request, so a journal a dock keeps appending to is always current.
    public let scanJournals: [String]
    let logger: Logger

    public init(
        ledger: Ledger,
        verifier: Verifier,
        canAppend: Bool,
        metrics: ServiceMetrics = ServiceMetrics(),
        witnesses: WitnessPublication? = nil,
        scanJournals: [String] = [],
        logger: Logger = Logger(label: "retrace.server")
    ) {
        self.ledger = ledger
        self.scanJournals = scanJournals
        self.verifier = verifier
        self.metrics = metrics
        self.witnesses = witnesses
        self.logger = logger
        // Gathering cosignatures is only triggered here; it runs beside the next commits.
        self.audited = AuditedView(store: ledger.store, anchors: verifier.evidence.anchors)
        self.sequencer =
            canAppend
            ? AppendSequencer(
                ledger: ledger,
                onCommit: { _, _ in
                    metrics.committed()
                    witnesses?.gatherer.checkpointSigned()
                }
            ) : nil
        if let size = try? ledger.store.read({ try $0.treeSize() }) { metrics.observe(treeSize: size) }
        witnesses?.gatherer.checkpointSigned()
    }

    // MARK: Appends

    /// Appends one all-or-nothing batch through the group-commit sequencer.
    func append(_ statements: [SignedStatement]) async throws(Problem) -> JSONValue {
        guard let sequencer else {
            throw Problem.refused(LedgerError(.wrongLogKey, "read-only service"))
        }
        switch await sequencer.append(statements) {
        case .success(let result):
            metrics.appended(statements: result.receipts.count, treeSize: result.treeSize)
            logger.info(
                "appended",
                metadata: [
                    "statements": "\(result.receipts.count)", "first": "\(result.receipts.first?.index ?? 0)",
                    "treeSize": "\(result.treeSize)",
                ]
            )
            return result.json
        case .failure(let error):
            metrics.refused()
            logger.notice(
                "append refused",
                metadata: ["code": "\(error.code)", "rule": "\(error.rule ?? "-")", "reason": "\(error.reason)"]
            )
            throw Problem.refused(error)
        }
    }

    // MARK: Verification

    func verdict(_ request: DockRequest) throws(Problem) -> DockVerdict {
        do {
            let verdict = try verifier.verdict(request)
            metrics.verdict(verdict.code.rawValue)
            if verdict.code == .ledgerIntegrityFailure { metrics.verificationFailed() }
            return verdict
        } catch { throw Problem.verification(error) }
    }

    /// The product's verified evidence; a failure of the ledger's own evidence is counted and reported.
    func verifiedProduct(_ product: SGTIN) throws(Problem) -> VerifiedProduct {
        do { return try verifier.verifiedProduct(scan: product.digitalLink) } catch {
            if ![.notFound, .invalidScan, .storage].contains(error.code) {
                metrics.verificationFailed()
                logger.error(
                    "ledger evidence does not verify",
                    metadata: ["product": "\(product)", "error": "\(error)"]
                )
            }
            throw Problem.verification(error)
        }
    }

    func bundle(_ product: SGTIN) throws(Problem) -> [UInt8] {
        do {
            let bundle = try verifier.bundle(scan: product.digitalLink)
            return try (witnesses?.cosignedBundle(bundle) ?? bundle).encoded()
        } catch {
            throw Problem.verification(error)
        }
    }

    /// What a dock verdict is judged from, for a client that recomputes the verdict itself.
    func dockEvidence(_ product: SGTIN) throws(Problem) -> DockEvidence {
        do { return try verifier.dockEvidence(scan: product.digitalLink) } catch { throw Problem.verification(error) }
    }

    /// The evidence behind a certificate number, for a client that checks it itself.
    func certificateEvidence(_ certificate: String) throws(Problem) -> (bundles: [ProofBundle], products: [String]) {
        let found: (bundles: [ProofBundle], products: [String])
        do { found = try verifier.certificateEvidence(certificate: certificate) } catch {
            throw Problem.verification(error)
        }
        guard !found.bundles.isEmpty || !found.products.isEmpty else {
            throw Problem.notFound("no recycle statement carries certificate \(certificate)")
        }
        return found
    }

    func recycling(_ product: SGTIN) throws(Problem) -> RecyclingProof {
        do {
            let proof = try verifier.recyclingProof(scan: product.digitalLink)
            countFailure(proof)
            return proof
        } catch { throw Problem.verification(error) }
    }

    func recycling(certificate: String) throws(Problem) -> [RecyclingProof] {
        let proofs: [RecyclingProof]
        do { proofs = try verifier.recyclingProofs(certificate: certificate) } catch {
            throw Problem.verification(error)
        }
        guard !proofs.isEmpty else { throw Problem.notFound("no recycle statement carries certificate \(certificate)") }
        return proofs
    }

    /// A recycling claim checked against a bundle the client uploaded: the bundle is the evidence,
    /// verified against this service's trust anchors only.
    func recycling(scan: String, bundle: [UInt8]) throws(Problem) -> RecyclingProof {
        // A document that is not a bundle is a malformed request; a bundle whose evidence fails is
        // an answer (status integrity-failure), like a flagged dock verdict.
        do { _ = try ProofBundle(parsing: bundle) } catch { throw Problem.verification(error, clientEvidence: true) }
        let proof: RecyclingProof
        do { proof = try verifier.evidence.recyclingProof(scan: scan, bundle: bundle) } catch {
            throw Problem.verification(error, clientEvidence: true)
        }
        countFailure(proof)
        return proof
    }

    /// Counts answers that expose a forgery or broken evidence, not mere "not recycled".
    private func countFailure(_ proof: RecyclingProof) {
        if [.integrityFailure, .reusedAfterRecycling, .implausibleMass, .notAccredited].contains(proof.status) {
            metrics.verificationFailed()
        }
    }

    // MARK: The log

    /// The checkpoint note `/checkpoint` publishes: cosigned when witnesses answered; with a
    /// required quorum, only one that has it.
    func publishedCheckpoint() throws(Problem) -> String {
        let latest = try latestCheckpoint()
        guard let witnesses else { return latest.note }
        guard let note = witnesses.published(latest: latest) else {
            throw Problem(
                .serviceUnavailable,
                code: "no-witnessed-checkpoint",
                title: "No checkpoint has a witness quorum yet",
                detail:
                    "this log publishes only checkpoints cosigned by \(witnesses.gatherer.policy.quorumDescription) "
                    + "witnesses, and none is yet; retry",
                extensions: ["retryable": .bool(true)]
            )
        }
        return note
    }

    func latestCheckpoint() throws(Problem) -> StoredCheckpoint {
        let stored: StoredCheckpoint?
        do { stored = try ledger.store.read { try $0.latestCheckpoint() } } catch { throw Self.storageProblem(error) }
        guard let stored else { throw Problem.notFound("the log has no checkpoint yet") }
        return stored
    }

    func logInfo() throws(Problem) -> JSONValue {
        let head = try latestCheckpoint()
        return .object([
            "origin": .string(ledger.origin), "logKey": .string(ledger.logKey.description),
            "governance": .array(ledger.trustRoots.map { .string($0.description) }),
            "treeSize": .integer(Int64(head.size)), "root": .string(Hex.encode(head.root)),
            "appends": .bool(sequencer != nil),
        ])
    }

    func inclusionProof(index: UInt64?, event: String?, treeSize: UInt64?) throws(Problem) -> JSONValue {
        let head = try latestCheckpoint()
        let size = treeSize ?? head.size
        guard size >= 1, size <= head.size else {
            throw Problem.badRequest("treeSize \(size) is not a checkpointed size (1…\(head.size))")
        }
        do {
            return try ledger.store.read { reader throws -> JSONValue in
                let leaf: UInt64
                if let index {
                    leaf = index
                } else if let event {
                    let id: Digest
                    do { id = try Digest(hex: event, field: "event") } catch {
                        throw Problem.badRequest("event=\(event) is not a 64-digit hex event id")
                    }
                    guard let found = try reader.entryIndex(eventID: id.bytes) else {
                        throw Problem.notFound("no entry has event id \(event)")
                    }
                    leaf = found
                } else {
                    throw Problem.badRequest("give index or event")
                }
                guard leaf < size, let entry = try reader.entry(at: leaf) else {
                    throw Problem.notFound("entry \(leaf) is not in the tree of size \(size)")
                }
                let proof = try MerkleTree.inclusionProof(leafIndex: leaf, treeSize: size, reader: reader)
                let root = try MerkleTree.rootHash(size: size, reader: reader)
                return .object([
                    "kind": .string("inclusion"), "index": .integer(Int64(leaf)), "treeSize": .integer(Int64(size)),
                    "event": .string(Hex.encode(entry.eventID)), "leafHash": .string(Hex.encode(entry.leafHash)),
                    "root": .string(Hex.encode(root)), "proof": .array(proof.map { .string(Hex.encode($0)) }),
                ])
            }
        } catch let problem as Problem { throw problem } catch { throw Self.storageProblem(error) }
    }

    func consistencyProof(from: UInt64, to: UInt64?) throws(Problem) -> JSONValue {
        let head = try latestCheckpoint()
        let size = to ?? head.size
        guard size >= 1, size <= head.size else {
            throw Problem.badRequest("to=\(size) is not a checkpointed size (1…\(head.size))")
        }
        guard from >= 1, from <= size else { throw Problem.badRequest("from must be 1…\(size), found \(from)") }
        do {
            return try ledger.store.read { reader in
                let proof = try MerkleTree.consistencyProof(from: from, to: size, reader: reader)
                return .object([
                    "kind": .string("consistency"), "from": .integer(Int64(from)), "to": .integer(Int64(size)),
                    "fromRoot": .string(Hex.encode(try MerkleTree.rootHash(size: from, reader: reader))),
                    "toRoot": .string(Hex.encode(try MerkleTree.rootHash(size: size, reader: reader))),
                    "proof": .array(proof.map { .string(Hex.encode($0)) }),
                ])
            }
        } catch { throw Self.storageProblem(error) }
    }

    /// The most entries one range request returns; mirrors page through larger ranges.
    static let maxEntriesPerPage: UInt64 = 1_000

    /// Entries `[start, end)` with their exact leaf bytes (base64), for mirrors and auditors who
    /// recompute the tree themselves.
    func entries(start: UInt64, end: UInt64?) throws(Problem) -> JSONValue {
        let head = try latestCheckpoint()
        guard start < head.size else {
            throw Problem.notFound("start=\(start) is at or past the checkpointed tree size \(head.size)")
        }
        guard end.map({ $0 > start }) ?? true else { throw Problem.badRequest("end must be greater than start") }
        // start < head.size, so start + page cannot overflow unless the tree itself is near 2^64.
        let stop = min(end ?? head.size, head.size, start.addingReportingOverflow(Self.maxEntriesPerPage).partialValue)
        var items: [JSONValue] = []
        do {
            try ledger.store.read { reader in
                try reader.forEachEntry(from: start, to: stop) { entry in
                    items.append(
                        .object([
                            "index": .integer(Int64(entry.index)), "entry": .string(Base64.encode(entry.bytes)),
                            "members": .array(entry.members.map { .string(Base64.encode($0)) }),
                        ])
                    )
                }
            }
        } catch { throw Self.storageProblem(error) }
        return .object([
            "start": .integer(Int64(start)), "end": .integer(Int64(stop)), "treeSize": .integer(Int64(head.size)),
            "entries": .array(items),
        ])
    }

    func health() -> (ok: Bool, json: JSONValue) {
        do {
            let size = try ledger.store.read { try $0.treeSize() }
            return (true, .object(["status": .string("ok"), "treeSize": .integer(Int64(size))]))
        } catch {
            return (false, .object(["status": .string("unavailable"), "detail": .string("the ledger cannot be read")]))
        }
    }

    static func storageProblem(_ error: any Error) -> Problem {
        if let problem = error as? Problem { return problem }
        if let merkle = error as? MerkleError {
            return Problem.badRequest("\(merkle.reason)")
        }
        return Problem(
            .serviceUnavailable,
            code: "storage-unavailable",
            title: "The ledger cannot be read now",
            detail: "the ledger's storage failed; retry",
            extensions: ["retryable": .bool(true)]
        )
    }
}

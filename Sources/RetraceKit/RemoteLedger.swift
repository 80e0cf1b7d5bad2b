import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import RetraceVerification

/// A remote ledger seen through the trust roots the party holds: every answer is recomputed here
/// from evidence the service returns (proof bundles, signed checkpoints, inclusion proofs), with
/// the same verification code the service itself runs.
///
/// What this buys (spec/verification.md §7): a lying or compromised service cannot make a client
/// print a verdict, history, proof of recycling or receipt that the evidence does not support;
/// it can only refuse, withhold, or show an older state — which the limits of §4.4 name.
public struct RemoteLedger: Sendable {
    public let client: LedgerClient
    public let anchors: TrustAnchors
    public let verifier: EvidenceVerifier

    public init(client: LedgerClient, anchors: TrustAnchors) {
        self.client = client
        self.anchors = anchors
        self.verifier = EvidenceVerifier(anchors: anchors)
    }

    // MARK: The log

    /// The service's latest checkpoint, once its signature verifies under the log key held here.
    public func checkpoint() async throws -> (checkpoint: Checkpoint, note: String) {
        let note = try await client.checkpointNote()
        return (try openCheckpoint(note, what: "the service's checkpoint"), note)
    }

    func openCheckpoint(_ note: String, what: String) throws -> Checkpoint {
        do { return try Checkpoint.open(note, verifiers: [anchors.logKey], origin: anchors.origin) } catch {
            throw VerificationError(
                .checkpointInvalid,
                "\(what) does not verify under the log key \(anchors.logKey.name): \(error)"
            )
        }
    }

    /// The roster in force, verified from the governance anchors held here.
    public func roster() async throws -> (checkpoint: Checkpoint, trust: TrustState) {
        let bundle = try ProofBundle(parsing: try await client.rosterBundle())
        return try verifier.verifyRoster(bundle)
    }

    /// An inclusion proof of entry `index` in the latest checkpoint, checked here: the entry's
    /// bytes (fetched) hash to a leaf the proof leads from to the checkpoint's signed root.
    public func provedEntry(index: UInt64) async throws -> (checkpoint: Checkpoint, entry: LogEntry, proof: [[UInt8]]) {
        let (checkpoint, _) = try await self.checkpoint()
        guard index < checkpoint.size else {
            throw VerificationError(.notFound, "index \(index) is not below the checkpoint's size \(checkpoint.size)")
        }
        let (bytes, entry) = try await fetchEntry(index)
        let answer = try await client.inclusionProof(index: index, treeSize: checkpoint.size)
        let proof = (answer["proof"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { Hex.decode($0) } }
        do {
            try MerkleProof.verifyInclusion(
                leafHash: MerkleHash.leafHash(bytes),
                leafIndex: index,
                treeSize: checkpoint.size,
                proof: proof,
                rootHash: checkpoint.rootHash
            )
        } catch {
            throw VerificationError(
                .inclusionFailed,
                "entry \(index) is not proven in checkpoint \(checkpoint.size): \(error)"
            )
        }
        return (checkpoint, entry, proof)
    }

    /// Entry `index` as the log holds it: its exact leaf bytes, parsed with its batch members.
    func fetchEntry(_ index: UInt64) async throws -> (bytes: [UInt8], entry: LogEntry) {
        let page = try await client.entries(start: index, end: index + 1)
        guard let first = page["entries"]?.arrayValue?.first?.objectValue, first["index"]?.integerValue == Int64(index),
            let bytes = first["entry"]?.stringValue.flatMap({ Base64.decode($0) })
        else {
            throw ClientError(.malformedAnswer, request: "GET /v1/entries", detail: "no entry \(index) in the answer")
        }
        do {
            let members = try (first["members"]?.arrayValue ?? []).enumerated().map { position, value in
                guard let memberBytes = value.stringValue.flatMap({ Base64.decode($0) }) else {
                    throw VerificationError(.inclusionFailed, "member \(position) of entry \(index) is not base64")
                }
                return try BatchMember(json: CanonicalJSON.decode(memberBytes), path: "members[\(position)]")
            }
            return (bytes, try LogEntry(parsing: bytes, members: members))
        } catch let error as VerificationError {
            throw error
        } catch {
            throw VerificationError(.inclusionFailed, "entry \(index) does not parse: \(error)")
        }
    }

    // MARK: Answers, recomputed here

    /// The dock verdict, judged here from the evidence the service gathers (never its own verdict).
    public func verdict(_ request: DockRequest, now: Timestamp) async throws -> DockVerdict {
        let product = try Verifier.product(scan: request.scan)
        let bytes = try await client.dockEvidence(product)
        let evidence: DockEvidence
        do throws(VerificationError) { evidence = try DockEvidence(parsing: bytes) } catch {
            return DockJudge.integrityFailure(product, error)
        }
        return try verifier.verdict(request, evidence: evidence, now: now)
    }

    /// The product's proof bundle from the service, verified here; it must cover the product.
    public func verifiedBundle(_ product: SGTIN) async throws -> (bytes: [UInt8], verified: VerifiedBundle) {
        let bytes = try await client.bundle(product)
        let verified = try verifier.verify(bytes: bytes)
        guard verified.products.contains(where: { $0.product == product }) else {
            throw VerificationError(
                .chainBroken,
                "the service's bundle for \(product.digitalLink) does not hold that product's chain"
            )
        }
        return (bytes, verified)
    }

    /// The product's history, recomputed from its verified bundle.
    public func history(_ product: SGTIN) async throws -> ProductHistory {
        let verified = try await verifiedBundle(product).verified
        guard let item = verified.products.first(where: { $0.product == product }) else {
            throw VerificationError(.notFound, "the evidence does not cover \(product.digitalLink)")
        }
        return ProductHistory(item)
    }

    /// The id of the product's latest event (its chain head), from its verified bundle; `nil` when
    /// the service says it was never commissioned (a commission then starts the chain, and the
    /// ledger refuses a second one, so a lie here cannot fork a chain).
    public func head(of product: SGTIN) async throws -> Digest? {
        do {
            let verified = try await verifiedBundle(product).verified
            return verified.products.first(where: { $0.product == product })?.events.last?.id
        } catch let error as ClientError where error.code == "not-found" {
            return nil
        }
    }

    /// Proof of recycling of one product; a batch recycle is checked with its whole certificate.
    public func recyclingProof(_ product: SGTIN) async throws -> RecyclingProof {
        let (bytes, verified) = try await verifiedBundle(product)
        let events = verified.products.first(where: { $0.product == product })?.events ?? []
        guard let recycle = events.first(where: { $0.statement.type == .recycle }), recycle.statement.batch != nil
        else {
            return try verifier.recyclingProof(scan: product.digitalLink, bundle: bytes)
        }
        guard let number = recycle.statement.details["certificate"]?.stringValue else {
            return try verifier.recyclingProof(scan: product.digitalLink, bundle: bytes)
        }
        let found = try await client.certificateEvidence(number)
        for value in found["bundles"]?.arrayValue ?? [] {
            let certificate = try Self.bundleBytes(value)
            let parsed = try ProofBundle(parsing: certificate)
            guard let entry = parsed.certificate, entry.index == recycle.index else { continue }
            return try verifier.recyclingProof(scan: product.digitalLink, bundle: certificate)
        }
        return ProofOfRecycling.failure(
            product,
            VerificationError(
                .certificateMismatch,
                "the service gave no certificate bundle for the batch recycle at index \(recycle.index) "
                    + "(certificate \(number))"
            )
        )
    }

    /// Proofs of recycling for every product the service says a certificate number covers, each
    /// checked here; a bundle of another certificate is refused, not counted.
    public func recyclingProofs(certificate: String) async throws -> [RecyclingProof] {
        let found = try await client.certificateEvidence(certificate)
        var proofs: [RecyclingProof] = []
        for value in found["bundles"]?.arrayValue ?? [] {
            let bundle = try ProofBundle(parsing: try Self.bundleBytes(value))
            let verified = try verifier.verify(bundle)
            guard let batch = verified.certificate,
                batch.entry.statement.details["certificate"]?.stringValue == certificate
            else {
                throw VerificationError(
                    .certificateMismatch,
                    "the service answered certificate \(certificate) with another certificate's bundle"
                )
            }
            proofs += try verifier.recyclingProofs(certificateBundle: bundle)
        }
        for value in found["products"]?.arrayValue ?? [] {
            guard let text = value.stringValue else {
                throw ClientError(
                    .malformedAnswer,
                    request: "GET certificate evidence",
                    detail: "a product is not a string"
                )
            }
            let product = try Verifier.product(scan: text)
            let proof = try await recyclingProof(product)
            let (_, verified) = try await verifiedBundle(product)
            let recycle = verified.products.first?.events.first(where: { $0.statement.type == .recycle })
            guard recycle?.statement.details["certificate"]?.stringValue == certificate else {
                throw VerificationError(
                    .certificateMismatch,
                    "\(text) was not recycled under certificate \(certificate)"
                )
            }
            proofs.append(proof)
        }
        return proofs
    }

    static func bundleBytes(_ value: JSONValue) throws -> [UInt8] {
        do { return try CanonicalJSON.encode(value) + [0x0A] } catch {
            throw VerificationError(.malformedBundle, "a bundle in the service's answer cannot be encoded: \(error)")
        }
    }

    // MARK: Appends

    /// What an append proved: each statement is in the log under a checkpoint verified here.
    public struct Receipt: Sendable, Hashable {
        public struct Entry: Sendable, Hashable {
            public let index: UInt64
            public let event: Digest
        }
        public let entries: [Entry]
        public let checkpoint: Checkpoint
        public let note: String
        /// How many times the statements were signed and sent (more than one after chain conflicts).
        public var attempts: Int = 1

        public var json: JSONValue {
            .object([
                "appended": .array(
                    entries.map { .object(["index": .integer(Int64($0.index)), "event": .string($0.event.hex)]) }
                ),
                "treeSize": .integer(Int64(checkpoint.size)), "root": .string(Hex.encode(checkpoint.rootHash)),
                "checkpoint": .string(note), "attempts": .integer(Int64(attempts)), "verified": .bool(true),
            ])
        }
    }

    /// Submits signed statements (one, or an all-or-nothing batch) and checks the receipt: the
    /// checkpoint it names verifies under the log key, and each statement's exact entry is proven
    /// included in it. A service that acknowledges without appending is caught here.
    public func append(_ statements: [SignedStatement]) async throws -> Receipt {
        let answer = try await client.submit(statements)
        let request = statements.count == 1 ? "POST /v1/events" : "POST /v1/batches"
        guard let note = answer["checkpoint"]?.stringValue, let appended = answer["appended"]?.arrayValue,
            appended.count == statements.count
        else {
            throw ClientError(
                .malformedAnswer,
                request: request,
                detail: "the receipt does not list \(statements.count) appended statements with a checkpoint"
            )
        }
        let checkpoint = try openCheckpoint(note, what: "the receipt's checkpoint")
        var entries: [Receipt.Entry] = []
        for (statement, item) in zip(statements, appended) {
            guard let object = item.objectValue, let index = object["index"]?.integerValue, index >= 0 else {
                throw ClientError(.malformedAnswer, request: request, detail: "a receipt entry has no index")
            }
            try await proveIncluded(statement, at: UInt64(index), in: checkpoint)
            entries.append(Receipt.Entry(index: UInt64(index), event: statement.id))
        }
        return Receipt(entries: entries, checkpoint: checkpoint, note: note)
    }

    /// The entry at `index` holds exactly `statement`, and its leaf is included in `checkpoint`.
    func proveIncluded(_ statement: SignedStatement, at index: UInt64, in checkpoint: Checkpoint) async throws {
        guard index < checkpoint.size else {
            throw VerificationError(
                .inclusionFailed,
                "the receipt puts \(statement.id.short) at index \(index), "
                    + "outside its checkpoint of size \(checkpoint.size)"
            )
        }
        let (bytes, entry) = try await fetchEntry(index)
        guard entry.signed.statement.canonicalBytes == statement.statement.canonicalBytes,
            entry.signed.signature == statement.signature
        else {
            throw VerificationError(
                .inclusionFailed,
                "entry \(index) is not the statement \(statement.id.short) the receipt claims"
            )
        }
        let proof = try await client.inclusionProof(index: index, treeSize: checkpoint.size)
        let hashes = (proof["proof"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { Hex.decode($0) } }
        do {
            try MerkleProof.verifyInclusion(
                leafHash: MerkleHash.leafHash(bytes),
                leafIndex: index,
                treeSize: checkpoint.size,
                proof: hashes,
                rootHash: checkpoint.rootHash
            )
        } catch {
            throw VerificationError(
                .inclusionFailed,
                "statement \(statement.id.short) is not proven in checkpoint \(checkpoint.size): \(error)",
                index: index
            )
        }
    }

    /// Builds, signs and appends, re-reading the chain heads and signing afresh after a chain
    /// conflict (someone appended to one of the products first), at most `attempts` times.
    /// `build` receives nothing but must read heads itself (``head(of:)``), so each attempt signs on
    /// the freshest heads the service shows.
    public func record(attempts: Int = 3, _ build: () async throws -> [SignedStatement]) async throws -> Receipt {
        var attempt = 1
        while true {
            let statements = try await build()
            do {
                var receipt = try await append(statements)
                receipt.attempts = attempt
                return receipt
            } catch let error as ClientError where error.code == "chain-conflict" && attempt < attempts {
                attempt += 1
            } catch let error as ClientError where error.code == "chain-conflict" {
                throw ClientError(
                    .refused,
                    request: error.request,
                    status: error.status,
                    code: error.code,
                    detail: "\(error.detail) (still conflicting after \(attempt) attempts)",
                    rule: error.rule
                )
            }
        }
    }
}

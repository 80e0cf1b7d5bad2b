import CanonicalJSON
import Foundation
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import RetraceVerification
import RetraceWitness

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
    /// The witness quorum (and freshness) every checkpoint the service shows must meet; `nil`
    /// demands none (then a split view or an old state cannot be told from the newest: §4.4).
    public let witnessing: WitnessRequirement?
    /// The newest witnessed checkpoint an answer relied on, to report.
    public let witnessed = WitnessRecord()

    public init(client: LedgerClient, anchors: TrustAnchors, witnessing: WitnessRequirement? = nil) {
        self.client = client
        self.anchors = anchors
        self.verifier = EvidenceVerifier(anchors: anchors)
        self.witnessing = witnessing
    }

    // MARK: The log

    /// The service's latest checkpoint, once its signature verifies under the log key held here.
    public func checkpoint() async throws -> (checkpoint: Checkpoint, note: String) {
        let note = try await client.checkpointNote()
        return (try await admit(note, what: "the service's checkpoint"), note)
    }

    /// A checkpoint the service showed, held to every pin: the log key, the origin and, with a
    /// witness policy, a quorum of witnesses on a tree that contains it (``WitnessRequirement``).
    /// - Throws: `VerificationError` for the signature or origin, `WitnessError` (`quorumNotMet`,
    ///   `stale`, `cosignatureInvalid` …) for the witnessing.
    public func admit(_ note: String, what: String) async throws -> Checkpoint {
        let checkpoint = try openCheckpoint(note, what: what)
        guard let witnessing else { return checkpoint }
        let direct = try WitnessedCheckpoint(note: note, policy: witnessing.policy, logKeys: [anchors.logKey])
        if direct.quorumMet {
            try witnessing.require(direct)
            witnessed.note(direct)
            return checkpoint
        }
        let deadline = Date().addingTimeInterval(witnessing.patience)
        while true {
            let served = try await client.checkpointNote()
            let published = try WitnessedCheckpoint(
                note: served,
                policy: witnessing.policy,
                logKeys: [anchors.logKey],
                origin: checkpoint.origin
            )
            if published.quorumMet, published.checkpoint.size >= checkpoint.size {
                try await proveExtends(checkpoint, to: published.checkpoint)
                try witnessing.require(published)
                witnessed.note(published)
                return checkpoint
            }
            guard Date() < deadline else {
                try published.requireQuorum()
                throw WitnessError(
                    .quorumNotMet,
                    "\(what) (size \(checkpoint.size)) is not yet witnessed: the newest checkpoint with the quorum "
                        + "has size \(published.checkpoint.size)"
                )
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// `newer` contains `older`: the same root at the same size, or a consistency proof checked here.
    func proveExtends(_ older: Checkpoint, to newer: Checkpoint) async throws {
        if older.size == newer.size {
            guard older.rootHash == newer.rootHash else {
                throw VerificationError(
                    .checkpointInvalid,
                    "the witnessed checkpoint of size \(newer.size) has another root than the evidence's: a split view"
                )
            }
            return
        }
        do {
            try await client.proveConsistency(from: (older.size, older.rootHash), to: (newer.size, newer.rootHash))
        } catch let error as MerkleError {
            throw VerificationError(
                .checkpointInvalid,
                "the evidence's checkpoint \(older.size) is not proven part of the witnessed checkpoint "
                    + "\(newer.size): \(error)"
            )
        }
    }

    /// Refuses a note for another log than the one pinned, naming both origins.
    func requireOrigin(_ note: String, what: String) throws {
        guard let pinned = anchors.origin else { return }
        let origin = note.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)
        guard origin == pinned else {
            throw VerificationError(
                .checkpointInvalid,
                "\(what) is for the log \"\(origin ?? "")\", not the origin \"\(pinned)\" you pinned (--origin)"
            )
        }
    }

    public func openCheckpoint(_ note: String, what: String) throws -> Checkpoint {
        try requireOrigin(note, what: what)
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
        try requireOrigin(bundle.checkpoint, what: "the roster bundle's checkpoint")
        let verified = try verifier.verifyRoster(bundle)
        _ = try await admit(bundle.checkpoint, what: "the roster bundle's checkpoint")
        return verified
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
        guard let first = page["entries"]?.arrayValue?.first?.objectValue else {
            throw ClientError(.malformedAnswer, request: "GET /v1/entries", detail: "no entry \(index) in the answer")
        }
        return try Self.parseEntry(first, index: index)
    }

    /// One item of `GET /v1/entries`: the entry at `index`, its leaf bytes and its batch members.
    static func parseEntry(_ item: JSONObject, index: UInt64) throws -> (bytes: [UInt8], entry: LogEntry) {
        guard item["index"]?.integerValue == Int64(index),
            let bytes = item["entry"]?.stringValue.flatMap({ Base64.decode($0) })
        else {
            throw ClientError(
                .malformedAnswer,
                request: "GET /v1/entries",
                detail: "entry \(index) is missing or misnumbered in the answer"
            )
        }
        do {
            let members = try (item["members"]?.arrayValue ?? []).enumerated().map { position, value in
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
        if let note = evidence.bundle?.checkpoint ?? evidence.checkpoint {
            try requireOrigin(note, what: "the evidence's checkpoint")
            let verdict = try verifier.verdict(request, evidence: evidence, now: now)
            _ = try await admit(note, what: "the evidence's checkpoint")
            return verdict
        }
        return try verifier.verdict(request, evidence: evidence, now: now)
    }

    /// The product's proof bundle from the service, verified here; it must cover the product.
    public func verifiedBundle(_ product: SGTIN) async throws -> (bytes: [UInt8], verified: VerifiedBundle) {
        let bytes = try await client.bundle(product)
        if let parsed = try? ProofBundle(parsing: bytes) {
            try requireOrigin(parsed.checkpoint, what: "the bundle's checkpoint")
        }
        let verified = try verifier.verify(bytes: bytes)
        guard verified.products.contains(where: { $0.product == product }) else {
            throw VerificationError(
                .chainBroken,
                "the service's bundle for \(product.digitalLink) does not hold that product's chain"
            )
        }
        if let parsed = try? ProofBundle(parsing: bytes) {
            _ = try await admit(parsed.checkpoint, what: "the bundle's checkpoint")
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

    /// The product class in force for a GTIN-14, from the service's class bundle verified here
    /// (its chain proven complete by the checkpoint's heads map); `nil` when the GTIN has none.
    public func productClass(gtin: String) async throws -> VerifiedProductClass? {
        let bundle = try ProofBundle(parsing: try await client.classBundle(gtin: gtin))
        try requireOrigin(bundle.checkpoint, what: "the class bundle's checkpoint")
        let verified = try verifier.verifyClass(bundle, gtin: gtin)
        _ = try await admit(bundle.checkpoint, what: "the class bundle's checkpoint")
        return verified.productClass
    }

    /// The id of a GTIN's newest `product-class` statement (its class chain head), `nil` when it
    /// has none: proven, not believed, so a first statement cannot be made to fork the chain.
    public func classHead(gtin: String) async throws -> Digest? {
        try await productClass(gtin: gtin)?.id
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
            try requireOrigin(bundle.checkpoint, what: "the certificate bundle's checkpoint")
            let verified = try verifier.verify(bundle)
            _ = try await admit(bundle.checkpoint, what: "the certificate bundle's checkpoint")
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
        // Proven included first, then witnessed: a quorum saw a tree that contains the statements.
        _ = try await admit(note, what: "the receipt's checkpoint")
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

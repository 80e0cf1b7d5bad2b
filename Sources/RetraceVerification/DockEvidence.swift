import CanonicalJSON
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import VerifiableMap

/// Everything a dock verdict is judged from, as one document a service can hand to a client that
/// judges for itself: the product's own bundle, or else the bundles of other products that carry
/// the same serial (a substitution), with the latest signed checkpoint that an absence is relative to
/// and, when that checkpoint commits to a heads map, the map's proof that the product has no chain.
///
/// Why a document: a client of a remote ledger must not take the service's verdict on its word.
/// With this it recomputes the verdict with ``EvidenceVerifier/verdict(_:evidence:now:)``, the
/// same function the service runs, so a service can withhold evidence but never forge a verdict
/// that the evidence does not support (spec/verification.md §7).
public struct DockEvidence: Hashable, Sendable {
    public static let format = "retrace-dock-evidence/v1"

    public let bundle: ProofBundle?
    /// Bundles of other products with the scanned serial; empty when ``bundle`` is present.
    public let others: [ProofBundle]
    /// The latest signed checkpoint note, when the product itself is unknown.
    public let checkpoint: String?
    /// The non-membership proof of the product in ``checkpoint``'s heads map (spec/format.md §5.3);
    /// required when that checkpoint carries a `retrace-heads/v1` line, so that a remote dock
    /// can tell a serial never commissioned from one whose rows the service withholds.
    public let absence: MapProof?

    public init(bundle: ProofBundle?, others: [ProofBundle], checkpoint: String?, absence: MapProof? = nil) {
        self.bundle = bundle
        self.others = others
        self.checkpoint = checkpoint
        self.absence = absence
    }

    public var json: JSONValue {
        .object([
            "absence": absence.map { .string(Base64.encode($0.bytes)) } ?? .null,
            "bundle": bundle?.json ?? .null, "checkpoint": checkpoint.map { .string($0) } ?? .null,
            "format": .string(Self.format), "others": .array(others.map(\.json)),
        ])
    }

    /// Parses the document strictly; each bundle is read as a `retrace-bundle/v1` file would be.
    public init(parsing bytes: [UInt8]) throws(VerificationError) {
        let value: JSONValue
        do { value = try CanonicalJSON.decode(bytes, options: .lenient) } catch {
            throw VerificationError(.malformedBundle, "the dock evidence is not JSON: \(error)")
        }
        guard let object = value.objectValue else {
            throw VerificationError(.malformedBundle, "the dock evidence is not a JSON object")
        }
        let known: Set<String> = ["absence", "bundle", "checkpoint", "format", "others"]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw VerificationError(.malformedBundle, "the dock evidence has an unknown member \"\(unknown)\"")
        }
        guard object["format"]?.stringValue == Self.format else {
            throw VerificationError(.unsupportedFormat, "the dock evidence is not \(Self.format)")
        }
        func bundle(_ value: JSONValue, _ what: String) throws(VerificationError) -> ProofBundle {
            do { return try ProofBundle(json: value) } catch {
                throw VerificationError(error.code, "\(what): \(error.reason)")
            }
        }
        switch object["bundle"] {
        case nil, .null?: self.bundle = nil
        case let value?: self.bundle = try bundle(value, "the product's bundle")
        }
        var others: [ProofBundle] = []
        for (position, value) in (object["others"]?.arrayValue ?? []).enumerated() {
            others.append(try bundle(value, "other bundle \(position)"))
        }
        self.others = others
        switch object["checkpoint"] {
        case nil, .null?: self.checkpoint = nil
        case .string(let note)?: self.checkpoint = note
        default: throw VerificationError(.malformedBundle, "the dock evidence's checkpoint is not a string")
        }
        switch object["absence"] {
        case nil, .null?: self.absence = nil
        case .string(let text)?:
            guard let bytes = Base64.decode(text) else {
                throw VerificationError(.malformedBundle, "the dock evidence's absence proof is not base64")
            }
            do { self.absence = try MapProof(bytes: bytes) } catch {
                throw VerificationError(.malformedBundle, "the dock evidence's absence proof cannot be read: \(error)")
            }
        default: throw VerificationError(.malformedBundle, "the dock evidence's absence proof is not a string")
        }
    }
}

extension EvidenceVerifier {
    /// The dock verdict from gathered evidence: every bundle verified under the anchors, then
    /// judged. Throws only for a scan that is not a product identity; a failure of the evidence is
    /// a `ledger-integrity-failure` verdict.
    public func verdict(
        _ request: DockRequest,
        evidence gathered: DockEvidence,
        now: Timestamp
    )
        throws(VerificationError) -> DockVerdict
    {
        let product = try Verifier.product(scan: request.scan)
        if let bundle = gathered.bundle {
            do {
                return DockJudge.verdict(request, product: product, evidence: try verify(bundle), now: now)
            } catch {
                return DockJudge.integrityFailure(product, error)
            }
        }
        if !gathered.others.isEmpty {
            var passports: [String] = []
            var models: [String] = []
            var size: UInt64?
            for other in gathered.others {
                do throws(VerificationError) {
                    let verified = try verify(other)
                    for item in verified.products {
                        // A bundle of the scanned product itself is no evidence of a substitution.
                        guard item.product != product, item.product.serial == product.serial else {
                            throw VerificationError(
                                .malformedBundle,
                                "a bundle offered as another product with serial "
                                    + "\(product.serial.value) covers \(item.product.digitalLink)"
                            )
                        }
                        passports.append(item.passport.hex)
                        let owner = verified.trust.party(id: item.state.brandOwner)?.name ?? item.state.brandOwner
                        models.append("GTIN \(item.product.gtin.digits) of \(owner)")
                        size = item.checkpoint.size
                    }
                } catch {
                    return DockJudge.integrityFailure(product, error)
                }
            }
            return DockVerdict(
                code: .productMismatch,
                message:
                    "STOP: serial \(product.serial.value) belongs to another model "
                    + "(\(models.joined(separator: "; "))), not to GTIN \(product.gtin.digits) on this box: "
                    + "the item or its label was swapped (substitution).",
                reasons: [
                    "no product \(product.digitalLink) was ever commissioned",
                    "the same serial was commissioned as: \(models.joined(separator: "; "))",
                ],
                evidence: passports,
                product: product.digitalLink,
                checkpointSize: size,
                suggestedDisposition: .quarantine
            )
        }
        // Absence is relative to a checkpoint: name one that verifies under the log key, and prove
        // the product absent from its heads map when it commits to one.
        var size: UInt64?
        var absenceProof: String?
        if let note = gathered.checkpoint {
            let checkpoint: Checkpoint
            do { checkpoint = try Checkpoint.open(note, verifiers: [anchors.logKey], origin: anchors.origin) } catch {
                return DockJudge.integrityFailure(
                    product,
                    VerificationError(.checkpointInvalid, "the latest checkpoint does not verify: \(error)")
                )
            }
            size = checkpoint.size
            if let root = checkpoint.headsRoot {
                do throws(MapError) {
                    guard let proof = gathered.absence else { throw MapError(.wrongKind, "no absence proof was given") }
                    try proof.verifyAbsence(key: MapKey.product(product.digitalLink), root: root)
                    absenceProof = Base64.encode(proof.bytes)
                } catch {
                    return DockJudge.integrityFailure(
                        product,
                        VerificationError(
                            .ledgerIntegrityFailure,
                            "\(product.digitalLink) cannot be proven absent from checkpoint \(checkpoint.size): \(error)"
                        )
                    )
                }
            }
        }
        var verdict = DockVerdict(
            code: .unknownSerial,
            message: "STOP: no brand ever registered serial \(product.serial.value) for GTIN \(product.gtin.digits): "
                + "the item is counterfeit or its serial was invented.",
            reasons: [
                "no commission of \(product.digitalLink) or of its serial under any GTIN, up to checkpoint "
                    + "\(size.map(String.init) ?? "none")"
                    + (absenceProof == nil ? "" : "; its absence is proven by the checkpoint's heads map")
            ],
            evidence: [],
            product: product.digitalLink,
            checkpointSize: size,
            suggestedDisposition: .quarantine
        )
        verdict.absenceProof = absenceProof
        return verdict
    }

    /// Proofs of recycling for every product a certificate bundle covers, under the anchors alone.
    public func recyclingProofs(certificateBundle bundle: ProofBundle) throws(VerificationError) -> [RecyclingProof] {
        let verified = try verify(bundle)
        guard verified.certificate != nil else {
            throw VerificationError(.malformedBundle, "the bundle is not a certificate bundle (it has no certificate)")
        }
        return verified.products.map { ProofOfRecycling.check($0.product, evidence: verified) }
    }
}

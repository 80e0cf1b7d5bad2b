import RetraceEvents
import RetraceIdentity
import RetraceRules

/// The answer to "was this unit really recycled?", built only from verified evidence.
///
/// Verified means: the recycle event is included in the signed checkpoint, signed by a recycler
/// whose accreditation was valid at the event's time, the batch certificate (if any) covers this
/// serial by a member proof, the recovered mass is plausible (``MassBalance``), and no event
/// follows the recycling. A recycled serial seen again is reported naming both events.
public struct RecyclingProof: Codable, Hashable, Sendable {
    public enum Status: String, Codable, Hashable, Sendable {
        case verified
        case notRecycled = "not-recycled"
        case notAccredited = "not-accredited"
        case implausibleMass = "implausible-mass"
        /// A later event or a dock sighting follows the recycling: fraud.
        case reusedAfterRecycling = "reused-after-recycling"
        case integrityFailure = "integrity-failure"
    }

    public struct AccreditationReference: Codable, Hashable, Sendable {
        public let scheme: String
        public let certificate: String
        public let validFrom: String
        public let validUntil: String
    }

    public let status: Status
    public let message: String
    public let product: String
    /// Id (hex) of the recycle event.
    public let recycleEvent: String?
    /// Id (hex) of the event that follows the recycling, when one does.
    public let laterEvent: String?
    /// The recycler's certificate of recycling number.
    public let certificate: String?
    public let recycler: ProductHistory.PartyReference?
    public let accreditation: AccreditationReference?
    /// For a batch certificate: how many products it covers and this one's member index.
    public let batchCount: Int64?
    public let memberIndex: UInt64?
    /// Grams recovered, as certified (for a batch: for the whole batch).
    public let recoveredGrams: Int64?
    /// Grams declared at commissioning (for a batch: summed over all members, when the evidence has them).
    public let declaredGrams: Int64?
    public let massCheck: MassBalance.Result
    public let checkpointSize: UInt64?
    public let reasons: [String]
}

/// Checks proofs of recycling from verified evidence (database or bundle alike).
public enum ProofOfRecycling {
    /// Checks one product of a verified bundle; a certificate bundle also checks the batch's mass.
    public static func check(_ product: SGTIN, evidence: VerifiedBundle) -> RecyclingProof {
        guard let item = evidence.products.first(where: { $0.product == product }) else {
            return failure(product, VerificationError(.notFound, "the evidence does not cover \(product.digitalLink)"))
        }
        let size = item.checkpoint.size
        guard let recycle = item.events.first(where: { $0.statement.type == .recycle }) else {
            return RecyclingProof(
                status: .notRecycled,
                message: "No recycling of \(product.digitalLink) is recorded; it is \(item.state.phase).",
                product: product.digitalLink,
                recycleEvent: nil,
                laterEvent: nil,
                certificate: nil,
                recycler: nil,
                accreditation: nil,
                batchCount: nil,
                memberIndex: nil,
                recoveredGrams: nil,
                declaredGrams: nil,
                massCheck: .unchecked,
                checkpointSize: size,
                reasons: ["\(item.events.count) events verified"]
            )
        }
        let details = (try? RecycleDetails(recycle.statement))
        let recovered = details?.totalGrams ?? 0
        let party = recycle.party
        let reference = ProductHistory.PartyReference(id: party.id, name: party.name, role: Role.recycler.name)
        let accreditation = party.recyclingAccreditation(at: recycle.statement.time)
        var declared = item.state.declaredMassGrams
        var reasons = [
            "recycle event \(recycle.id.short) is included at log index \(recycle.index) of checkpoint \(size)"
        ]
        if let batch = recycle.statement.batch {
            reasons.append(
                "member \(recycle.memberIndex ?? 0) of a batch of \(batch.count), proven by its member proof"
            )
            if let certificate = evidence.certificate, certificate.id == recycle.id {
                let masses = evidence.products.map(\.state.declaredMassGrams)
                declared = masses.contains(where: { $0 == nil }) ? nil : masses.reduce(0) { $0 + ($1 ?? 0) }
            } else {
                declared = nil
                reasons.append("the batch's mass is checked only with the certificate bundle (all members)")
            }
        }
        let mass = MassBalance.check(recovered: recovered, declared: declared)
        let later = item.events.last.flatMap { $0.id == recycle.id ? nil : $0 }
        let status: RecyclingProof.Status
        let message: String
        if let later {
            status = .reusedAfterRecycling
            message =
                "FRAUD: \(product.digitalLink) was recycled (event \(recycle.id.short)) yet \(later.party.name) "
                + "recorded \(later.statement.type) after it (event \(later.id.short))."
        } else if accreditation == nil {
            status = .notAccredited
            message = "\(party.name) held no recycling accreditation valid on \(recycle.statement.time)."
        } else if mass == .tooHigh || mass == .tooLow {
            status = .implausibleMass
            message = "\(recovered) g recovered is implausible against \(declared ?? 0) g declared (\(mass.rawValue))."
        } else {
            status = .verified
            message =
                "Recycled by \(party.name) on \(recycle.statement.time.description.prefix(10)) under "
                + "certificate \(details?.certificate ?? "?"); verified."
        }
        return RecyclingProof(
            status: status,
            message: message,
            product: product.digitalLink,
            recycleEvent: recycle.id.hex,
            laterEvent: later?.id.hex,
            certificate: details?.certificate,
            recycler: reference,
            accreditation: accreditation.map {
                RecyclingProof.AccreditationReference(
                    scheme: $0.scheme.name,
                    certificate: $0.certificate,
                    validFrom: $0.validFrom.description,
                    validUntil: $0.validUntil.description
                )
            },
            batchCount: recycle.statement.batch?.count,
            memberIndex: recycle.memberIndex,
            recoveredGrams: recovered,
            declaredGrams: declared,
            massCheck: mass,
            checkpointSize: size,
            reasons: reasons
        )
    }

    /// The proof for evidence that did not verify: an event after recycling is named as fraud.
    public static func failure(_ product: SGTIN, _ error: VerificationError) -> RecyclingProof {
        let reused = error.code == .eventAfterEndOfLife
        return RecyclingProof(
            status: reused ? .reusedAfterRecycling : .integrityFailure,
            message: reused ? "FRAUD: \(error.reason)" : "The evidence does not verify: \(error)",
            product: product.digitalLink,
            recycleEvent: error.events.first,
            laterEvent: error.events.dropFirst().first,
            certificate: nil,
            recycler: nil,
            accreditation: nil,
            batchCount: nil,
            memberIndex: nil,
            recoveredGrams: nil,
            declaredGrams: nil,
            massCheck: .unchecked,
            checkpointSize: nil,
            reasons: [error.description]
        )
    }

    /// A dock (or anyone) saw a unit carrying a serial whose recycling verified: fraud naming both.
    public static func sighting(_ proof: RecyclingProof, seenBy: String, at time: Timestamp) -> RecyclingProof {
        guard proof.recycleEvent != nil else { return proof }
        return RecyclingProof(
            status: .reusedAfterRecycling,
            message: "FRAUD: \(proof.product) was recycled (event \(proof.recycleEvent?.prefix(12) ?? "")) "
                + "yet a unit carrying it was seen by \(seenBy) at \(time).",
            product: proof.product,
            recycleEvent: proof.recycleEvent,
            laterEvent: nil,
            certificate: proof.certificate,
            recycler: proof.recycler,
            accreditation: proof.accreditation,
            batchCount: proof.batchCount,
            memberIndex: proof.memberIndex,
            recoveredGrams: proof.recoveredGrams,
            declaredGrams: proof.declaredGrams,
            massCheck: proof.massCheck,
            checkpointSize: proof.checkpointSize,
            reasons: proof.reasons
        )
    }
}

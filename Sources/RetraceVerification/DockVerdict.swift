/// The answer a receiving dock gets for one scanned item: one code, a sentence a dock worker
/// understands, the reasons, the evidence (event ids) and the checkpoint it was verified against.
public struct DockVerdict: Codable, Hashable, Sendable {
    /// The machine-readable verdict (spec/verification.md §2).
    public enum Code: String, Codable, CaseIterable, Sendable {
        case genuineReturnable = "genuine-returnable"
        case unknownSerial = "unknown-serial"
        case productMismatch = "product-mismatch"
        case neverSold = "never-sold"
        case alreadyReturned = "already-returned"
        case endOfLife = "end-of-life"
        case recalled = "recalled"
        case reportedStolen = "reported-stolen"
        case outsideReturnWindow = "outside-return-window"
        case wrongChannel = "wrong-channel"
        case referenceMismatch = "reference-mismatch"
        case ledgerIntegrityFailure = "ledger-integrity-failure"
    }

    /// What the dock should do with the item next.
    public enum Disposition: String, Codable, CaseIterable, Sendable {
        case restock
        case inspect
        case refurbish
        case recycle
        case quarantine
        case routeToRecall = "route-to-recall"
        case returnToCustomer = "return-to-customer"
    }

    public let code: Code
    /// One sentence naming the fraud pattern (or the all-clear), for the person at the dock.
    public let message: String
    /// The facts that led to the verdict, one per line.
    public let reasons: [String]
    /// Ids (hex) of the events the verdict rests on.
    public let evidence: [String]
    /// The canonical Digital Link of the scanned product.
    public let product: String
    /// The passport id, when the product exists.
    public let passport: String?
    /// The size of the signed checkpoint the evidence was verified against (`nil` if none verified).
    public let checkpointSize: UInt64?
    public let suggestedDisposition: Disposition?
    /// For `unknown-serial`: the proof (base64, spec/format.md §5.3) that the checkpoint's heads map
    /// holds no chain of the product; `nil` when the checkpoint commits to no heads.
    public var absenceProof: String?

    public init(
        code: Code,
        message: String,
        reasons: [String] = [],
        evidence: [String] = [],
        product: String,
        passport: String? = nil,
        checkpointSize: UInt64?,
        suggestedDisposition: Disposition?
    ) {
        self.code = code
        self.message = message
        self.reasons = reasons
        self.evidence = evidence
        self.product = product
        self.passport = passport
        self.checkpointSize = checkpointSize
        self.suggestedDisposition = suggestedDisposition
    }

    /// Whether the item may be taken back and refunded.
    public var isReturnable: Bool { code == .genuineReturnable }
}

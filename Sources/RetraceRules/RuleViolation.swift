/// A well-formed statement that the trust roster or the lifecycle rules refuse.
///
/// Raised after the bytes parsed (a ``FormatError`` is about bytes, this is about meaning). Every
/// violation names the rule it broke by a stable id such as `L6 return-needs-sale`, the same id that
/// `spec/lifecycle.md` and `spec/roster.md` use, so an operator can look the rule up and a client
/// can react to the code without parsing prose. Equality is on ``code`` only.
public struct RuleViolation: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case wrongRole, illegalTransition, terminal, recallRestricts, missingRestricts, timeGoesBackwards
            case prefixNotOwned, alreadyCommissioned, notCommissioned, wrongChannel, wrongConsignee
            case referenceMismatch, conditionRestricts, notAccredited, notCertified, scanMismatch, massBalance
            case invalidDetails, unknownLocation, notAnEvent, wrongProduct
            case unknownKey, keyRevoked, keyExpired, keyNotYetValid, badSignature
            case invalidRoster, rosterNotGoverned, rosterOutOfOrder
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The signer holds none of the roles allowed to record this event type.
        public static let wrongRole = Code(.wrongRole)
        /// The state table does not allow this event in the product's current phase.
        public static let illegalTransition = Code(.illegalTransition)
        /// The product was recycled or disposed of: nothing may follow.
        public static let terminal = Code(.terminal)
        /// An active recall forbids putting the product back into circulation.
        public static let recallRestricts = Code(.recallRestricts)
        /// The product is reported stolen or lost; only its recovery and recall events may follow.
        public static let missingRestricts = Code(.missingRestricts)
        /// The event is dated earlier than the product's previous event, beyond the allowed clock skew.
        public static let timeGoesBackwards = Code(.timeGoesBackwards)
        /// A brand owner acted on a GTIN outside its GS1 company prefixes.
        public static let prefixNotOwned = Code(.prefixNotOwned)
        /// The serial was already commissioned.
        public static let alreadyCommissioned = Code(.alreadyCommissioned)
        /// An event about a product that was never commissioned.
        public static let notCommissioned = Code(.notCommissioned)
        /// A retailer acted on a sale it did not make (e.g. authorised the return of another shop's sale).
        public static let wrongChannel = Code(.wrongChannel)
        /// A shipment was received by a party other than the consignee it was shipped to.
        public static let wrongConsignee = Code(.wrongConsignee)
        /// An RMA number, warranty claim, lease or recall notice does not match the open one.
        public static let referenceMismatch = Code(.referenceMismatch)
        /// The product's graded condition does not allow this step (e.g. restocking a defective unit).
        public static let conditionRestricts = Code(.conditionRestricts)
        /// The step needs an accreditation (R2v3, e-Stewards, WEEE AATF) the signer does not hold at that time.
        public static let notAccredited = Code(.notAccredited)
        /// A "certified pre-owned" resale of a product that was not certified refurbished.
        public static let notCertified = Code(.notCertified)
        /// The identity scanned at the dock is another product.
        public static let scanMismatch = Code(.scanMismatch)
        /// More material recovered than the product was declared to contain.
        public static let massBalance = Code(.massBalance)
        /// The details do not match the event catalogue (unknown, missing or malformed field).
        public static let invalidDetails = Code(.invalidDetails)
        /// The statement's location is not one of the signer's sites in the roster.
        public static let unknownLocation = Code(.unknownLocation)
        /// A roster statement was given where an event was expected, or the other way round.
        public static let notAnEvent = Code(.notAnEvent)
        /// The statement is about another product than the one being judged.
        public static let wrongProduct = Code(.wrongProduct)
        /// The signing key is not in the roster in force.
        public static let unknownKey = Code(.unknownKey)
        /// The signing key was revoked at or before the statement's time.
        public static let keyRevoked = Code(.keyRevoked)
        /// The statement is dated at or after the end of the key's validity.
        public static let keyExpired = Code(.keyExpired)
        /// The statement is dated before the key's validity starts.
        public static let keyNotYetValid = Code(.keyNotYetValid)
        /// The signature does not verify under the key the statement names.
        public static let badSignature = Code(.badSignature)
        /// The roster document is malformed or breaks a roster rule.
        public static let invalidRoster = Code(.invalidRoster)
        /// The roster is not signed by a governance key in force (or a trust root, for the first).
        public static let rosterNotGoverned = Code(.rosterNotGoverned)
        /// The roster does not name the roster in force as its predecessor.
        public static let rosterOutOfOrder = Code(.rosterOutOfOrder)

        public var description: String { base.rawValue }

        /// Codes that mean "we cannot tell who signed this, or they were not trusted then", as
        /// opposed to "a trusted party asked for something the rules forbid".
        static let authentication: Set<Code> = [
            .unknownKey, .keyRevoked, .keyExpired, .keyNotYetValid, .badSignature, .rosterNotGoverned,
        ]
    }

    public let code: Code
    /// The stable rule id, e.g. `L6 return-needs-sale` or `T8 key-revocation`.
    public let rule: String
    /// The product's canonical Digital Link, when the violation is about one product.
    public let product: String?
    /// What was wrong, and what was expected.
    public let reason: String

    public init(_ code: Code, rule: String, product: String? = nil, _ reason: String) {
        self.code = code
        self.rule = rule
        self.product = product
        self.reason = reason
    }

    /// Whether the statement was refused because its signer could not be trusted, rather than
    /// because of what it says.
    public var isAuthentication: Bool { Code.authentication.contains(code) }

    public var description: String {
        if let product { return "[\(rule)] \(product): \(reason)" }
        return "[\(rule)] \(reason)"
    }

    /// The same violation about `product` (for checks that run before the product is known).
    func about(_ product: String) -> RuleViolation {
        RuleViolation(code, rule: rule, product: product, reason)
    }

    public static func == (lhs: RuleViolation, rhs: RuleViolation) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

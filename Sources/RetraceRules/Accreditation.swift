import CanonicalJSON
import RetraceEvents

/// A recycler's or refurbisher's certification under a recognised e-waste scheme, valid for a period.
///
/// Accreditations are recorded in the roster, not in events, so that a recycler cannot certify
/// itself: the governance that signs the roster vouches for the certificate, and an event is judged
/// against the accreditation valid at the event's time.
public struct Accreditation: Hashable, Sendable {
    /// An accreditation scheme and what it certifies.
    public struct Scheme: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        /// Whether the scheme certifies refurbishing for reuse ("certified refurbished").
        public let coversRefurbishing: Bool
        /// Whether the scheme certifies recycling (material recovery) of electronics.
        public let coversRecycling: Bool

        private init(_ name: String, refurbishing: Bool, recycling: Bool) {
            self.name = name
            self.coversRefurbishing = refurbishing
            self.coversRecycling = recycling
        }

        public init?(name: String) {
            guard let known = Self.all.first(where: { $0.name == name }) else { return nil }
            self = known
        }

        public var description: String { name }

        /// SERI R2v3: repair, refurbishment and recycling of electronics.
        public static let r2v3 = Scheme("R2v3", refurbishing: true, recycling: true)
        /// BAN e-Stewards: reuse and recycling of electronics.
        public static let eStewards = Scheme("e-Stewards", refurbishing: true, recycling: true)
        /// UK WEEE Approved Authorised Treatment Facility: treatment (recycling) only.
        public static let weeeAATF = Scheme("WEEE-AATF", refurbishing: false, recycling: true)

        public static let all: [Scheme] = [.r2v3, .eStewards, .weeeAATF]
    }

    public let scheme: Scheme
    /// The certificate number issued under the scheme.
    public let certificate: String
    public let validFrom: Timestamp
    /// Certificates always expire; there is no open-ended accreditation.
    public let validUntil: Timestamp

    public init(scheme: Scheme, certificate: String, validFrom: Timestamp, validUntil: Timestamp) {
        self.scheme = scheme
        self.certificate = certificate
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    /// Whether the certificate is in force at `time` (from inclusive, until exclusive).
    public func isValid(at time: Timestamp) -> Bool { validFrom <= time && time < validUntil }

    public var json: JSONValue {
        var object = JSONObject()
        object["certificate"] = .string(certificate)
        object["scheme"] = .string(scheme.name)
        object["validFrom"] = .string(validFrom.description)
        object["validUntil"] = .string(validUntil.description)
        return .object(object)
    }

    init(json value: JSONValue, path: String) throws(FieldProblem) {
        var fields = try StrictReader(value, path: path)
        let schemeName = try fields.string("scheme")
        guard let scheme = Scheme(name: schemeName) else {
            let known = Scheme.all.map(\.name).joined(separator: ", ")
            throw FieldProblem(
                path: fields.at("scheme"),
                reason: "unknown scheme \"\(schemeName)\"; expected one of \(known)"
            )
        }
        let certificate = try fields.string("certificate")
        guard DetailField.isReference(certificate) else {
            throw FieldProblem(
                path: fields.at("certificate"),
                reason: "a certificate number is 1-64 characters of A-Z a-z 0-9 . _ : / -"
            )
        }
        let validFrom = try fields.time("validFrom")
        let validUntil = try fields.time("validUntil")
        guard validFrom < validUntil else {
            throw FieldProblem(path: fields.at("validUntil"), reason: "must be later than validFrom")
        }
        try fields.finish()
        self.init(scheme: scheme, certificate: certificate, validFrom: validFrom, validUntil: validUntil)
    }
}

import CanonicalJSON
import RetraceCrypto
import RetraceEvents

/// The withdrawal of a key from a given instant on, with the reason.
///
/// Statements the key signed dated before ``time`` stay valid; statements dated at or after it are
/// refused. Revocations are permanent: every later roster must repeat each one unchanged
/// (rule `T4 revocations-permanent`), so a compromised governance cannot quietly un-revoke a key.
public struct Revocation: Hashable, Sendable {
    /// Why a key was revoked, after the reason codes of RFC 5280 §5.3.1.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }

        public init?(name: String) {
            guard let known = Self.all.first(where: { $0.name == name }) else { return nil }
            self = known
        }

        public var description: String { name }

        /// The private key leaked or may have leaked.
        public static let keyCompromise = Reason("key-compromise")
        /// Replaced by a newer key in an orderly rotation.
        public static let superseded = Reason("superseded")
        /// The party stopped operating.
        public static let cessationOfOperation = Reason("cessation-of-operation")
        /// The key's holder left the party (e.g. a site was sold).
        public static let affiliationChanged = Reason("affiliation-changed")
        /// Governance withdrew the party's right to sign (e.g. lost accreditation, fraud).
        public static let privilegeWithdrawn = Reason("privilege-withdrawn")

        public static let all: [Reason] = [
            .keyCompromise, .superseded, .cessationOfOperation, .affiliationChanged, .privilegeWithdrawn,
        ]
    }

    public let key: NoteVerifier
    public let time: Timestamp
    public let reason: Reason

    public init(key: NoteVerifier, time: Timestamp, reason: Reason) {
        self.key = key
        self.time = time
        self.reason = reason
    }

    public var fingerprint: Digest { PartyKey.fingerprint(of: key) }

    public var json: JSONValue {
        var object = JSONObject()
        object["key"] = .string(key.description)
        object["reason"] = .string(reason.name)
        object["time"] = .string(time.description)
        return .object(object)
    }

    init(json value: JSONValue, path: String) throws(FieldProblem) {
        var fields = try StrictReader(value, path: path)
        let key = try PartyKey.verifier(fields.string("key"), path: fields.at("key"))
        let time = try fields.time("time")
        let reasonName = try fields.string("reason")
        guard let reason = Reason(name: reasonName) else {
            let known = Reason.all.map(\.name).joined(separator: ", ")
            throw FieldProblem(
                path: fields.at("reason"),
                reason: "unknown reason \"\(reasonName)\"; expected one of \(known)"
            )
        }
        try fields.finish()
        self.init(key: key, time: time, reason: reason)
    }
}

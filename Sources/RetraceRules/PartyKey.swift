import CanonicalJSON
import RetraceCrypto
import RetraceEvents

/// One of a party's Ed25519 verifier keys, with the period in which it may sign.
///
/// Rotation keeps the old key in the roster with a `validUntil`: events it signed before that
/// instant stay attributable and valid, and anything it signs later is refused. A key that leaked
/// is revoked instead (see ``Revocation``), which has the same effect from the revocation time on.
public struct PartyKey: Hashable, Sendable {
    public let verifier: NoteVerifier
    public let validFrom: Timestamp
    /// `nil` while the key is current.
    public let validUntil: Timestamp?

    public init(verifier: NoteVerifier, validFrom: Timestamp, validUntil: Timestamp? = nil) {
        self.verifier = verifier
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    /// `SHA-256(0x01 ‖ public key)`, the value statements name their signer by.
    public var fingerprint: Digest { PartyKey.fingerprint(of: verifier) }

    static func fingerprint(of verifier: NoteVerifier) -> Digest {
        Digest.of([NoteKey.ed25519Algorithm] + verifier.publicKey.rawRepresentation)
    }

    public var json: JSONValue {
        var object = JSONObject()
        object["key"] = .string(verifier.description)
        object["validFrom"] = .string(validFrom.description)
        if let validUntil { object["validUntil"] = .string(validUntil.description) }
        return .object(object)
    }

    init(json value: JSONValue, path: String) throws(FieldProblem) {
        var fields = try StrictReader(value, path: path)
        let verifier = try Self.verifier(fields.string("key"), path: fields.at("key"))
        let validFrom = try fields.time("validFrom")
        let validUntil = try fields.optionalTime("validUntil")
        if let validUntil, validUntil <= validFrom {
            throw FieldProblem(path: fields.at("validUntil"), reason: "must be later than validFrom")
        }
        try fields.finish()
        self.init(verifier: verifier, validFrom: validFrom, validUntil: validUntil)
    }

    static func verifier(_ text: String, path: String) throws(FieldProblem) -> NoteVerifier {
        do { return try NoteVerifier(parsing: text) } catch {
            throw FieldProblem(path: path, reason: "not a C2SP verifier key name+keyid+base64: \(error.reason)")
        }
    }
}

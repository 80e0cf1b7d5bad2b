import CanonicalJSON
import RetraceCrypto

/// A statement with its Ed25519 signature, as a party submits it: `{"members":[…],
/// "signature":"…","statement":{…}}`, with `members` only for batch statements.
public struct SignedStatement: Hashable, Sendable {
    public let statement: Statement
    public let signature: [UInt8]
    public let members: [BatchMember]

    public init(statement: Statement, signature: [UInt8], members: [BatchMember] = []) {
        self.statement = statement
        self.signature = signature
        self.members = members
    }

    /// Signs `statement` with `key` under the signing context of its type.
    public static func sign(
        _ statement: Statement,
        with key: Ed25519PrivateKey,
        members: [BatchMember] = []
    )
        throws(CryptoError) -> SignedStatement
    {
        SignedStatement(statement: statement, signature: try key.sign(statement.signingInput), members: members)
    }

    public var id: Digest { statement.id }

    /// Whether the signature verifies under `key`, and `key` is the one the statement names.
    public func isSigned(by key: Ed25519PublicKey) -> Bool {
        key.fingerprint == statement.signer.bytes && key.isValidSignature(signature, for: statement.signingInput)
    }

    public var json: JSONValue {
        var object = JSONObject()
        if !members.isEmpty { object["members"] = .array(members.map(\.json)) }
        object["signature"] = .string(Base64.encode(signature))
        object["statement"] = statement.json
        return .object(object)
    }

    /// Parses one submitted statement.
    ///
    /// Submissions must already be canonical: a party signs canonical bytes, so anything else is
    /// either a bug in its software or an attempt to smuggle a second reading past the verifier.
    public init(parsing bytes: [UInt8]) throws(FormatError) {
        if let signed = PlainEntryReader.signedStatement(bytes) {
            self = signed
            return
        }
        try self.init(readingTree: bytes)
    }

    /// ``init(parsing:)`` through a JSON tree: for every submission ``PlainEntryReader`` does
    /// not take, and the one that names what is wrong.
    package init(readingTree bytes: [UInt8]) throws(FormatError) {
        let (value, statementBytes) = try Self.decodeCanonical(bytes, keeping: "statement")
        try self.init(json: value, statementBytes: statementBytes)
    }

    public init(json value: JSONValue) throws(FormatError) {
        try self.init(json: value, statementBytes: nil)
    }

    /// - Parameters:
    ///   - statementBytes: the canonical bytes the `statement` member was read from.
    ///   - passingOver: a member of `value` that is not the signed statement's, already read by
    ///     the caller (an entry's `received`).
    init(json value: JSONValue, statementBytes: [UInt8]?, passingOver other: String? = nil) throws(FormatError) {
        var fields = try FieldReader(value, path: "")
        if let other { _ = fields.optional(other) }
        let statement = try Statement(
            json: fields.required("statement"),
            path: "statement",
            canonicalBytes: statementBytes
        )
        let signatureText = try fields.string("signature")
        guard let signature = Base64.decode(signatureText), signature.count == Ed25519.signatureByteCount else {
            throw FormatError(.invalidValue, field: "signature", "expected base64 of a 64-byte Ed25519 signature")
        }
        var members: [BatchMember] = []
        if fields.optional("members") != nil {
            for (index, item) in try fields.array("members").enumerated() {
                members.append(try BatchMember(json: item, path: "members[\(index)]"))
            }
        }
        try fields.finish()
        if let batch = statement.batch {
            guard Int64(members.count) == batch.count else {
                throw FormatError(
                    .invalidValue,
                    field: "members",
                    "the batch commits to \(batch.count) members, \(members.count) given"
                )
            }
            guard Set(members.map(\.product)).count == members.count else {
                throw FormatError(.invalidValue, field: "members", "a product appears twice in the batch")
            }
            guard BatchMember.commitment(for: members).root == batch.root else {
                throw FormatError(
                    .invalidValue,
                    field: "members",
                    "the members do not hash to the batch root the statement signs"
                )
            }
        } else if !members.isEmpty {
            throw FormatError(.unknownField, field: "members", "only batch statements carry members")
        }
        self.init(statement: statement, signature: signature, members: members)
    }

    static func decodeCanonical(_ bytes: [UInt8]) throws(FormatError) -> JSONValue {
        do {
            return try CanonicalJSON.decode(bytes, options: .strict)
        } catch {
            throw FormatError(.malformedJSON, field: "", "\(error)")
        }
    }

    /// ``decodeCanonical(_:)``, and the bytes of the member `key` when the text is an object that
    /// has it: canonical, since the whole text is.
    static func decodeCanonical(
        _ bytes: [UInt8],
        keeping key: String
    ) throws(FormatError) -> (value: JSONValue, member: [UInt8]?) {
        do {
            let (value, span) = try CanonicalJSON.decode(bytes, options: .strict, spanOf: key)
            return (value, span.map { Array(bytes[$0]) })
        } catch {
            throw FormatError(.malformedJSON, field: "", "\(error)")
        }
    }
}

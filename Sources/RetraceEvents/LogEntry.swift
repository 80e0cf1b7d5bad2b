import CanonicalJSON
import MerkleLog
import RetraceCrypto

/// What the log stores as one leaf: a signed statement plus the time the log received it.
///
/// The receive time is the log's own claim, covered by the leaf hash and so by every later
/// checkpoint: a statement that says it happened long before it reached the log is visibly
/// backdated. Batch members are stored beside the entry, not in it (see ``BatchMember``).
public struct LogEntry: Hashable, Sendable {
    public let received: Timestamp
    public let signed: SignedStatement

    public init(received: Timestamp, signed: SignedStatement) {
        self.received = received
        self.signed = signed
    }

    public var statement: Statement { signed.statement }

    public var json: JSONValue {
        var object = JSONObject()
        object["received"] = .string(received.description)
        object["signature"] = .string(Base64.encode(signed.signature))
        object["statement"] = signed.statement.json
        return .object(object)
    }

    /// The leaf input of the Merkle tree. Assembled around the statement's own canonical bytes:
    /// the keys are already in order and the time and base64 values never need escaping.
    public var canonicalBytes: [UInt8] {
        Array("{\"received\":\"\(received)\",\"signature\":\"\(Base64.encode(signed.signature))\",\"statement\":".utf8)
            + signed.statement.canonicalBytes + [UInt8(ascii: "}")]
    }

    public var leafHash: [UInt8] { MerkleHash.leafHash(canonicalBytes) }

    /// Parses stored or exported leaf bytes; `members` come from beside the entry.
    public init(parsing bytes: [UInt8], members: [BatchMember] = []) throws(FormatError) {
        if members.isEmpty, let entry = PlainEntryReader.entry(bytes) {
            self = entry
            return
        }
        try self.init(readingTree: bytes, members: members)
    }

    /// ``init(parsing:members:)`` through a JSON tree of the whole entry: for every entry
    /// ``PlainEntryReader`` does not take, and the one that names what is wrong.
    package init(readingTree bytes: [UInt8], members: [BatchMember]) throws(FormatError) {
        let (value, statementBytes) = try SignedStatement.decodeCanonical(bytes, keeping: "statement")
        var fields = try FieldReader(value, path: "entry")
        let received = try Timestamp(parsing: fields.string("received"), field: "entry.received")
        let signature = try fields.required("signature")
        let statement = try fields.required("statement")
        try fields.finish()
        guard !members.isEmpty else {
            // Read from the entry object itself, its `received` passed over: a second object
            // holding the other two members was four allocations per parsed entry (issue 15).
            self.init(
                received: received,
                signed: try SignedStatement(json: value, statementBytes: statementBytes, passingOver: "received")
            )
            return
        }
        let signed: JSONObject = [
            "signature": signature, "statement": statement, "members": .array(members.map(\.json)),
        ]
        self.init(
            received: received,
            signed: try SignedStatement(json: .object(signed), statementBytes: statementBytes)
        )
    }
}

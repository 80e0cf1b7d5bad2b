import CanonicalJSON
import MerkleLog
import RetraceIdentity

/// One product covered by a batch statement, with the chain head it extends.
///
/// Members are not part of the log leaf: the statement commits to them through
/// ``BatchCommitment/root``, the Merkle root over `SHA-256(0x00 ‖ canonical member bytes)` in
/// the order given, so one member is proven with an RFC 9162 inclusion proof.
public struct BatchMember: Hashable, Sendable {
    public static let maxCount: Int64 = 100_000

    public let product: SGTIN
    public let previous: Digest

    public init(product: SGTIN, previous: Digest) {
        self.product = product
        self.previous = previous
    }

    public var json: JSONValue {
        var object = JSONObject()
        object["previous"] = .string(previous.hex)
        object["product"] = .string(product.digitalLink)
        return .object(object)
    }

    /// `{"previous":…,"product":…}`, written directly: both values are ASCII that JSON never escapes
    /// (hex digits; a canonical Digital Link of unreserved characters, `%`, `:` and `/`).
    public var canonicalBytes: [UInt8] {
        Array("{\"previous\":\"\(previous.hex)\",\"product\":\"\(product.digitalLink)\"}".utf8)
    }

    public var leafHash: [UInt8] { MerkleHash.leafHash(canonicalBytes) }

    /// Members as they are kept beside their entry (a store's rows, a tile's bundle), each parsed
    /// strictly; an error names the member by its place, `members[i]`.
    public static func parsing(_ kept: [[UInt8]]) throws -> [BatchMember] {
        var members: [BatchMember] = []
        members.reserveCapacity(kept.count)
        for (position, bytes) in kept.enumerated() {
            members.append(
                try BatchMember(json: CanonicalJSON.decode(bytes, options: .strict), path: "members[\(position)]")
            )
        }
        return members
    }

    public init(json value: JSONValue, path: String) throws(FormatError) {
        var fields = try FieldReader(value, path: path)
        let product = try Statement.canonicalProduct(fields.string("product"), field: fields.fieldPath("product"))
        let previous = try Digest(hex: fields.string("previous"), field: fields.fieldPath("previous"))
        try fields.finish()
        self.init(product: product, previous: previous)
    }

    /// The commitment a batch statement must carry for exactly these members.
    public static func commitment(for members: [BatchMember]) -> BatchCommitment {
        var range = CompactRange()
        for member in members {
            // A leaf hash is always 32 bytes, the only thing `append` checks.
            try? range.append(leafHash: member.leafHash)
        }
        return BatchCommitment(count: Int64(members.count), root: Digest(trusted: range.rootHash))
    }
}

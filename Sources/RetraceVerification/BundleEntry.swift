import CanonicalJSON
import RetraceCrypto
import RetraceEvents

/// One log entry as carried in a proof bundle: the entry object, its log index and its inclusion
/// proof in the bundle's checkpoint, plus, for batch statements, the batch evidence.
///
/// A product chain carries one batch statement as `member` + `memberIndex` + `memberProof` (the
/// product's member and its RFC 9162 proof in `batch.root`), so a pallet of 10 000 products does
/// not make every product's bundle large. A certificate carries all `members` instead.
public struct BundleEntry: Hashable, Sendable {
    public let index: UInt64
    /// The entry object `{"received","signature","statement"}` exactly as logged.
    ///
    /// An entry a verdict gathered from its own store is kept as the stored bytes and decoded only
    /// when asked for here: the verifier works from the bytes, and decoding every entry of a chain
    /// into a tree no one read was a sixth of a warm dock scan (issue 15).
    public var entry: JSONObject {
        switch body {
        case .object(let object, _): object
        case .undecoded(let bytes): Self.object(decoding: bytes)
        }
    }
    public let proof: [[UInt8]]
    public let member: BatchMember?
    public let memberIndex: UInt64?
    public let memberProof: [[UInt8]]
    public let members: [BatchMember]
    /// Not part of the entry's identity beyond ``entry``: equality and hashing ignore the form.
    let body: Body

    enum Body: Sendable {
        /// A decoded object, with the canonical bytes it was read from when it was read from a
        /// store's canonical bytes: the verifier hashes them and keeps its statement's part as
        /// they are, instead of writing both again from the object.
        case object(JSONObject, canonical: CanonicalEntry?)
        /// A store's bytes, not decoded: the verifier hashes them as they are and parses them
        /// strictly, as an audit does, only if no fact about these exact bytes is cached. Never a
        /// batch statement, which a chain carries with one member of the several its bytes commit to.
        case undecoded([UInt8])
    }

    /// An entry's canonical bytes and where its `statement` member lies in them.
    struct CanonicalEntry: Sendable {
        let bytes: [UInt8]
        let statement: Range<Int>

        var statementBytes: [UInt8] { Array(bytes[statement]) }
    }

    /// The bytes the verifier takes as this entry's leaf without encoding ``entry`` again.
    var storedBytes: [UInt8]? {
        switch body {
        case .object(_, let canonical): canonical?.bytes
        case .undecoded(let bytes): bytes
        }
    }

    public init(
        index: UInt64,
        entry: JSONObject,
        proof: [[UInt8]],
        member: BatchMember? = nil,
        memberIndex: UInt64? = nil,
        memberProof: [[UInt8]] = [],
        members: [BatchMember] = []
    ) {
        self.init(
            index: index,
            body: .object(entry, canonical: nil),
            proof: proof,
            member: member,
            memberIndex: memberIndex,
            memberProof: memberProof,
            members: members
        )
    }

    init(
        index: UInt64,
        body: Body,
        proof: [[UInt8]],
        member: BatchMember? = nil,
        memberIndex: UInt64? = nil,
        memberProof: [[UInt8]] = [],
        members: [BatchMember] = []
    ) {
        self.index = index
        self.body = body
        self.proof = proof
        self.member = member
        self.memberIndex = memberIndex
        self.memberProof = memberProof
        self.members = members
    }

    /// The object of bytes kept undecoded, read leniently as a bundle's stored entry always was;
    /// bytes that are no JSON object at all (a damaged row) read as an empty object, which no
    /// verifier accepts. Only a caller that writes such an entry out gets here: the collector
    /// keeps entries undecoded only for a verdict judged in the same process.
    private static func object(decoding bytes: [UInt8]) -> JSONObject {
        guard case .object(let object)? = try? CanonicalJSON.decode(bytes, options: .lenient) else { return [:] }
        return object
    }

    public static func == (lhs: BundleEntry, rhs: BundleEntry) -> Bool {
        lhs.index == rhs.index && lhs.entry == rhs.entry && lhs.proof == rhs.proof && lhs.member == rhs.member
            && lhs.memberIndex == rhs.memberIndex && lhs.memberProof == rhs.memberProof && lhs.members == rhs.members
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(index)
        hasher.combine(entry)
        hasher.combine(proof)
        hasher.combine(member)
        hasher.combine(memberIndex)
        hasher.combine(memberProof)
        hasher.combine(members)
    }

    public var json: JSONValue {
        var object = JSONObject()
        object["entry"] = .object(entry)
        object["index"] = .integer(Int64(index))
        if let member { object["member"] = member.json }
        if let memberIndex { object["memberIndex"] = .integer(Int64(memberIndex)) }
        if member != nil { object["memberProof"] = .array(memberProof.map { .string(Hex.encode($0)) }) }
        if !members.isEmpty { object["members"] = .array(members.map(\.json)) }
        object["proof"] = .array(proof.map { .string(Hex.encode($0)) })
        return .object(object)
    }

    init(json value: JSONValue, path: String) throws(VerificationError) {
        var reader = try BundleReader(value, path: path)
        let index = try reader.index("index")
        guard case .object(let entry)? = reader.take("entry") else {
            throw VerificationError(.malformedBundle, "\(path).entry must be an object")
        }
        let proof = try reader.hashes("proof")
        var member: BatchMember?
        if let value = reader.take("member") {
            do { member = try BatchMember(json: value, path: "\(path).member") } catch {
                throw VerificationError(.malformedBundle, error.description)
            }
        }
        let memberIndex = try reader.optionalIndex("memberIndex")
        let memberProof = try reader.optionalHashes("memberProof")
        guard (member == nil) == (memberIndex == nil), (member == nil) == (memberProof == nil) else {
            throw VerificationError(
                .malformedBundle,
                "\(path): member, memberIndex and memberProof come together or not at all"
            )
        }
        var members: [BatchMember] = []
        if let list = reader.take("members") {
            guard case .array(let items) = list, !items.isEmpty else {
                throw VerificationError(.malformedBundle, "\(path).members must be a non-empty array")
            }
            for (position, item) in items.enumerated() {
                do { members.append(try BatchMember(json: item, path: "\(path).members[\(position)]")) } catch {
                    throw VerificationError(.malformedBundle, error.description)
                }
            }
        }
        try reader.finish()
        self.init(
            index: index,
            entry: entry,
            proof: proof,
            member: member,
            memberIndex: memberIndex,
            memberProof: memberProof ?? [],
            members: members
        )
    }
}

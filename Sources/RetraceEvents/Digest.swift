import RetraceCrypto

/// A SHA-256 value: an event id, a passport id, a chain link or a Merkle root.
///
/// Written as 64 lowercase hex digits in JSON. Kept as a fixed 32-byte value so that a hash of the
/// wrong length can never be constructed, only refused at the edge.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(FormatError) {
        guard bytes.count == 32 else {
            throw FormatError(.invalidValue, field: "", "a SHA-256 digest is 32 bytes, found \(bytes.count)")
        }
        self.bytes = bytes
    }

    init(trusted bytes: [UInt8]) { self.bytes = bytes }

    public static func of(_ data: some Collection<UInt8>) -> Digest { Digest(trusted: SHA256.hash(data)) }

    public init(hex: String, field: @autoclosure () -> String) throws(FormatError) {
        var text = hex
        guard let digest = text.withUTF8({ Digest(hexUTF8: $0) }) else {
            throw FormatError(.invalidValue, field: field(), "expected 64 lowercase hex digits of a SHA-256 hash")
        }
        self = digest
    }

    /// The digest 64 lowercase hex digits spell, read from UTF-8 in place; `nil` for anything else.
    init?(hexUTF8 utf8: UnsafeBufferPointer<UInt8>) {
        guard utf8.count == 64, let bytes = Hex.decodeLowercase(utf8: utf8) else { return nil }
        self.bytes = bytes
    }

    /// The 32 bytes handed to the hasher in one call. The synthesized hash fed them one at a time,
    /// 32 calls per lookup: every statement's signer is found by its key's digest (issue 15).
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
    /// The first 12 hex digits, enough to tell events apart on screen.
    public var short: String { String(hex.prefix(12)) }
    public static func < (lhs: Digest, rhs: Digest) -> Bool { Bytewise.precedes(lhs.bytes, rhs.bytes) }
}

/// 64 lowercase hex digits, as everywhere in Retrace's JSON; for local caches of derived figures
/// (`retrace insights --state`), never for signed bytes, which go through canonical JSON.
extension Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { self = try Digest(hex: text, field: "digest") } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.reason)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

import CanonicalJSON
import RetraceCrypto
import RetraceIdentity

/// Reads a log entry or a submitted statement straight from its bytes, without a JSON tree, when
/// its frame is in the plain form every Retrace writer produces.
///
/// Every audited entry, every verdict's history and every appended statement is read; through the
/// tree (``CanonicalJSON/decode(_:options:spanOf:)`` then ``FieldReader``) each read made about
/// twenty allocations — a string per hex, base64 and time value, two arrays per object — only to
/// take them apart again (issue 15's audit profile: 60 K instructions per entry).
///
/// It is exactly as strict as the tree reader because it accepts only bytes it can account for
/// in full: each member in its one place (the keys are literals, in canonical order), each string
/// value printable ASCII with nothing to escape, `version` the literal `1`, `details` read by the
/// canonical parser and found canonical, and each value checked by the same function the tree
/// reader calls. On anything else — a batch statement, members, an escape, a byte out of place, a
/// value a check refuses — it answers `nil` without saying why, and the caller reads the bytes
/// again through the tree reader, which reaches its own verdict and names the error. So for bytes
/// this reader accepts, the tree reader gives an equal value (checked at every byte of mutated
/// entries in `PlainEntryReaderTests`, and on every input of the `FuzzEvent` target), and errors
/// keep their wording.
package struct PlainEntryReader: ~Copyable {
    private let input: UnsafeBufferPointer<UInt8>
    private var position = 0

    /// Containers a `details` object may hold below itself: strict reading allows 64 levels in
    /// the whole text, of which the entry (or the signed statement) and the statement take two.
    private static let detailsMaxDepth = ReadOptions.defaultMaxDepth - 2

    private init(_ input: UnsafeBufferPointer<UInt8>) { self.input = input }

    /// `{"received":…,"signature":…,"statement":{…}}`, or `nil`.
    package static func entry(_ bytes: [UInt8]) -> LogEntry? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = PlainEntryReader(buffer)
            guard reader.literal("{\"received\":"), let received = reader.time(),
                reader.literal(",\"signature\":"), let signature = reader.signature(),
                reader.literal(",\"statement\":"), let statement = reader.statement(),
                reader.literal("}"), reader.position == buffer.count
            else { return nil }
            return LogEntry(received: received, signed: SignedStatement(statement: statement, signature: signature))
        }
    }

    /// `{"signature":…,"statement":{…}}` (a submission without batch members), or `nil`.
    package static func signedStatement(_ bytes: [UInt8]) -> SignedStatement? {
        bytes.withUnsafeBufferPointer { buffer in
            var reader = PlainEntryReader(buffer)
            guard reader.literal("{\"signature\":"), let signature = reader.signature(),
                reader.literal(",\"statement\":"), let statement = reader.statement(),
                reader.literal("}"), reader.position == buffer.count
            else { return nil }
            return SignedStatement(statement: statement, signature: signature)
        }
    }

    /// A statement without a batch, its members in canonical order: `details`, then `location`,
    /// `previous` and `product` when present, then `signer`, `time`, `type` and `version`.
    private mutating func statement() -> Statement? {
        let start = position
        guard literal("{\"details\":"), input.count > position, input[position] == UInt8(ascii: "{"),
            let (value, end) = CanonicalJSON.canonicalValue(in: input, at: position, maxDepth: Self.detailsMaxDepth),
            case .object(let details) = value
        else { return nil }
        position = end
        var location: String?
        if literal(",\"location\":") {
            guard let text = string().map(Self.text),
                (try? GLN.validate(text, field: "")) != nil
            else { return nil }
            location = text
        }
        var previous: Digest?
        if literal(",\"previous\":") {
            guard let digest = digest() else { return nil }
            previous = digest
        }
        var product: SGTIN?
        if literal(",\"product\":") {
            guard let text = string().map(Self.text),
                let sgtin = try? Statement.canonicalProduct(text, field: "")
            else { return nil }
            product = sgtin
        }
        guard literal(",\"signer\":"), let signer = digest(),
            literal(",\"time\":"), let time = time(),
            literal(",\"type\":"), let name = string(), let type = EventType(nameUTF8: name),
            literal(",\"version\":1}")
        else { return nil }
        return try? Statement(
            type: type,
            product: product,
            previous: previous,
            batch: nil,
            signer: signer,
            time: time,
            location: location,
            details: details,
            read: Array(input[start..<position])
        )
    }

    /// Consumes `expected` when the input continues with it; otherwise leaves the position.
    private mutating func literal(_ expected: StaticString) -> Bool {
        let count = expected.utf8CodeUnitCount
        guard input.count - position >= count else { return false }
        let matches = expected.withUTF8Buffer { expected in
            Bytewise.equal(
                UnsafeRawBufferPointer(expected),
                UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: input[position..<position + count]))
            )
        }
        if matches { position += count }
        return matches
    }

    /// The bytes between the quotes of a string with nothing to escape: printable ASCII other
    /// than `"` and `\`, whose canonical form is the bytes themselves. `nil` for any other string.
    private mutating func string() -> UnsafeBufferPointer<UInt8>? {
        guard position < input.count, input[position] == UInt8(ascii: "\"") else { return nil }
        var at = position + 1
        while at < input.count {
            let byte = input[at]
            if byte == UInt8(ascii: "\"") {
                let content = UnsafeBufferPointer(rebasing: input[position + 1..<at])
                position = at + 1
                return content
            }
            guard byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") else { return nil }
            at += 1
        }
        return nil
    }

    private mutating func time() -> Timestamp? { string().flatMap(Timestamp.init(utf8:)) }

    private mutating func digest() -> Digest? { string().flatMap(Digest.init(hexUTF8:)) }

    private mutating func signature() -> [UInt8]? {
        guard let bytes = string().flatMap(Base64.decode(utf8:)), bytes.count == Ed25519.signatureByteCount
        else { return nil }
        return bytes
    }

    private static func text(_ utf8: UnsafeBufferPointer<UInt8>) -> String { String(decoding: utf8, as: UTF8.self) }
}

/// Entry points: RFC 8785 bytes from values or Codable types, and a strict reader back.
///
/// The bytes produced here are what Retrace hashes and signs, so the profile is restricted until every
/// value has exactly one byte form: integers only (within ±(2^53−1)), keys sorted by UTF-16 code units,
/// the minimal RFC 8785 escapes, no whitespace. The reader, by default, accepts nothing else.
public enum CanonicalJSON {
    /// The canonical bytes of `value`.
    ///
    /// Throws `integerOutOfRange` for integers beyond ±(2^53−1) and `tooDeep` past `maxDepth` nested
    /// containers: whatever is written must be readable back by `decode` with the same limits.
    public static func encode(_ value: JSONValue, maxDepth: Int = ReadOptions.defaultMaxDepth) throws -> [UInt8] {
        var writer = CanonicalWriter(maxDepth: min(maxDepth, ReadOptions.depthCeiling))
        do {
            try writer.write(value, depth: 0)
        } catch {
            throw error.error()
        }
        return writer.take()
    }

    /// Appends the canonical bytes of `value` to `buffer` (e.g. after a domain-separation prefix).
    /// On error `buffer` is left as it was.
    public static func encode(
        _ value: JSONValue,
        appendingTo buffer: inout [UInt8],
        maxDepth: Int = ReadOptions.defaultMaxDepth
    ) throws {
        var writer = CanonicalWriter(maxDepth: min(maxDepth, ReadOptions.depthCeiling), capacity: 0)
        let originalCount = buffer.count
        writer.swapBuffer(&buffer)
        do {
            try writer.write(value, depth: 0)
        } catch {
            writer.swapBuffer(&buffer)
            buffer.removeSubrange(originalCount...)
            throw error.error()
        }
        writer.swapBuffer(&buffer)
    }

    /// Parses `bytes` under `options` and, when they hold an object, returns where each of its
    /// members' values lies in them.
    ///
    /// With `requireCanonical` (the default) a member's bytes are its value's canonical bytes:
    /// RFC 8785 writes an object member by member, so a canonical text is made of canonical parts.
    /// A signed part can then be hashed or verified as received instead of written again.
    public static func decodeWithMemberSpans(
        _ bytes: [UInt8],
        options: ReadOptions = .strict
    ) throws -> (value: JSONValue, memberSpans: [String: Range<Int>]) {
        let parsed = try CanonicalParser.parse(bytes, options: options, recording: .all)
        return (parsed.value, parsed.spans)
    }

    /// ``decodeWithMemberSpans(_:options:)`` for one member: where the value of `key` lies, when
    /// `bytes` hold an object that has it. What a log entry's reader needs (its statement's bytes),
    /// without a dictionary of every member's span.
    public static func decode(
        _ bytes: [UInt8],
        options: ReadOptions = .strict,
        spanOf key: String
    ) throws -> (value: JSONValue, span: Range<Int>?) {
        let parsed = try CanonicalParser.parse(bytes, options: options, recording: .one(key))
        return (parsed.value, parsed.span)
    }

    /// The value that starts at `offset` in `bytes` (which may go on after it), and the offset
    /// just past it, when it is well formed, canonical and nests at most `maxDepth` deep; `nil`
    /// otherwise. For readers that take a known frame apart by hand and leave only the free-form
    /// parts to this parser: they read the whole text again with ``decode(_:options:)`` when
    /// this says `nil`, to name the error.
    package static func canonicalValue(
        in bytes: UnsafeBufferPointer<UInt8>,
        at offset: Int,
        maxDepth: Int
    ) -> (value: JSONValue, end: Int)? {
        CanonicalParser.canonicalValue(in: bytes, at: offset, maxDepth: maxDepth)
    }

    /// Parses `bytes` under `options`; by default only canonical input is accepted.
    public static func decode(_ bytes: [UInt8], options: ReadOptions = .strict) throws -> JSONValue {
        try CanonicalParser.parse(bytes, options: options)
    }

    /// The canonical bytes of an Encodable value (through `JSONValueEncoder`).
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        try encode(JSONValueEncoder().encode(value))
    }

    /// Reads `bytes` under `options` and decodes `type` from them (through `JSONValueDecoder`).
    /// Members the type does not know are ignored; use `decodeExact` to refuse them.
    public static func decode<T: Decodable>(
        _ type: T.Type,
        from bytes: [UInt8],
        options: ReadOptions = .strict
    ) throws -> T {
        try JSONValueDecoder().decode(type, from: decode(bytes, options: options))
    }

    /// Decodes `type` and proves nothing was lost: re-encodes the result and compares with the input.
    ///
    /// Throws `unknownField` naming the path of the first input member the type does not carry, or
    /// `roundTripMismatch` naming the first other difference (e.g. a default the type adds). This keeps
    /// signed events from carrying data that the reader silently drops.
    public static func decodeExact<T: Codable>(
        _ type: T.Type,
        from bytes: [UInt8],
        options: ReadOptions = .strict
    ) throws -> T {
        let input = try decode(bytes, options: options)
        let decoded = try JSONValueDecoder().decode(type, from: input)
        let reencoded = try JSONValueEncoder().encode(decoded)
        if let difference = JSONDifference.first(input: input, reencoded: reencoded) {
            throw difference.error(typeName: String(describing: T.self))
        }
        return decoded
    }
}

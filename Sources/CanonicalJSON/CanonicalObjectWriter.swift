/// Writes one object's RFC 8785 bytes member by member, for a type whose members the code knows:
/// the bytes `CanonicalJSON.encode` gives for the same members, without building a `JSONValue`
/// tree first (for a product state, building and walking that tree cost twice the writing).
///
/// The caller writes members in canonical order (keys increasing by UTF-16 code units, as the
/// type's own `json` lists them); a key out of order stops a debug build, and each user of this
/// writer is tested to give exactly `encode(json)`. Members whose keys are data rather than code
/// (``integers(_:_:)``) are sorted here.
public struct CanonicalObjectWriter {
    private var writer: CanonicalWriter
    private var first = true
    #if DEBUG
    private var lastKey: String?
    #endif

    public init(capacity: Int = 512) {
        writer = CanonicalWriter(maxDepth: ReadOptions.depthCeiling, capacity: capacity)
        writer.appendByte(0x7B)
    }

    public mutating func string(_ key: String, _ value: String) {
        self.key(key)
        writer.writeString(value)
    }

    public mutating func bool(_ key: String, _ value: Bool) {
        self.key(key)
        writer.writeBool(value)
    }

    /// - Throws: `CanonicalJSONError.integerOutOfRange` beyond ±(2^53−1), as `encode` does.
    public mutating func integer(_ key: String, _ value: Int64) throws(CanonicalJSONError) {
        guard value <= JSONValue.maxSafeInteger, value >= -JSONValue.maxSafeInteger else {
            throw CanonicalJSONError(
                .integerOutOfRange,
                "\(key): integer \(value) is outside ±(2^53−1) (±9007199254740991)",
                path: key
            )
        }
        self.key(key)
        writer.writeSafeInteger(value)
    }

    /// A member holding an object whose members `body` writes (into this writer's buffer).
    public mutating func object<E: Error>(
        _ key: String,
        _ body: (inout CanonicalObjectWriter) throws(E) -> Void
    ) throws(E) {
        self.key(key)
        var inner = CanonicalObjectWriter(nestedIn: &writer)
        defer { swap(&inner.writer, &writer) }
        try body(&inner)
        inner.writer.appendByte(0x7D)
    }

    /// A member holding an object of integers keyed by data (sorted here).
    public mutating func integers(_ key: String, _ values: [String: Int64]) throws(CanonicalJSONError) {
        try object(key) { (inner: inout CanonicalObjectWriter) throws(CanonicalJSONError) in
            // Pairs sorted once, so no key is hashed again to find its value.
            for (name, value) in values.sorted(by: { UTF16KeyOrder.less($0.key, $1.key) }) {
                try inner.integer(name, value)
            }
        }
    }

    /// The object's bytes, closed.
    public mutating func finish() -> [UInt8] {
        writer.appendByte(0x7D)
        return writer.take()
    }

    /// Takes over `outer`'s buffer (handed back by the caller with `swap`) and opens an object in it.
    private init(nestedIn outer: inout CanonicalWriter) {
        writer = CanonicalWriter(maxDepth: ReadOptions.depthCeiling, capacity: 0)
        swap(&writer, &outer)
        writer.appendByte(0x7B)
    }

    private mutating func key(_ key: String) {
        #if DEBUG
        if let lastKey {
            assert(UTF16KeyOrder.less(lastKey, key), "key \(key) written after \(lastKey): not canonical order")
        }
        lastKey = key
        #endif
        if first { first = false } else { writer.appendByte(0x2C) }
        writer.writeString(key)
        writer.appendByte(0x3A)
    }
}

/// How strictly `CanonicalJSON.decode` reads bytes.
///
/// Whatever the options, the reader always refuses what would make the bytes ambiguous: floats,
/// integers beyond ±(2^53−1), `-0`, duplicate keys, invalid UTF-8 and lone surrogates. The options only
/// add refusals (non-canonical form, non-ASCII keys) or bound resources.
public struct ReadOptions: Sendable, Hashable {
    /// Refuse any input whose canonical re-encoding differs from it; the error names the byte offset of
    /// the first difference and the byte expected there. Needed wherever the bytes are the signed form.
    public var requireCanonical: Bool
    /// Refuse object keys containing anything but ASCII, for schemas that promise ASCII field names.
    public var asciiKeysOnly: Bool
    /// Deepest container nesting accepted (`[]` is depth 1); clamped to `ReadOptions.depthCeiling`.
    public var maxDepth: Int
    /// Longest input accepted, in bytes; nil means no limit.
    public var maxBytes: Int?

    /// Nesting bound that no option can lift. Parsing itself is iterative, but the values it returns
    /// are compared, hashed, written and released recursively; 256 levels fit in a 512 KiB thread
    /// stack even in debug builds (measured), and in 64 KiB in release builds.
    public static let depthCeiling = 256

    /// Default nesting limit; far above any event shape and the same limit `encode` applies.
    public static let defaultMaxDepth = 64

    public init(
        requireCanonical: Bool = true,
        asciiKeysOnly: Bool = false,
        maxDepth: Int = ReadOptions.defaultMaxDepth,
        maxBytes: Int? = nil
    ) {
        self.requireCanonical = requireCanonical
        self.asciiKeysOnly = asciiKeysOnly
        self.maxDepth = maxDepth
        self.maxBytes = maxBytes
    }

    /// Canonical input only, any keys, depth 64, no size limit.
    public static let strict = ReadOptions()

    /// Any well-formed JSON in the integer-only profile (whitespace, any key order, any escapes).
    public static let lenient = ReadOptions(requireCanonical: false)

    /// The depth limit actually enforced.
    var effectiveMaxDepth: Int { max(0, min(maxDepth, ReadOptions.depthCeiling)) }
}

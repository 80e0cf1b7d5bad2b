import CodedErrors

/// Why canonical JSON could not be read, written or bridged to a Codable type.
///
/// Equality and hashing look at `code` only, so tests and callers can match on the kind of failure
/// (`CanonicalJSONError(.duplicateKey)`) while `reason` keeps the human detail: what was wrong, where
/// (byte offset or coding path) and what was expected there.
public struct CanonicalJSONError: CodedError {
    /// The kind of failure; a closed set so callers can switch on it without parsing text.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case unexpectedEnd, unexpectedCharacter, trailingData, invalidUTF8, loneSurrogate, invalidEscape
            case controlCharacter, floatNotAllowed, integerOutOfRange, leadingZero, negativeZero, duplicateKey
            case nonASCIIKey, notCanonical, tooDeep, tooLarge
            case typeMismatch, missingKey, missingValue, unsupportedType, containerMisuse
            case unknownField, roundTripMismatch
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        public var description: String { base.rawValue }

        // Reading bytes.
        /// The input ended inside a value.
        public static let unexpectedEnd = Code(.unexpectedEnd)
        /// A byte that cannot start or continue the JSON value at that point.
        public static let unexpectedCharacter = Code(.unexpectedCharacter)
        /// Something other than nothing followed the top-level value.
        public static let trailingData = Code(.trailingData)
        /// A string held bytes that are not well-formed UTF-8 (overlong, surrogate, truncated, 0xC0/0xC1/0xF5-0xFF).
        public static let invalidUTF8 = Code(.invalidUTF8)
        /// A `\u` escape named half of a surrogate pair without its other half.
        public static let loneSurrogate = Code(.loneSurrogate)
        /// A backslash escape that JSON does not define, or a malformed `\u` escape.
        public static let invalidEscape = Code(.invalidEscape)
        /// A raw control character (below U+0020) inside a string; JSON requires it escaped.
        public static let controlCharacter = Code(.controlCharacter)
        /// A number with a fraction or exponent; this profile carries integers only.
        public static let floatNotAllowed = Code(.floatNotAllowed)
        /// An integer outside ±(2^53−1), the range I-JSON guarantees every reader represents exactly.
        public static let integerOutOfRange = Code(.integerOutOfRange)
        /// An integer written with a leading zero (`01`), which JSON forbids.
        public static let leadingZero = Code(.leadingZero)
        /// `-0`: not canonical and ambiguous with `0`, so always refused.
        public static let negativeZero = Code(.negativeZero)
        /// The same object key twice (after unescaping, compared by exact Unicode scalars).
        public static let duplicateKey = Code(.duplicateKey)
        /// A non-ASCII object key while `ReadOptions.asciiKeysOnly` is set.
        public static let nonASCIIKey = Code(.nonASCIIKey)
        /// Valid JSON whose canonical (RFC 8785) encoding differs from the input bytes.
        public static let notCanonical = Code(.notCanonical)
        /// Containers nested deeper than the allowed depth.
        public static let tooDeep = Code(.tooDeep)
        /// Input longer than `ReadOptions.maxBytes`.
        public static let tooLarge = Code(.tooLarge)

        // Bridging to and from Codable types.
        /// The JSON value is of another kind than the Swift type asks for.
        public static let typeMismatch = Code(.typeMismatch)
        /// A key the Swift type requires is absent from the object.
        public static let missingKey = Code(.missingKey)
        /// An unkeyed (array) container was read past its end.
        public static let missingValue = Code(.missingValue)
        /// A Swift type with no unambiguous canonical form (Double, Float, Date, Data, Decimal).
        public static let unsupportedType = Code(.unsupportedType)
        /// An Encodable implementation used its encoder inconsistently (two values for one slot, mixed containers).
        public static let containerMisuse = Code(.containerMisuse)
        /// `decodeExact`: the input holds a member the Swift type does not carry.
        public static let unknownField = Code(.unknownField)
        /// `decodeExact`: re-encoding the decoded value gives something else than the input (other than extra keys).
        public static let roundTripMismatch = Code(.roundTripMismatch)
    }

    /// The kind of failure; the only part that takes part in equality.
    public let code: Code
    /// What was wrong, where, and what was expected there.
    public let reason: String
    /// Byte offset into the input for reading errors; nil for bridging errors.
    public let offset: Int?
    /// Coding path such as `details.parts[2].serial` for bridging errors; nil for byte-level errors.
    public let path: String?

    public init(_ code: Code, _ reason: String = "", offset: Int? = nil, path: String? = nil) {
        self.code = code
        self.reason = reason
        self.offset = offset
        self.path = path
    }

    public var description: String { reason.isEmpty ? "\(code)" : "\(code): \(reason)" }
}

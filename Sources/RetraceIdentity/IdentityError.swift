import CodedErrors

/// Why a scanned or typed product identity was refused, and where.
///
/// Equality is on ``code`` only, so callers and tests can match the kind of failure without depending on the
/// wording of ``reason``. The reason always says what was wrong, where, and what was expected; ``position`` carries
/// the same "where" for programs (e.g. to put a caret under the offending character on a receiving-dock screen).
public struct IdentityError: CodedError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case emptyInput, unrecognizedFormat, unknownSymbology
            case missingGTIN, wrongLength, nonDigit, badCheckDigit
            case missingSerial, emptySerial, serialTooLong, illegalCharacter
            case emptyValue, valueTooLong, truncatedField, invalidDate
            case unknownAI, duplicateAI, misplacedAI, unexpectedSeparator, trailingGarbage
            case malformedURI, badPercentEncoding, malformedURN, invalidCompanyPrefix
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// Nothing but whitespace (or only a symbology identifier) was scanned.
        public static let emptyInput = Code(.emptyInput)
        /// The text is none of the supported forms (element string, `(01)…`, Digital Link, EPC URN).
        public static let unrecognizedFormat = Code(.unrecognizedFormat)
        /// A `]xy` symbology identifier that is unknown, truncated, or cannot carry this kind of data.
        public static let unknownSymbology = Code(.unknownSymbology)
        /// No GTIN (AI 01, `/01/` path segment) was found.
        public static let missingGTIN = Code(.missingGTIN)
        /// A GTIN, fixed-length field or EPC field has more (or, for a GTIN, a different number of) characters
        /// than allowed.
        public static let wrongLength = Code(.wrongLength)
        /// A character that is not `0`–`9` where only digits are allowed.
        public static let nonDigit = Code(.nonDigit)
        /// The GS1 mod-10 check digit does not match; the reason gives expected and found digits.
        public static let badCheckDigit = Code(.badCheckDigit)
        /// The identity has a GTIN but no serial (AI 21): it names a product class, not one item.
        public static let missingSerial = Code(.missingSerial)
        /// A serial is present but has no characters.
        public static let emptySerial = Code(.emptySerial)
        /// A serial longer than 20 characters.
        public static let serialTooLong = Code(.serialTooLong)
        /// A character outside GS1 AI encodable character set 82 (or one that must be escaped in this form).
        public static let illegalCharacter = Code(.illegalCharacter)
        /// A lot, variant or attribute that is present but empty.
        public static let emptyValue = Code(.emptyValue)
        /// A lot or other variable-length value longer than its AI allows.
        public static let valueTooLong = Code(.valueTooLong)
        /// A fixed-length field ends (end of data or a GS separator) before all its characters arrived.
        public static let truncatedField = Code(.truncatedField)
        /// A YYMMDD field that is not a real calendar date.
        public static let invalidDate = Code(.invalidDate)
        /// An Application Identifier this module does not know; its data cannot be delimited or vouched for.
        public static let unknownAI = Code(.unknownAI)
        /// The same AI appears twice with different values.
        public static let duplicateAI = Code(.duplicateAI)
        /// An AI in the wrong place of a Digital Link (path vs. query, or qualifiers out of 22, 10, 21 order).
        public static let misplacedAI = Code(.misplacedAI)
        /// Two GS separators in a row, i.e. an empty element string.
        public static let unexpectedSeparator = Code(.unexpectedSeparator)
        /// Characters left over where nothing more was expected.
        public static let trailingGarbage = Code(.trailingGarbage)
        /// Not a well-formed `http(s)` URI: bad scheme, empty host, character that must be percent-encoded, etc.
        public static let malformedURI = Code(.malformedURI)
        /// A `%` not followed by two hex digits, or escapes that do not decode to UTF-8.
        public static let badPercentEncoding = Code(.badPercentEncoding)
        /// Not a well-formed `urn:epc:id:sgtin:` URN.
        public static let malformedURN = Code(.malformedURN)
        /// A GS1 company prefix (or its length) outside 6–12 digits.
        public static let invalidCompanyPrefix = Code(.invalidCompanyPrefix)

        public var description: String { base.rawValue }
    }

    public let code: Code
    /// What was wrong, where (as "position N"), and what was expected.
    public let reason: String
    /// 0-based offset, counted in `Character`s, in the string handed to the parser (before any trimming); `nil`
    /// when the problem is not at one place (e.g. a missing serial).
    public let position: Int?

    public init(_ code: Code, _ reason: String, position: Int? = nil) {
        self.code = code
        self.reason = reason
        self.position = position
    }

    public var description: String { reason }
}

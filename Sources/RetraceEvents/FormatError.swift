import CodedErrors

/// A statement, entry or export line that is not well-formed Retrace v1.
///
/// Raised before any rule is consulted: the bytes themselves are wrong. ``field`` names where (a
/// JSON path such as `statement.details.grade`), ``reason`` what was expected.
public struct FormatError: CodedError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case malformedJSON, notCanonical, missingField, unknownField, wrongType, invalidValue
            case unsupportedVersion, unknownEventType, badSignature, invalidIdentity, invalidTime
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        public static let malformedJSON = Code(.malformedJSON)
        public static let notCanonical = Code(.notCanonical)
        public static let missingField = Code(.missingField)
        public static let unknownField = Code(.unknownField)
        public static let wrongType = Code(.wrongType)
        public static let invalidValue = Code(.invalidValue)
        public static let unsupportedVersion = Code(.unsupportedVersion)
        public static let unknownEventType = Code(.unknownEventType)
        /// The signature does not verify under the key the statement names.
        public static let badSignature = Code(.badSignature)
        public static let invalidIdentity = Code(.invalidIdentity)
        public static let invalidTime = Code(.invalidTime)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let field: String
    public let reason: String

    public init(_ code: Code, field: String, _ reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    public var description: String { field.isEmpty ? reason : "\(field): \(reason)" }
}

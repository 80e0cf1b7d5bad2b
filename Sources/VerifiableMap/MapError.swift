import CodedErrors

/// Why a map proof or value was refused: the code for programs, the reason for people.
///
/// Equality is on ``code`` only, so callers and tests compare against a bare code.
public struct MapError: CodedError {
    public enum Code: String, Hashable, Sendable, CustomStringConvertible {
        /// The proof bytes do not parse (length, depth, bitmap, trailing bytes).
        case malformedProof = "malformed-proof"
        /// A head value or key is not the fixed size.
        case malformedValue = "malformed-value"
        /// The proof parses but does not lead to the expected root.
        case rootMismatch = "root-mismatch"
        /// A membership proof was offered for an absence, or the other way round.
        case wrongKind = "wrong-kind"

        public var description: String { rawValue }
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(reason) (\(code.rawValue))" }
}

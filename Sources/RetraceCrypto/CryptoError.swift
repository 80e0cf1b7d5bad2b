import CodedErrors

/// A failure in hashing, signing, key handling or signed-note parsing.
///
/// Equality is on ``code`` only, so callers and tests can match the kind of failure without
/// depending on the wording of ``reason``. Reasons never contain private key material.
public struct CryptoError: CodedError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidKeyLength, invalidKeyEncoding, invalidKeyName, invalidSignatureLength
            case openSSLFailure, libsodiumFailure, randomFailure
            case malformedNote, noteNotSigned, noteSignatureInvalid, unknownNoteKey
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        public static let invalidKeyLength = Code(.invalidKeyLength)
        public static let invalidKeyEncoding = Code(.invalidKeyEncoding)
        public static let invalidKeyName = Code(.invalidKeyName)
        public static let invalidSignatureLength = Code(.invalidSignatureLength)
        public static let openSSLFailure = Code(.openSSLFailure)
        public static let libsodiumFailure = Code(.libsodiumFailure)
        public static let randomFailure = Code(.randomFailure)
        public static let malformedNote = Code(.malformedNote)
        /// The note carries no signature by any key the verifier trusts.
        public static let noteNotSigned = Code(.noteNotSigned)
        /// A signature line names a trusted key but does not verify.
        public static let noteSignatureInvalid = Code(.noteSignatureInvalid)
        public static let unknownNoteKey = Code(.unknownNoteKey)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}

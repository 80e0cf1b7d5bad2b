import CodedErrors

/// Why an audit could not be carried out at all (as opposed to a ledger found false).
public struct AuditError: CodedError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unreadable, notALedger, untrustedCheckpoint, storage, invalidArgument
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The file cannot be opened or read.
        public static let unreadable = Code(.unreadable)
        /// The input is not a Retrace ledger or export (wrong header, wrong format name).
        public static let notALedger = Code(.notALedger)
        /// The checkpoint the auditor says it trusted does not verify under its own log key.
        public static let untrustedCheckpoint = Code(.untrustedCheckpoint)
        /// The storage engine failed while reading (damaged file, I/O error).
        public static let storage = Code(.storage)
        /// The auditor was configured wrongly (no trust roots, threads outside 1...2).
        public static let invalidArgument = Code(.invalidArgument)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

import CodedErrors
import RetraceEvents
import RetraceRules
import RetraceStorage

/// Why an append, or opening a ledger, failed. Nothing was written when one is thrown.
///
/// ``statementIndex`` is the position in the submitted batch (a batch is all-or-nothing, so the
/// caller needs to know which statement spoiled it).
public struct LedgerError: CodedError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case malformed, untrusted, ruleViolation, chainConflict, duplicate, futureEvent, storage, emptyBatch
            case wrongLogKey
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// The statement is not well-formed v1.
        public static let malformed = Code(.malformed)
        /// The signer is not trusted for this statement at its time, or the signature is wrong.
        public static let untrusted = Code(.untrusted)
        /// A lifecycle or roster rule refuses it; ``LedgerError/rule`` names the rule.
        public static let ruleViolation = Code(.ruleViolation)
        /// `previous` is not the product's current head: someone else appended first, or this is a
        /// fork or replay. Re-read the head and sign again.
        public static let chainConflict = Code(.chainConflict)
        /// The same statement is already in the log.
        public static let duplicate = Code(.duplicate)
        /// The statement claims a time later than the log's clock allows.
        public static let futureEvent = Code(.futureEvent)
        public static let storage = Code(.storage)
        public static let emptyBatch = Code(.emptyBatch)
        /// The log key given does not match the one this ledger was created with.
        public static let wrongLogKey = Code(.wrongLogKey)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let reason: String
    public let statementIndex: Int?
    public let product: String?
    public let rule: String?
    /// The storage failure underneath, for callers that map it (busy and conflict are retryable).
    public let storage: StorageError?

    public init(
        _ code: Code,
        _ reason: String,
        statementIndex: Int? = nil,
        product: String? = nil,
        rule: String? = nil,
        storage: StorageError? = nil
    ) {
        self.code = code
        self.reason = reason
        self.statementIndex = statementIndex
        self.product = product
        self.rule = rule
        self.storage = storage
    }

    public var description: String {
        var text = reason
        if let rule { text = "rule \(rule): " + text }
        if let statementIndex { text = "statement \(statementIndex): " + text }
        return text
    }

    static func wrap(_ error: any Error, statement: Int? = nil) -> LedgerError {
        switch error {
        case let error as LedgerError:
            // Refusals found while committing (conflicts, duplicates, future times) name the
            // statement too, so a batch's client knows which one to fix.
            guard error.statementIndex == nil, let statement else { return error }
            return LedgerError(
                error.code,
                error.reason,
                statementIndex: statement,
                product: error.product,
                rule: error.rule,
                storage: error.storage
            )
        case let error as FormatError:
            return LedgerError(.malformed, error.description, statementIndex: statement)
        case let error as RuleViolation:
            let code: Code = error.isAuthentication ? .untrusted : .ruleViolation
            return LedgerError(code, error.reason, statementIndex: statement, product: error.product, rule: error.rule)
        case let error as StorageError:
            return LedgerError(.storage, error.reason, statementIndex: statement, storage: error)
        default:
            return LedgerError(.storage, "\(error)", statementIndex: statement)
        }
    }
}

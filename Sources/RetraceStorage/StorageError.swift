import CodedErrors

/// A failure of the ledger file or database, as opposed to a refused statement.
public struct StorageError: CodedError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case notFound, notALedger, newerSchema, alreadyExists, corrupt, busy, readOnly, full, conflict, io
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// No ledger at the path.
        public static let notFound = Code(.notFound)
        /// The file exists but is not a Retrace ledger (another SQLite database, or not SQLite at all).
        public static let notALedger = Code(.notALedger)
        /// Written by a newer Retrace; this one must not guess at its meaning.
        public static let newerSchema = Code(.newerSchema)
        public static let alreadyExists = Code(.alreadyExists)
        /// The stored data contradicts itself or SQLite reports damage.
        public static let corrupt = Code(.corrupt)
        /// Another writer holds the lock longer than the busy timeout; retrying is safe.
        public static let busy = Code(.busy)
        public static let readOnly = Code(.readOnly)
        public static let full = Code(.full)
        /// The tree moved under a writer (another process appended); retrying is safe.
        public static let conflict = Code(.conflict)
        public static let io = Code(.io)
        public var description: String { base.rawValue }
    }

    public let code: Code
    public let reason: String
    /// Set when one stored entry's value cannot be read back (a damaged packed entry): which one,
    /// and the leaf hash stored beside it, so that an audit reports that entry and goes on.
    public let unreadableEntry: UnreadableEntry?

    public struct UnreadableEntry: Sendable {
        public let index: UInt64
        public let storedLeafHash: [UInt8]

        public init(index: UInt64, storedLeafHash: [UInt8]) {
            self.index = index
            self.storedLeafHash = storedLeafHash
        }
    }

    public init(_ code: Code, _ reason: String) {
        self.init(code, reason, unreadableEntry: nil)
    }

    public init(_ code: Code, _ reason: String, unreadableEntry: UnreadableEntry?) {
        self.code = code
        self.reason = reason
        self.unreadableEntry = unreadableEntry
    }

    public var description: String { reason }
}

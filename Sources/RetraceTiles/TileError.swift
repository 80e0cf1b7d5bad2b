import CodedErrors

/// A failure to produce, write or read tiles. Equality is on ``code`` only (``CodedError``).
public struct TileError: CodedError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case notPublished, storage, entryTooLarge, unreadable, notFound, malformed, inconsistent, untrusted
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The tile or members file lies beyond the newest signed checkpoint.
        public static let notPublished = Code(.notPublished)
        /// The ledger's storage does not hold what a tile needs.
        public static let storage = Code(.storage)
        /// An entry is over the 65,535 bytes a tlog-tiles entry bundle can hold.
        public static let entryTooLarge = Code(.entryTooLarge)
        /// A folder or URL could not be read or written.
        public static let unreadable = Code(.unreadable)
        /// The tile host has no file at a path that the checkpoint says must exist.
        public static let notFound = Code(.notFound)
        /// A tile, members file or checkpoint does not have the shape it must have.
        public static let malformed = Code(.malformed)
        /// A folder already holds tiles of a tree that is not a prefix of this ledger.
        public static let inconsistent = Code(.inconsistent)
        /// The checkpoint is not signed by the trusted log key for the expected origin.
        public static let untrusted = Code(.untrusted)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

}

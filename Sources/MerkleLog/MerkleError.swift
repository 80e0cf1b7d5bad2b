import CodedErrors

/// A failure in building, proving, verifying or parsing anything in the Merkle log.
///
/// Equality is on ``code`` only, so callers and tests can match the kind of failure without
/// depending on the wording of ``reason``, which says what was wrong, where, and what was expected.
public struct MerkleError: CodedError {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidHashLength, indexOutOfRange, invalidSizes, sizeOverflow
            case wrongProofLength, rootMismatch
            case missingNode, corruptNode, invalidFrontier
            case malformedCheckpoint, originMismatch
            case malformedNote, noteUntrusted, noteSignatureInvalid
            case malformedTilePath, malformedTile
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A leaf, node, root or proof hash is not exactly 32 bytes.
        public static let invalidHashLength = Code(.invalidHashLength)
        /// A leaf index is not below the tree size.
        public static let indexOutOfRange = Code(.indexOutOfRange)
        /// Tree sizes that admit no proof: size1 > size2, or a consistency proof from size 0.
        public static let invalidSizes = Code(.invalidSizes)
        /// Appending would take the tree past 2^64 − 1 leaves.
        public static let sizeOverflow = Code(.sizeOverflow)
        /// A proof has more or fewer hashes than its sizes and index call for.
        public static let wrongProofLength = Code(.wrongProofLength)
        /// A proof does not lead to the expected root (or, for consistency, to one of the two roots).
        public static let rootMismatch = Code(.rootMismatch)
        /// The storage does not hold a node the computation needs, usually because the requested
        /// size lies beyond the log's current size.
        public static let missingNode = Code(.missingNode)
        /// The storage returned a node hash that is not 32 bytes.
        public static let corruptNode = Code(.corruptNode)
        /// A compact range was given a number of hashes that does not match its size.
        public static let invalidFrontier = Code(.invalidFrontier)
        /// A checkpoint body breaks the C2SP tlog-checkpoint format.
        public static let malformedCheckpoint = Code(.malformedCheckpoint)
        /// A checkpoint's origin line is not the one the caller expects.
        public static let originMismatch = Code(.originMismatch)
        /// A checkpoint's signed note cannot be split into text and signatures.
        public static let malformedNote = Code(.malformedNote)
        /// A checkpoint carries no signature by any trusted key.
        public static let noteUntrusted = Code(.noteUntrusted)
        /// A trusted key's signature on a checkpoint does not verify.
        public static let noteSignatureInvalid = Code(.noteSignatureInvalid)
        /// A path is not the canonical C2SP tlog-tiles spelling of a tile.
        public static let malformedTilePath = Code(.malformedTilePath)
        /// A tile's bytes do not have the shape its path announces (size, entry lengths).
        public static let malformedTile = Code(.malformedTile)

        public var description: String { base.rawValue }
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

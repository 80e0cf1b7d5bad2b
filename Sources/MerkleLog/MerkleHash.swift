import RetraceCrypto

/// The RFC 9162 §2.1.1 hashes of the log's Merkle tree.
///
/// Leaves and interior nodes are hashed with different one-byte prefixes (0x00, 0x01) so that a
/// leaf can never be passed off as an interior node (second-preimage resistance, RFC 9162 §2.1.1).
public enum MerkleHash {
    /// Every hash in the tree is a SHA-256 digest.
    public static let byteCount = SHA256.byteCount

    /// `MTH({})`: the root of the empty tree, `SHA-256("")`.
    public static let emptyRoot: [UInt8] = SHA256.hash([UInt8]())

    /// `SHA-256(0x00 ‖ entry)`: the hash of one log entry as a leaf.
    public static func leafHash(_ entry: some Collection<UInt8>) -> [UInt8] {
        SHA256.hash(prefix: 0x00, entry)
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node.
    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        SHA256.hash(prefix: 0x01, left, right)
    }

    /// The same hash of digests held inline, for a caller that computes many without keeping
    /// them as arrays (the audit's recomputed tree: an array per interior node was an allocation).
    public static func nodeHash(_ left: SHA256Digest, _ right: SHA256Digest) -> SHA256Digest {
        withUnsafeBytes(of: UInt8(0x01)) { prefix in
            left.withUnsafeBytes { left in
                right.withUnsafeBytes { right in SHA256Digest(hashing: prefix, left, right) }
            }
        }
    }

    /// Refuses anything but a 32-byte hash, naming it in the error.
    ///
    /// Every verifier checks lengths before hashing: read literally, the RFC proof loops accept an
    /// empty root together with an empty leaf.
    static func requireHash(_ hash: [UInt8], _ what: @autoclosure () -> String) throws(MerkleError) {
        guard hash.count == byteCount else {
            throw MerkleError(.invalidHashLength, "\(what()) is \(hash.count) bytes, expected \(byteCount)")
        }
    }
}

import RetraceCrypto

/// The hashes of the heads map, domain-separated from each other and from the log's RFC 9162
/// hashes (0x00 leaf, 0x01 node), so no map hash can be passed off as a log hash or as a map
/// hash of the other kind.
public enum MapHash {
    /// The hash of an empty subtree: 32 zero bytes (no SHA-256 output is known to be zero).
    public static let empty = [UInt8](repeating: 0, count: 32)

    /// `SHA-256(0x02 ‖ key ‖ value)`: a subtree holding exactly one key.
    public static func leaf(key: [UInt8], value: HeadValue) -> [UInt8] {
        SHA256.hash(prefix: 0x02, key, value.bytes)
    }

    /// `SHA-256(0x03 ‖ left ‖ right)`: a subtree holding two or more keys.
    public static func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        SHA256.hash(prefix: 0x03, left, right)
    }

    /// ``leaf(key:value:)`` held inline, for the map's own nodes.
    static func leafDigest(key: [UInt8], value: HeadValue) -> SHA256Digest {
        key.withUnsafeBytes { key in value.withEncodedBytes { leafDigest(key: key, encodedValue: $0) } }
    }

    /// ``leaf(key:value:)`` of a key and an encoded value held anywhere (``FlatHeadsMap`` keeps
    /// them inline).
    static func leafDigest(key: UnsafeRawBufferPointer, encodedValue: UnsafeRawBufferPointer) -> SHA256Digest {
        withUnsafeBytes(of: UInt8(0x02)) { SHA256Digest(hashing: $0, key, encodedValue) }
    }

    /// ``node(_:_:)`` held inline, for the map's own nodes.
    static func nodeDigest(_ left: SHA256Digest, _ right: SHA256Digest) -> SHA256Digest {
        withUnsafeBytes(of: UInt8(0x03)) { prefix in
            left.withUnsafeBytes { left in right.withUnsafeBytes { right in SHA256Digest(hashing: prefix, left, right) }
            }
        }
    }
}

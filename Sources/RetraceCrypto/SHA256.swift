import COpenSSL

/// SHA-256 through the system libcrypto.
///
/// The one-shot `SHA256()` of libcrypto is used rather than an `EVP_MD_CTX` because every hash
/// Retrace computes (event ids, Merkle leaves and nodes) is over a buffer already in memory, and
/// the one-shot call allocates nothing.
public enum SHA256 {
    public static let byteCount = 32

    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        if let digest = bytes.withContiguousStorageIfAvailable({ hash(buffer: UnsafeRawBufferPointer($0)) }) {
            return digest
        }
        return Array(bytes).withUnsafeBytes { hash(buffer: $0) }
    }

    /// Hashes `prefix ‖ bytes` without building the concatenation in the caller: the Merkle
    /// tree's domain-separated leaf hash is `SHA-256(0x00 ‖ entry)`.
    public static func hash(prefix: UInt8, _ bytes: some Collection<UInt8>) -> [UInt8] {
        var joined = [UInt8]()
        joined.reserveCapacity(bytes.count + 1)
        joined.append(prefix)
        joined.append(contentsOf: bytes)
        return hash(joined)
    }

    /// `SHA-256(prefix ‖ left ‖ right)`, the interior-node hash, on the stack.
    public static func hash(prefix: UInt8, _ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1 + left.count + right.count) { buffer in
            buffer[0] = prefix
            var index = 1
            for byte in left {
                buffer[index] = byte
                index += 1
            }
            for byte in right {
                buffer[index] = byte
                index += 1
            }
            return hash(buffer: UnsafeRawBufferPointer(buffer))
        }
    }

    private static func hash(buffer: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: byteCount) { out, count in
            _ = COpenSSL.SHA256(
                buffer.baseAddress?.assumingMemoryBound(to: UInt8.self),
                buffer.count,
                out.baseAddress
            )
            count = byteCount
        }
    }
}

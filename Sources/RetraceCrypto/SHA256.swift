import COpenSSL

/// SHA-256 through the system libcrypto.
///
/// Every hash Retrace computes (event ids, Merkle leaves and nodes, heads-map nodes) is over a
/// buffer already in memory, so each is one `EVP_Digest` call with the algorithm fetched once
/// (``algorithm``). Most are short (a Merkle node is 65 bytes), where the per-call overhead is
/// most of the cost: OpenSSL 3.0's one-shot `SHA256()` goes through `EVP_Q_digest`, which fetches
/// SHA-256 from the provider on every call (under callgrind, 58 % of the instructions of a 65-byte
/// hash), and took 0.36–0.50 µs per node here against 0.15–0.21 µs for `EVP_Digest` with a
/// pre-fetched algorithm (BENCHMARKS.md, "The signature floor").
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

    /// SHA-256 fetched once from the default provider, for the life of the process (never
    /// freed). An `EVP_MD` is immutable once fetched and libcrypto lets any number of threads
    /// digest with it at once, which is why sharing this pointer is safe.
    private nonisolated(unsafe) static let algorithm: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)

    private static func hash(buffer: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: byteCount) { out, count in
            count = byteCount
            if let algorithm, EVP_Digest(buffer.baseAddress, buffer.count, out.baseAddress, nil, algorithm, nil) == 1 {
                return
            }
            // Only if libcrypto could not fetch SHA-256 or allocate a context: the slow path,
            // which gives the same digest.
            _ = COpenSSL.SHA256(
                buffer.baseAddress?.assumingMemoryBound(to: UInt8.self),
                buffer.count,
                out.baseAddress
            )
        }
    }
}

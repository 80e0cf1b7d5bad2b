import COpenSSL

/// SHA-256 through the system libcrypto.
///
/// Every hash Retrace computes (event ids, Merkle leaves and nodes, heads-map nodes) is over
/// bytes already in memory, and most are short (a Merkle node is 65 bytes), where the per-call
/// overhead is most of the cost: OpenSSL 3.0's one-shot `SHA256()` goes through `EVP_Q_digest`,
/// which fetches SHA-256 from the provider on every call (0.36–0.50 µs per node here), and
/// `EVP_Digest` still allocates and frees a context per call (0.15–0.21 µs). `retrace_sha256` (the
/// C shim) hashes on the stack with the low-level functions, on the same assembly, in about
/// 0.10 µs, and takes a prefix and two parts so that no caller concatenates them first
/// (BENCHMARKS.md, "The signature floor" and "Issue 15: the heads map's nodes").
public enum SHA256 {
    public static let byteCount = 32

    /// An empty part, for the hashes of fewer than three.
    public static var nothing: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        if let digest = bytes.withContiguousStorageIfAvailable({
            hash(UnsafeRawBufferPointer($0), SHA256.nothing, SHA256.nothing)
        }) {
            return digest
        }
        return Array(bytes).withUnsafeBytes { hash($0, SHA256.nothing, SHA256.nothing) }
    }

    /// `SHA-256(prefix ‖ bytes)`: the Merkle tree's domain-separated leaf hash is
    /// `SHA-256(0x00 ‖ entry)`.
    public static func hash(prefix: UInt8, _ bytes: some Collection<UInt8>) -> [UInt8] {
        withUnsafeBytes(of: prefix) { prefix in
            if let digest = bytes.withContiguousStorageIfAvailable({
                hash(prefix, UnsafeRawBufferPointer($0), SHA256.nothing)
            }) {
                return digest
            }
            return Array(bytes).withUnsafeBytes { hash(prefix, $0, SHA256.nothing) }
        }
    }

    /// `SHA-256(prefix ‖ left ‖ right)`, the interior-node hash.
    public static func hash(prefix: UInt8, _ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: prefix) { prefix in
            left.withUnsafeBytes { left in right.withUnsafeBytes { right in hash(prefix, left, right) } }
        }
    }

    /// `SHA-256(a ‖ b ‖ c)` into a fresh array.
    public static func hash(
        _ a: UnsafeRawBufferPointer,
        _ b: UnsafeRawBufferPointer,
        _ c: UnsafeRawBufferPointer
    ) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: byteCount) { out, count in
            digest(a, b, c, into: UnsafeMutableRawBufferPointer(out))
            count = byteCount
        }
    }

    /// `SHA-256(a ‖ b ‖ c)` into `out` (at least 32 bytes): for callers that keep digests inline
    /// (``SHA256Digest``) rather than one array each.
    public static func digest(
        _ a: UnsafeRawBufferPointer,
        _ b: UnsafeRawBufferPointer,
        _ c: UnsafeRawBufferPointer,
        into out: UnsafeMutableRawBufferPointer
    ) {
        precondition(out.count >= byteCount, "a SHA-256 output needs 32 bytes")
        // `SHA256_Init`/`Update`/`Final` allocate nothing and take no provider: for SHA-256 they
        // cannot fail, so a failure here is a broken libcrypto, not bad input.
        let hashed = retrace_sha256(
            a.baseAddress,
            a.count,
            b.baseAddress,
            b.count,
            c.baseAddress,
            c.count,
            out.baseAddress?.assumingMemoryBound(to: UInt8.self)
        )
        precondition(hashed == 1, "libcrypto's SHA-256 failed")
    }
}

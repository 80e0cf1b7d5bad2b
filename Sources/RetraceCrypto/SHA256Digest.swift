/// A SHA-256 output held inline, as four words: a tree that keeps one per node (the heads map
/// rebuilds hundreds of thousands of nodes per audit) pays no heap allocation and no reference
/// counting for it, as it would for a `[UInt8]`.
public struct SHA256Digest: Hashable, Sendable {
    /// The 32 bytes in order. A homogeneous tuple is laid out contiguously, so its raw bytes are
    /// the digest's.
    private var words: (UInt64, UInt64, UInt64, UInt64)

    /// 32 zero bytes: the heads map's empty subtree (no SHA-256 output is known to be zero).
    public static let zero = SHA256Digest(words: (0, 0, 0, 0))

    private init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// The digest of exactly 32 bytes, or nil for any other count: one copy. The generic
    /// initializer below, called from another module, runs unspecialized (an enumerating
    /// iterator looked up through type metadata, about 35 K instructions for 32 bytes; issue 15).
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == SHA256.byteCount else { return nil }
        self = .zero
        withUnsafeMutableBytes(of: &words) { out in bytes.withUnsafeBytes { out.copyMemory(from: $0) } }
    }

    /// The digest of exactly 32 bytes, or nil for any other count.
    public init?(_ bytes: some Collection<UInt8>) {
        guard bytes.count == SHA256.byteCount else { return nil }
        self = .zero
        withUnsafeMutableBytes(of: &words) { out in
            for (offset, byte) in bytes.enumerated() { out[offset] = byte }
        }
    }

    /// `SHA-256(a ‖ b ‖ c)`.
    public init(
        hashing a: UnsafeRawBufferPointer,
        _ b: UnsafeRawBufferPointer = SHA256.nothing,
        _ c: UnsafeRawBufferPointer = SHA256.nothing
    ) {
        self = .zero
        withUnsafeMutableBytes(of: &words) { SHA256.digest(a, b, c, into: $0) }
    }

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(of: words, body)
    }

    public static func == (left: SHA256Digest, right: SHA256Digest) -> Bool {
        left.words.0 == right.words.0 && left.words.1 == right.words.1 && left.words.2 == right.words.2
            && left.words.3 == right.words.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}

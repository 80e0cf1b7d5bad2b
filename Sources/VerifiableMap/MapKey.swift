import RetraceCrypto

/// The 256-bit keys of the heads map: SHA-256 of a domain-separated name, so keys are spread
/// uniformly (the tree stays about log2(n) deep whatever the names) and no product's key can ever
/// equal the roster's or a product class's.
public enum MapKey {
    public static let byteCount = 32

    /// `SHA-256("retrace-heads/v1 product\n" ‖ canonical Digital Link)`.
    public static func product(_ digitalLink: String) -> [UInt8] { productDigest(digitalLink).bytes }

    /// `SHA-256("retrace-heads/v1 class\n" ‖ GTIN-14)`: the chain of a GTIN's `product-class`
    /// statements. Its own prefix keeps it apart from every product key, whatever the GTIN.
    public static func productClass(_ gtin: String) -> [UInt8] { productClassDigest(gtin).bytes }

    /// `SHA-256("retrace-heads/v1 roster\n")`: the one reserved key of the roster chain.
    public static let roster: [UInt8] = rosterDigest.bytes

    private static let productPrefix = Array("retrace-heads/v1 product\n".utf8)
    private static let classPrefix = Array("retrace-heads/v1 class\n".utf8)

    /// ``product(_:)`` held inline: for a table keyed by map keys, which hashes four words rather
    /// than 32 array elements one by one, and allocates nothing for a key it already holds.
    public static func productDigest(_ digitalLink: String) -> SHA256Digest { digest(productPrefix, digitalLink) }

    /// ``productClass(_:)`` held inline.
    public static func productClassDigest(_ gtin: String) -> SHA256Digest { digest(classPrefix, gtin) }

    /// ``roster`` held inline.
    public static let rosterDigest = digest(Array("retrace-heads/v1 roster\n".utf8), "")

    /// `SHA-256(prefix ‖ name)` without joining them first: one key per appended or audited event.
    private static func digest(_ prefix: [UInt8], _ name: String) -> SHA256Digest {
        var name = name
        return prefix.withUnsafeBytes { prefix in
            name.withUTF8 { SHA256Digest(hashing: prefix, UnsafeRawBufferPointer($0)) }
        }
    }

    /// Bit `depth` of a key, most significant bit of byte 0 first: 0 goes left, 1 right.
    @inline(__always)
    static func bit(_ key: [UInt8], _ depth: Int) -> Bool {
        key[depth >> 3] & (0x80 >> UInt8(depth & 7)) != 0
    }
}

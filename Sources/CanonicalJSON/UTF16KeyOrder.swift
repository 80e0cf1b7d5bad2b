/// Exact key comparison and RFC 8785 key ordering, computed on UTF-8 bytes without building UTF-16 arrays.
///
/// RFC 8785 §3.2.3 sorts object keys by their UTF-16 code units. UTF-8 byte order equals Unicode scalar
/// order, and that equals UTF-16 order except in one case: a scalar in U+E000...U+FFFF (UTF-8 lead byte
/// 0xEE or 0xEF) sorts *after* a supplementary scalar (lead byte 0xF0...0xF4) in UTF-16, because the
/// latter starts with a surrogate unit 0xD800...0xDBFF. So we compare bytes and flip the answer only
/// when the first differing scalars fall into those two classes. Swift's `String ==` is not used anywhere
/// for keys: it equates canonically equivalent strings ("é" vs "e\u{301}"), which are distinct JSON keys.
enum UTF16KeyOrder {
    /// Runs `body` over the UTF-8 bytes of `string`, copying only if the string is not stored contiguously.
    @inline(__always)
    static func withBytes<R>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let result = try string.utf8.withContiguousStorageIfAvailable(body) {
            return result
        }
        var copy = string
        return try copy.withUTF8(body)
    }

    /// Three-way comparison in UTF-16 code unit order: negative, zero (identical scalars) or positive.
    static func compare(_ lhs: String, _ rhs: String) -> Int {
        withBytes(lhs) { a in withBytes(rhs) { b in compare(a, b) } }
    }

    /// True when `lhs` sorts strictly before `rhs` in UTF-16 code unit order.
    @inline(__always)
    static func less(_ lhs: String, _ rhs: String) -> Bool { compare(lhs, rhs) < 0 }

    /// True when both strings hold exactly the same Unicode scalars (no normalisation).
    @inline(__always)
    static func exactlyEqual(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.count == rhs.utf8.count && compare(lhs, rhs) == 0
    }

    /// Three-way UTF-16 order of two well-formed UTF-8 byte sequences.
    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let common = min(a.count, b.count)
        var i = 0
        while i < common && a[i] == b[i] { i += 1 }
        if i == common {
            return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
        }
        // Both sequences agree before `i`, so the differing scalars start at the same index `start`.
        var start = i
        while start > 0 && a[start] & 0xC0 == 0x80 { start -= 1 }
        let leadA = a[start]
        let leadB = b[start]
        if leadA != leadB {
            let aIsHighBMP = leadA == 0xEE || leadA == 0xEF
            let bIsHighBMP = leadB == 0xEE || leadB == 0xEF
            if aIsHighBMP && leadB >= 0xF0 { return 1 }
            if bIsHighBMP && leadA >= 0xF0 { return -1 }
        }
        return a[i] < b[i] ? -1 : 1
    }

    /// Hashes the exact UTF-8 bytes, consistent with `exactlyEqual`.
    static func hashExactly(_ string: String, into hasher: inout Hasher) {
        withBytes(string) { bytes in
            hasher.combine(bytes.count)
            hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
    }
}

/// Bytewise (unsigned, shorter-first) order, eight bytes at a time: the order of the heads map's
/// keys and of the stores' chain keys (SQLite BINARY, PostgreSQL "C"). The generic
/// `lexicographicallyPrecedes` walks one element per iterator step; sorting the keys an audit
/// or an append touches spent about 100 M instructions there per 10^4 audited entries (issue 15).
public enum Bytewise {
    public static func precedes(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        let common = min(left.count, right.count)
        var at = 0
        while at + 8 <= common {
            let a = UInt64(bigEndian: left.loadUnaligned(fromByteOffset: at, as: UInt64.self))
            let b = UInt64(bigEndian: right.loadUnaligned(fromByteOffset: at, as: UInt64.self))
            if a != b { return a < b }
            at += 8
        }
        while at < common {
            if left[at] != right[at] { return left[at] < right[at] }
            at += 1
        }
        return left.count < right.count
    }

    public static func precedes(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        left.withUnsafeBytes { left in right.withUnsafeBytes { right in precedes(left, right) } }
    }

    /// The UTF-8 of the two strings in bytewise order (`String`'s own `<` follows Unicode).
    public static func precedes(_ left: String, _ right: String) -> Bool {
        var left = left
        var right = right
        return left.withUTF8 { left in
            right.withUTF8 { right in precedes(UnsafeRawBufferPointer(left), UnsafeRawBufferPointer(right)) }
        }
    }

    /// Whether the two strings' UTF-8 are the same bytes. `String`'s own `==` is Unicode
    /// equivalence, and comparing the two `utf8` views with `elementsEqual` ran one element per
    /// generic iterator step: about 4.6 K instructions per chain key at the end of an audit.
    public static func equal(_ left: String, _ right: String) -> Bool {
        guard left.utf8.count == right.utf8.count else { return false }
        var left = left
        var right = right
        return left.withUTF8 { left in
            right.withUTF8 { right in equal(UnsafeRawBufferPointer(left), UnsafeRawBufferPointer(right)) }
        }
    }

    public static func equal(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
        guard left.count == right.count else { return false }
        var at = 0
        while at + 8 <= left.count {
            let a = left.loadUnaligned(fromByteOffset: at, as: UInt64.self)
            if a != right.loadUnaligned(fromByteOffset: at, as: UInt64.self) { return false }
            at += 8
        }
        while at < left.count {
            if left[at] != right[at] { return false }
            at += 1
        }
        return true
    }
}

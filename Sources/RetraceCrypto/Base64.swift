/// Standard padded base64 (RFC 4648 §4), the encoding of signed notes and of signatures in JSON.
///
/// Written out rather than taken from Foundation: every parsed entry decodes its signature, and
/// `Data(base64Encoded:)` followed by re-encoding to prove the spelling canonical cost six
/// allocations per entry (issue 15). This decoder checks canonical form as it reads.
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { input in
            String(unsafeUninitializedCapacity: encodedCount(input.count)) { out in
                var at = 0
                write(input, into: out, at: &at)
                return at
            }
        }
    }

    /// The length of the padded encoding of `count` bytes.
    public static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Writes the padded encoding of `bytes` into `out` from `at`, and moves `at` past it: for a
    /// caller that assembles a larger text in one buffer (an unpacked entry's signature).
    public static func write(
        _ bytes: UnsafeBufferPointer<UInt8>,
        into out: UnsafeMutableBufferPointer<UInt8>,
        at: inout Int
    ) {
        var index = 0
        while index + 3 <= bytes.count {
            let group = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out[at] = symbol(group >> 18)
            out[at + 1] = symbol(group >> 12)
            out[at + 2] = symbol(group >> 6)
            out[at + 3] = symbol(group)
            at += 4
            index += 3
        }
        let left = bytes.count - index
        if left > 0 {
            let second = left == 2 ? UInt32(bytes[index + 1]) : 0
            let group = UInt32(bytes[index]) << 16 | second << 8
            out[at] = symbol(group >> 18)
            out[at + 1] = symbol(group >> 12)
            out[at + 2] = left == 2 ? symbol(group >> 6) : UInt8(ascii: "=")
            out[at + 3] = UInt8(ascii: "=")
            at += 4
        }
    }

    /// Strict decoding: `nil` unless `text` is the one canonical encoding of its bytes, so that a
    /// signature or hash has exactly one spelling and cannot be malleated in transit: padding
    /// present and only at the end, no other characters (no line breaks, no URL-safe alphabet),
    /// and the bits after the last byte zero.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        if let decoded = text.utf8.withContiguousStorageIfAvailable(decode(utf8:)) { return decoded }
        return Array(text.utf8).withUnsafeBufferPointer(decode(utf8:))
    }

    /// The strict decoding above, of text already in a buffer (a signature inside an entry).
    public static func decode(utf8: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard utf8.count % 4 == 0 else { return nil }
        guard !utf8.isEmpty else { return [] }
        let padding = utf8[utf8.count - 1] != UInt8(ascii: "=") ? 0 : utf8[utf8.count - 2] != UInt8(ascii: "=") ? 1 : 2
        let symbols = utf8.count - padding
        var valid = true
        let bytes = [UInt8](unsafeUninitializedCapacity: utf8.count / 4 * 3 - padding) { out, count in
            var group: UInt32 = 0
            for index in 0..<symbols {
                guard let value = value(utf8[index]) else {
                    valid = false
                    return
                }
                group = group << 6 | UInt32(value)
                if index % 4 == 3 {
                    out[count] = UInt8(truncatingIfNeeded: group >> 16)
                    out[count + 1] = UInt8(truncatingIfNeeded: group >> 8)
                    out[count + 2] = UInt8(truncatingIfNeeded: group)
                    count += 3
                    group = 0
                }
            }
            switch padding {
            case 1:
                // Three symbols, 18 bits: two bytes and two bits that must be zero.
                guard group & 0x3 == 0 else {
                    valid = false
                    return
                }
                out[count] = UInt8(truncatingIfNeeded: group >> 10)
                out[count + 1] = UInt8(truncatingIfNeeded: group >> 2)
                count += 2
            case 2:
                // Two symbols, 12 bits: one byte and four bits that must be zero.
                guard group & 0xf == 0 else {
                    valid = false
                    return
                }
                out[count] = UInt8(truncatingIfNeeded: group >> 4)
                count += 1
            default:
                break
            }
        }
        return valid ? bytes : nil
    }

    @inline(__always)
    private static func symbol(_ sextet: UInt32) -> UInt8 {
        let value = UInt8(truncatingIfNeeded: sextet & 0x3f)
        switch value {
        case 0..<26: return UInt8(ascii: "A") + value
        case 26..<52: return UInt8(ascii: "a") + value - 26
        case 52..<62: return UInt8(ascii: "0") + value - 52
        case 62: return UInt8(ascii: "+")
        default: return UInt8(ascii: "/")
        }
    }

    @inline(__always)
    private static func value(_ symbol: UInt8) -> UInt8? {
        switch symbol {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): symbol - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): symbol - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): symbol - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}

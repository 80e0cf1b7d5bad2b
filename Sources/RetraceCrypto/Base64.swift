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
        alphabet.withUTF8Buffer { alphabet in
            var index = 0
            while index + 3 <= bytes.count {
                let group = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
                out[at] = alphabet[group >> 18]
                out[at + 1] = alphabet[group >> 12 & 0x3f]
                out[at + 2] = alphabet[group >> 6 & 0x3f]
                out[at + 3] = alphabet[group & 0x3f]
                at += 4
                index += 3
            }
            let left = bytes.count - index
            if left > 0 {
                let second = left == 2 ? Int(bytes[index + 1]) : 0
                let group = Int(bytes[index]) << 16 | second << 8
                out[at] = alphabet[group >> 18]
                out[at + 1] = alphabet[group >> 12 & 0x3f]
                out[at + 2] = left == 2 ? alphabet[group >> 6 & 0x3f] : UInt8(ascii: "=")
                out[at + 3] = UInt8(ascii: "=")
                at += 4
            }
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
        let values = Self.values
        let bytes = [UInt8](unsafeUninitializedCapacity: utf8.count / 4 * 3 - padding) { out, count in
            var group: UInt32 = 0
            for index in 0..<symbols {
                let value = values[Int(utf8[index])]
                guard value != Self.notASymbol else {
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

    /// The 64 symbols in value order. Looked up rather than computed by ranges: a signature's
    /// symbols are random, and a branch per range was mispredicted about once per symbol (1.5 % of
    /// an audit's time went to encoding and decoding signatures; issue 15).
    private static let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    /// Marks a byte of ``values`` that is no symbol of the alphabet (padding included).
    private static let notASymbol: UInt8 = 0xff

    /// Each byte's value as a symbol, or ``notASymbol``: 256 entries, so any byte indexes it.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: notASymbol, count: 256)
        alphabet.withUTF8Buffer { symbols in
            for (value, symbol) in symbols.enumerated() { table[Int(symbol)] = UInt8(value) }
        }
        return table
    }()
}

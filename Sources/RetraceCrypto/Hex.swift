/// Lowercase hexadecimal, the spelling Retrace uses for hashes in JSON and on screen.
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        if let encoded = bytes.withContiguousStorageIfAvailable(encode(buffer:)) { return encoded }
        return Array(bytes).withUnsafeBufferPointer(encode(buffer:))
    }

    /// Event ids, leaf hashes and digests are hex-encoded several times per appended event (product
    /// state, statement JSON, answers): one pass into the string's own storage, with no
    /// intermediate array and no generic iteration (issue 15's append profile had 67 K
    /// instructions per event here).
    private static func encode(buffer: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: buffer.count * 2) { out in
            var at = 0
            write(buffer, into: out, at: &at)
            return at
        }
    }

    /// Writes the `2 × bytes.count` lowercase digits of `bytes` into `out` from `at`, and moves
    /// `at` past them: for a caller that assembles a larger text in one buffer (an unpacked entry).
    public static func write(
        _ bytes: UnsafeBufferPointer<UInt8>,
        into out: UnsafeMutableBufferPointer<UInt8>,
        at: inout Int
    ) {
        for byte in bytes {
            out[at] = hexDigit(byte >> 4)
            out[at + 1] = hexDigit(byte & 0x0f)
            at += 2
        }
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble + UInt8(ascii: "0") : nibble - 10 + UInt8(ascii: "a")
    }

    /// Decodes lowercase or uppercase hex; `nil` for odd length or a non-hex character, so callers
    /// can report the field that held it.
    public static func decode(_ text: String) -> [UInt8]? { decode(text, values: values) }

    /// Decodes lowercase hex only, the one spelling of digests and ids in Retrace's JSON; `nil` for
    /// odd length, an uppercase digit or a non-hex character. One pass: checking the spelling first
    /// and decoding after read every id twice (issue 15's audit profile).
    public static func decodeLowercase(_ text: String) -> [UInt8]? { decode(text, values: lowercaseValues) }

    /// ``decodeLowercase(_:)`` of UTF-8 bytes in place, for readers that never make a string of them.
    public static func decodeLowercase(utf8: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        decode(utf8: utf8, values: lowercaseValues)
    }

    private static func decode(_ text: String, values: [UInt8]) -> [UInt8]? {
        // A native string's UTF-8 is contiguous: read in place, not copied into an array first
        // (every parsed statement decodes its id, signer and previous this way).
        if let decoded = text.utf8.withContiguousStorageIfAvailable({ decode(utf8: $0, values: values) }) {
            return decoded
        }
        return Array(text.utf8).withUnsafeBufferPointer { decode(utf8: $0, values: values) }
    }

    private static func decode(utf8: UnsafeBufferPointer<UInt8>, values: [UInt8]) -> [UInt8]? {
        guard utf8.count % 2 == 0 else { return nil }
        var valid = true
        let out = [UInt8](unsafeUninitializedCapacity: utf8.count / 2) { out, count in
            var index = 0
            while index < utf8.count {
                let high = values[Int(utf8[index])]
                let low = values[Int(utf8[index + 1])]
                // Both below 16 exactly when neither is ``notADigit``.
                guard high | low < 16 else {
                    valid = false
                    break
                }
                out[count] = high << 4 | low
                count += 1
                index += 2
            }
        }
        return valid ? out : nil
    }

    /// Marks a byte that is no hex digit in ``values`` and ``lowercaseValues``.
    private static let notADigit: UInt8 = 0xff

    /// Each byte's value as a hex digit of either case, or ``notADigit``.
    private static let values: [UInt8] = table(uppercase: true)

    /// Each byte's value as a lowercase hex digit, or ``notADigit``.
    private static let lowercaseValues: [UInt8] = table(uppercase: false)

    private static func table(uppercase: Bool) -> [UInt8] {
        var table = [UInt8](repeating: notADigit, count: 256)
        for value in 0..<16 {
            table[Int(hexDigit(UInt8(value)))] = UInt8(value)
            if uppercase, value >= 10 { table[Int(UInt8(ascii: "A")) + value - 10] = UInt8(value) }
        }
        return table
    }
}

/// RFC 3986 percent-encoding, shared by Digital Link URIs and EPC URNs.
///
/// Decoding keeps, for every decoded character, the offset of the `%` (or plain character) it came from, so that an
/// illegal `%20` in a serial is reported at the `%` the user can see.
enum PercentEncoding {
    /// RFC 3986 unreserved characters: `A-Z a-z 0-9 - . _ ~`. Everything else is escaped in canonical output.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Escapes every UTF-8 byte for which `keep` is false as `%XX` with uppercase hex (the RFC 3986 recommendation,
    /// and what makes the canonical form byte-for-byte stable).
    static func encode(_ text: String, keeping keep: (UInt8) -> Bool) -> String {
        // Every appended event spells its product's Digital Link several times, and nearly every
        // serial needs no escape: return it as it is, and otherwise build the bytes in one buffer
        // (appending scalar by scalar was ~16 K instructions per link in issue 15's profile).
        if text.utf8.allSatisfy(keep) { return text }
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            if keep(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(upperHexDigit(byte >> 4))
                output.append(upperHexDigit(byte & 0x0f))
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    private static func upperHexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble + UInt8(ascii: "0") : nibble - 10 + UInt8(ascii: "A")
    }

    static func hexValue(_ character: Character) -> UInt8? {
        guard let ascii = character.asciiValue else { return nil }
        switch ascii {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return ascii - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return ascii - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return ascii - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// Checks that the `%` at `index` is followed by two hex digits inside `range`, and returns the byte.
    static func escapedByte(
        in input: [Character],
        at index: Int,
        within range: Range<Int>
    ) throws(IdentityError)
        -> UInt8
    {
        let high = index + 1 < range.upperBound ? hexValue(input[index + 1]) : nil
        let low = index + 2 < range.upperBound ? hexValue(input[index + 2]) : nil
        guard let high, let low else {
            let found = String(input[(index + 1)..<min(index + 3, range.upperBound)])
            throw IdentityError(
                .badPercentEncoding,
                "'%' at position \(index) must be followed by two hexadecimal digits; "
                    + (found.isEmpty ? "found nothing" : "found '\(found)'"),
                position: index
            )
        }
        return high << 4 | low
    }

    /// Decodes `input[range]`; every decoded character remembers the offset of its first source character.
    static func decode(_ input: [Character], _ range: Range<Int>) throws(IdentityError) -> SourceText {
        var bytes: [UInt8] = []
        var byteOffsets: [Int] = []
        var index = range.lowerBound
        while index < range.upperBound {
            let character = input[index]
            if character == "%" {
                bytes.append(try escapedByte(in: input, at: index, within: range))
                byteOffsets.append(index)
                index += 3
            } else {
                for byte in String(character).utf8 {
                    bytes.append(byte)
                    byteOffsets.append(index)
                }
                index += 1
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            let position = zip(bytes, byteOffsets).first { $0.0 >= 0x80 }?.1 ?? range.lowerBound
            throw IdentityError(
                .badPercentEncoding,
                "percent-encoded bytes starting at position \(position) are not valid UTF-8",
                position: position
            )
        }
        var characters: [Character] = []
        var offsets: [Int] = []
        var byteIndex = 0
        for character in decoded {
            characters.append(character)
            offsets.append(byteIndex < byteOffsets.count ? byteOffsets[byteIndex] : range.upperBound)
            byteIndex += String(character).utf8.count
        }
        return SourceText(characters: characters, offsets: offsets, endOffset: range.upperBound)
    }
}

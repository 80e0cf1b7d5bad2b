/// A piece of the scanned input that remembers where each of its characters came from.
///
/// Parsers cut values out of the input and sometimes transform them (percent-decoding turns `%2F` into `/`), yet
/// every error must point at what the user actually typed or scanned. So each character carries its 0-based offset
/// in the original input, and the text knows the offset just past its end for "something is missing here" errors.
struct SourceText: Sendable {
    let characters: [Character]
    /// `offsets[i]` is where `characters[i]` starts in the original input.
    let offsets: [Int]
    /// The offset just past the text (where a missing character would have been).
    let endOffset: Int

    init(characters: [Character], offsets: [Int], endOffset: Int) {
        self.characters = characters
        self.offsets = offsets
        self.endOffset = endOffset
    }

    /// A verbatim slice of the input; array indices are the offsets.
    init(_ slice: ArraySlice<Character>) {
        self.init(characters: Array(slice), offsets: Array(slice.indices), endOffset: slice.endIndex)
    }

    /// A standalone string, as given to `GTIN(_:)` or `Serial(_:)`: offsets count from its first character.
    init(_ string: String) {
        self.init(Array(string)[...])
    }

    var string: String { String(characters) }
    var count: Int { characters.count }
    var isEmpty: Bool { characters.isEmpty }

    /// Offset of the character at `index`, or the end offset when `index` is past the end.
    func offset(at index: Int) -> Int {
        index >= 0 && index < offsets.count ? offsets[index] : endOffset
    }
}

extension Character {
    /// `0`–`9` only: `Character.isNumber` also accepts other scripts' digits and fractions, which GS1 does not.
    var isASCIIDigit: Bool {
        guard let value = asciiValue else { return false }
        return value >= 0x30 && value <= 0x39
    }

    /// The digit's value, for characters already known to be ASCII digits.
    var digitValue: Int {
        Int(asciiValue ?? 0x30) - 0x30
    }

    /// How to show the character in an error: quoted when printable ASCII, otherwise with its code point(s) and
    /// a name for the control characters scanners produce, so that an invisible GS or a trailing space is visible.
    var errorDescription: String {
        let scalars = Array(unicodeScalars)
        if scalars.count == 1, let scalar = scalars.first, scalar.value >= 0x21, scalar.value <= 0x7E {
            return "'\(self)'"
        }
        let codes = scalars.map { scalar -> String in
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }.joined(separator: " ")
        if scalars.count == 1, let scalar = scalars.first, let name = Self.controlNames[scalar.value] {
            return "\(codes) (\(name))"
        }
        if scalars.allSatisfy({ $0.properties.generalCategory == .control || $0.properties.isWhitespace }) {
            return codes
        }
        return "'\(self)' (\(codes))"
    }

    private static let controlNames: [UInt32: String] = [
        0x00: "NUL", 0x04: "EOT", 0x09: "tab", 0x0A: "line feed", 0x0D: "carriage return",
        0x1D: "GS, group separator", 0x1E: "RS, record separator", 0x20: "space", 0x7F: "DEL", 0xA0: "no-break space",
    ]
}

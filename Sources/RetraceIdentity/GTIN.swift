/// A GS1 Global Trade Item Number, always held as 14 digits with a verified check digit.
///
/// GTIN-8, GTIN-12 (UPC-A) and GTIN-13 (EAN-13) are the same number space as GTIN-14 left-padded with zeros
/// (GS1 General Specifications 3.3.2), so normalising to 14 digits makes equal products compare equal whatever form
/// they were scanned in. The check digit is part of the value and has been verified, so a `GTIN` is always valid.
public struct GTIN: Hashable, Sendable, CustomStringConvertible {
    /// Exactly 14 ASCII digits, the last being the GS1 mod-10 check digit.
    public let digits: String

    /// Accepts a GTIN-8, -12, -13 or -14 (digits only, no spaces) and normalises it to 14 digits.
    public init(_ text: String) throws(IdentityError) {
        try self.init(source: SourceText(text), allowedLengths: [8, 12, 13, 14])
    }

    /// Validates digits, then length, then the check digit, so the most specific problem is reported first.
    init(source: SourceText, allowedLengths: [Int]) throws(IdentityError) {
        for (index, character) in source.characters.enumerated() where !character.isASCIIDigit {
            let position = source.offset(at: index)
            throw IdentityError(
                .nonDigit,
                "non-digit \(character.errorDescription) in GTIN at position \(position); "
                    + "a GTIN has digits only",
                position: position
            )
        }
        guard allowedLengths.contains(source.count) else {
            let expected = Self.describe(lengths: allowedLengths)
            throw IdentityError(
                .wrongLength,
                "GTIN at position \(source.offset(at: 0)) has \(source.count) digits; "
                    + "expected \(expected)",
                position: source.offset(at: 0)
            )
        }
        let padded = String(repeating: "0", count: 14 - source.count) + source.string
        let paddedDigits = Array(padded)
        let expected = Self.checkDigit(of: paddedDigits.prefix(13))
        let found = paddedDigits[13].digitValue
        guard expected == found else {
            let position = source.offset(at: source.count - 1)
            throw IdentityError(
                .badCheckDigit,
                "bad GTIN check digit at position \(position): expected \(expected), found \(found)",
                position: position
            )
        }
        self.digits = padded
    }

    /// For digits this module assembled itself and whose check digit it just computed (EPC URN conversion).
    init(computedDigits: String) {
        self.digits = computedDigits
    }

    /// Whether the GS1 company prefix `prefix` (6 to 12 digits) is the one this GTIN was allocated under.
    ///
    /// In a GTIN-14 the company prefix starts right after the indicator digit, so this compares
    /// `digits[1 ..< 1 + prefix.count]` and ignores the indicator (a case of 12 and a single unit share a prefix).
    /// GTIN-12 and GTIN-13 are padded with a leading zero that lands on the indicator, so this works for them as
    /// well; a UPC company prefix must then be given in its 13-digit (GS1) form, i.e. with a leading `0`.
    /// Anything that is not 6–12 digits never matches.
    ///
    /// Compared as UTF-8 in place: every event's authorisation asks it of the signer's prefixes, and
    /// building an array of `Character`s from both strings each time was 2.9 K instructions per
    /// audited entry (issue 15).
    public func companyPrefix(matches prefix: String) -> Bool {
        var prefix = prefix
        var digits = digits
        return prefix.withUTF8 { prefix in
            guard (6...12).contains(prefix.count), prefix.allSatisfy({ (0x30...0x39).contains($0) }) else {
                return false
            }
            return digits.withUTF8 { digits in
                guard digits.count > prefix.count else { return false }
                for offset in 0..<prefix.count where digits[1 + offset] != prefix[offset] { return false }
                return true
            }
        }
    }

    public var description: String { digits }

    /// GS1 mod-10 check digit: from the rightmost payload digit leftwards, weights 3, 1, 3, 1, ...
    ///
    /// Used for GTINs of every length and for SSCCs; leading zeros add nothing, so padding does not change it.
    static func checkDigit(of payload: some BidirectionalCollection<Character>) -> Int {
        var sum = 0
        for (offset, character) in payload.reversed().enumerated() {
            sum += character.digitValue * (offset % 2 == 0 ? 3 : 1)
        }
        return (10 - sum % 10) % 10
    }

    private static func describe(lengths: [Int]) -> String {
        guard lengths.count > 1, let last = lengths.last else { return "exactly \(lengths.first ?? 14) digits" }
        return lengths.dropLast().map(String.init).joined(separator: ", ") + " or \(last) digits"
    }
}

/// A GS1 Application Identifier this module understands: its code, data format and meaning.
///
/// Supported: 01 (GTIN), 21 (serial), 10 (lot), 22 (consumer product variant), 11/15/17 (production, best before,
/// expiry dates), and, accepted, validated and passed through in ``ProductScan/otherElements``:
/// - 00 SSCC (N18, check digit verified): logistic labels often carry it next to the item's AIs;
/// - 12, 13, 16 due, packaging and sell-by dates (N6, validated as dates);
/// - 20 internal product variant (N2);
/// - 310n–316n net weight (kg), length, width, depth (m), area (m²), net volume (l, m³) (N6).
///
/// All the fixed-length ones are in the GS1 "predefined length" table (General Specifications figure 7.8.5-2), so
/// a scanner sends them without a GS separator and their length must be known to find the next AI; that is why
/// these and no others are accepted. Every other AI is refused as unknown rather than skipped: without knowing its
/// format the parser could not tell where it ends, and silently dropping data on a receiving dock is worse than
/// asking for a rescan.
struct ApplicationIdentifier: Hashable, Sendable {
    enum Role: Hashable, Sendable {
        case gtin, serial, lot, variant, sscc
        case expiry, productionDate, bestBefore, otherDate
        case numeric
    }

    enum Length: Hashable, Sendable {
        /// Exactly this many digits.
        case fixed(Int)
        /// 1 to `maximum` characters of character set 82; ended by GS (FNC1) or the end of the data.
        case variable(maximum: Int)
    }

    let code: String
    let title: String
    let role: Role
    let length: Length

    /// "AI (17) expiry date", as errors name it.
    var label: String { "AI (\(code)) \(title)" }

    /// Position in the GS1 Digital Link key-qualifier order for GTIN (01 then 22, 10, 21); `nil` for AIs that are
    /// not qualifiers of 01.
    var qualifierRank: Int? {
        switch role {
        case .variant: return 0
        case .lot: return 1
        case .serial: return 2
        default: return nil
        }
    }

    /// The primary key or one of its qualifiers: in a Digital Link these belong in the path, never the query.
    var isIdentity: Bool { role == .gtin || qualifierRank != nil }

    /// AI 01, the primary key every product identity starts from.
    static let gtin = ApplicationIdentifier(code: "01", title: "GTIN", role: .gtin, length: .fixed(14))

    static let all: [ApplicationIdentifier] = {
        var table: [ApplicationIdentifier] = [
            .init(code: "00", title: "SSCC", role: .sscc, length: .fixed(18)),
            .gtin,
            .init(code: "10", title: "lot", role: .lot, length: .variable(maximum: 20)),
            .init(code: "11", title: "production date", role: .productionDate, length: .fixed(6)),
            .init(code: "12", title: "due date", role: .otherDate, length: .fixed(6)),
            .init(code: "13", title: "packaging date", role: .otherDate, length: .fixed(6)),
            .init(code: "15", title: "best before date", role: .bestBefore, length: .fixed(6)),
            .init(code: "16", title: "sell by date", role: .otherDate, length: .fixed(6)),
            .init(code: "17", title: "expiry date", role: .expiry, length: .fixed(6)),
            .init(code: "20", title: "internal product variant", role: .numeric, length: .fixed(2)),
            .init(code: "21", title: "serial", role: .serial, length: .variable(maximum: 20)),
            .init(code: "22", title: "consumer product variant", role: .variant, length: .variable(maximum: 20)),
        ]
        let measures = [
            ("310", "net weight (kg)"), ("311", "length (m)"), ("312", "width (m)"), ("313", "depth (m)"),
            ("314", "area (m²)"), ("315", "net volume (l)"), ("316", "net volume (m³)"),
        ]
        for (stem, title) in measures {
            for decimals in 0...9 {
                table.append(.init(code: "\(stem)\(decimals)", title: title, role: .numeric, length: .fixed(6)))
            }
        }
        return table
    }()

    private static let byCode: [String: ApplicationIdentifier] = {
        var map: [String: ApplicationIdentifier] = [:]
        for ai in all { map[ai.code] = ai }
        return map
    }()

    /// The AI with exactly this code, e.g. from a Digital Link path segment or an HRI `(…)`.
    static func named(_ code: String) -> ApplicationIdentifier? { byCode[code] }

    /// The AI starting at `index` in an element string. No supported code is a prefix of another, so trying 2, 3
    /// then 4 digits finds at most one.
    static func match(in input: [Character], at index: Int, end: Int) -> ApplicationIdentifier? {
        for length in 2...4 where index + length <= end {
            let candidate = input[index..<(index + length)]
            guard candidate.allSatisfy(\.isASCIIDigit) else { return nil }
            if let ai = byCode[String(candidate)] { return ai }
        }
        return nil
    }

    /// The code an unknown AI most likely has, for naming it in an error. GS1 fixes an AI's length by its first two
    /// digits (General Specifications 3.2): 23–25, 40–42 and 71 start 3-digit AIs; 31–36, 39, 43, 70, 72 and 80–82
    /// start 4-digit AIs; all others are 2 digits.
    static func probableCode(in input: [Character], at index: Int, end: Int) -> String {
        var digits: [Character] = []
        var cursor = index
        while cursor < end, digits.count < 4, input[cursor].isASCIIDigit {
            digits.append(input[cursor])
            cursor += 1
        }
        let prefix = digits.count >= 2 ? Int(String(digits.prefix(2))) ?? 0 : 0
        let length: Int
        switch prefix {
        case 23...25, 40...42, 71: length = 3
        case 31...36, 39, 43, 70, 72, 80...82: length = 4
        default: length = 2
        }
        return String(digits.prefix(length))
    }

    /// The supported codes, for error messages ("310n" standing for 3100–3109 and so on).
    static let supportedList: String = {
        let short = all.filter { $0.code.count < 4 }.map(\.code)
        return (short + ["310n–316n"]).joined(separator: ", ")
    }()

    /// Validates the raw value of this AI and turns it into a typed value.
    ///
    /// Fixed-length fields: digits first (naming the offending position), then length (too short is a truncated
    /// field, too long a wrong length), then the meaning (check digit, calendar date).
    func validate(_ value: SourceText, referenceYear: Int) throws(IdentityError) -> ElementValue {
        if case .fixed(let count) = length {
            for (index, character) in value.characters.enumerated() where !character.isASCIIDigit {
                let position = value.offset(at: index)
                throw IdentityError(
                    .nonDigit,
                    "non-digit \(character.errorDescription) in \(label) at position \(position); "
                        + "this field has \(count) digits",
                    position: position
                )
            }
            if value.count < count {
                let hint =
                    role == .gtin && [8, 12, 13].contains(value.count)
                    ? " (a GTIN-\(value.count) is written in AI (01) left-padded with zeros to 14 digits)" : ""
                throw IdentityError(
                    .truncatedField,
                    "\(label) needs \(count) digits but ends after \(value.count) at position "
                        + "\(value.endOffset)\(hint)",
                    position: value.endOffset
                )
            }
            if value.count > count {
                let position = value.offset(at: count)
                throw IdentityError(
                    .wrongLength,
                    "\(label) takes exactly \(count) digits but has \(value.count); the first extra "
                        + "digit is at position \(position)",
                    position: position
                )
            }
        }
        let maximum: Int
        if case .variable(let limit) = length { maximum = limit } else { maximum = 0 }
        switch role {
        case .gtin:
            return .gtin(try GTIN(source: value, allowedLengths: [14]))
        case .serial:
            return .serial(try Serial(source: value))
        case .lot, .variant:
            try CharacterSet82.validate(
                value,
                field: label,
                maximumLength: maximum,
                emptyCode: .emptyValue,
                tooLongCode: .valueTooLong
            )
            return .text(value.string)
        case .expiry, .productionDate, .bestBefore, .otherDate:
            return .date(try GS1Date(source: value, field: label, referenceYear: referenceYear), value.string)
        case .sscc:
            let expected = GTIN.checkDigit(of: value.characters.dropLast())
            let found = value.characters.last?.digitValue ?? 0
            guard expected == found else {
                let position = value.offset(at: value.count - 1)
                throw IdentityError(
                    .badCheckDigit,
                    "bad SSCC check digit at position \(position): expected \(expected), "
                        + "found \(found)",
                    position: position
                )
            }
            return .text(value.string)
        case .numeric:
            return .text(value.string)
        }
    }
}

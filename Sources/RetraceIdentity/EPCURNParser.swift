/// Parses and writes EPC pure-identity URNs for SGTINs (GS1 Tag Data Standard):
/// `urn:epc:id:sgtin:CompanyPrefix.IndicatorItemRef.Serial`, e.g. `urn:epc:id:sgtin:0614141.812345.6789` for
/// GTIN 80614141123458, serial 6789.
///
/// - The company prefix has 6 to 12 digits and prefix + indicator/item reference together have 13 digits; the
///   first digit of the second field is the GTIN's indicator. The GTIN is indicator + prefix + item reference +
///   the computed check digit (the URN carries none, so there is nothing to verify).
/// - The serial may contain `.` (only the first two dots separate fields). Raw, it may use letters, digits and
///   `! ' ( ) * + , - . : ; = _`; `" % & / < > ?` must be escaped as `%22 %25 %26 %2F %3C %3E %3F`. Other escapes
///   are decoded too (RFC 3986 equivalence) but the decoded serial must still be character set 82.
/// - `urn`, `epc`, `id` and `sgtin` are matched case-insensitively (URN scheme and namespace are case-insensitive).
enum EPCURNParser {
    static let prefix = "urn:epc:id:sgtin:"

    static func parse(
        _ input: [Character],
        range: Range<Int>,
        symbologyIdentifier: String?
    ) throws(IdentityError) -> ProductScan {
        let end = range.upperBound
        guard DigitalLinkParser.hasPrefix(input, prefix, at: range.lowerBound, end: end) else {
            let scheme = String(input[range].prefix { $0 != "." }.prefix(30))
            throw IdentityError(
                .malformedURN,
                "only EPC pure-identity SGTIN URNs ('\(prefix)…') name one serialised trade item; "
                    + "found '\(scheme)' at position \(range.lowerBound)",
                position: range.lowerBound
            )
        }
        let bodyStart = range.lowerBound + prefix.count
        guard let firstDot = input[bodyStart..<end].firstIndex(of: "."),
            let secondDot = input[(firstDot + 1)..<end].firstIndex(of: ".")
        else {
            throw IdentityError(
                .malformedURN,
                "expected CompanyPrefix.IndicatorItemRef.Serial after '\(prefix)' at position "
                    + "\(bodyStart), with two '.' separators",
                position: bodyStart
            )
        }
        let companyPrefix = try digits(input, bodyStart..<firstDot, field: "company prefix")
        guard (6...12).contains(companyPrefix.count) else {
            throw IdentityError(
                .invalidCompanyPrefix,
                "company prefix at position \(bodyStart) has \(companyPrefix.count) digits; "
                    + "GS1 company prefixes have 6 to 12",
                position: bodyStart
            )
        }
        let itemStart = firstDot + 1
        let indicatorAndItem = try digits(input, itemStart..<secondDot, field: "indicator and item reference")
        guard indicatorAndItem.count == 13 - companyPrefix.count, let indicator = indicatorAndItem.first else {
            throw IdentityError(
                .wrongLength,
                "indicator and item reference at position \(itemStart) has \(indicatorAndItem.count) "
                    + "digits; with a \(companyPrefix.count)-digit company prefix it must have "
                    + "\(13 - companyPrefix.count)",
                position: itemStart
            )
        }
        let payload = [indicator] + companyPrefix + indicatorAndItem.dropFirst()
        let gtin = GTIN(computedDigits: String(payload) + String(GTIN.checkDigit(of: payload)))

        let serialRange = (secondDot + 1)..<end
        try checkRawSerial(input, serialRange)
        let serial = try Serial(source: PercentEncoding.decode(input, serialRange))
        return ProductScan(
            sgtin: SGTIN(gtin: gtin, serial: serial),
            form: .epcURN,
            symbologyIdentifier: symbologyIdentifier
        )
    }

    /// Escapes a character set 82 serial for an EPC URN: exactly the seven characters TDS requires.
    static func escape(_ serial: String) -> String {
        PercentEncoding.encode(serial) { !mustEscape.contains($0) }
    }

    private static let mustEscape: Set<UInt8> = Set("\"%&/<>?".utf8)

    /// TDS `GS3A3Char` that may appear unescaped: letters, digits and `! ' ( ) * + , - . : ; = _`.
    private static func isRawSerialCharacter(_ character: Character) -> Bool {
        guard let ascii = character.asciiValue else { return false }
        return (ascii >= 0x30 && ascii <= 0x39) || (ascii >= 0x41 && ascii <= 0x5A) || (ascii >= 0x61 && ascii <= 0x7A)
            || "!'()*+,-.:;=_".contains(character)
    }

    private static func checkRawSerial(_ input: [Character], _ range: Range<Int>) throws(IdentityError) {
        for index in range {
            let character = input[index]
            if character == "%" {
                _ = try PercentEncoding.escapedByte(in: input, at: index, within: range)
            } else if !isRawSerialCharacter(character) {
                let hint =
                    CharacterSet82.contains(character)
                    ? "; in an EPC URN it must be escaped as " + escape(String(character))
                    : "; it is not in GS1 character set 82"
                throw IdentityError(
                    .illegalCharacter,
                    "illegal character \(character.errorDescription) in the EPC URN serial at "
                        + "position \(index)\(hint)",
                    position: index
                )
            }
        }
    }

    private static func digits(
        _ input: [Character],
        _ range: Range<Int>,
        field: String
    ) throws(IdentityError)
        -> [Character]
    {
        for index in range where !input[index].isASCIIDigit {
            throw IdentityError(
                .nonDigit,
                "non-digit \(input[index].errorDescription) in the EPC URN \(field) at position \(index)",
                position: index
            )
        }
        return Array(input[range])
    }
}

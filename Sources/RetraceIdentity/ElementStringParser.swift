/// Parses GS1 element strings exactly as a 2D or GS1-128 scanner transmits them.
///
/// AIs follow each other directly. A fixed-length field (all supported ones are in the GS1 predefined-length table)
/// ends after its length; a variable-length field (10, 21, 22) ends at FNC1, transmitted as GS (0x1D), or at the end
/// of the data. A GS is tolerated after fixed-length fields too, and once at the very start and the very end, as
/// some encoders emit them; two GS in a row are an error.
///
/// What this format cannot reveal: if an encoder forgot the GS after a serial, the following AI digits become part
/// of the serial. Such a serial is refused only when it then exceeds 20 characters or contains illegal characters.
enum ElementStringParser {
    static let groupSeparator: Character = "\u{1D}"

    static func parse(
        _ input: [Character],
        range: Range<Int>,
        symbologyIdentifier: String?,
        referenceYear: Int
    ) throws(IdentityError) -> ProductScan {
        var collector = ElementCollector(referenceYear: referenceYear)
        var index = range.lowerBound
        let end = range.upperBound
        if index < end, input[index] == groupSeparator { index += 1 }
        guard index < end else {
            throw IdentityError(
                .missingGTIN,
                "no element strings after the leading FNC1 at position \(index)",
                position: index
            )
        }
        let firstAI = index
        while index < end {
            let aiStart = index
            let character = input[index]
            if character == groupSeparator {
                throw IdentityError(
                    .unexpectedSeparator,
                    "unexpected GS separator at position \(index): two separators in a row "
                        + "leave an empty element string",
                    position: index
                )
            }
            guard character.isASCIIDigit else {
                let hint = character == "(" ? " (parentheses belong to the printed form only)" : ""
                if aiStart == firstAI {
                    throw IdentityError(
                        .unrecognizedFormat,
                        "GS1 element strings must start with an Application Identifier, "
                            + "found \(character.errorDescription) at position \(index)\(hint)",
                        position: index
                    )
                }
                throw IdentityError(
                    .trailingGarbage,
                    "unexpected \(character.errorDescription) at position \(index) where an "
                        + "Application Identifier (digits) was expected\(hint)",
                    position: index
                )
            }
            guard end - index >= 2 else {
                throw IdentityError(
                    .truncatedField,
                    "the data ends inside an Application Identifier: only "
                        + "\(character.errorDescription) at position \(index)",
                    position: index
                )
            }
            guard let ai = ApplicationIdentifier.match(in: input, at: index, end: end) else {
                let code = ApplicationIdentifier.probableCode(in: input, at: index, end: end)
                throw IdentityError(
                    .unknownAI,
                    "unknown or unsupported Application Identifier (\(code)) at position \(index); "
                        + "supported: \(ApplicationIdentifier.supportedList)",
                    position: index
                )
            }
            index += ai.code.count
            let valueStart = index
            switch ai.length {
            case .fixed(let count):
                while index < end, index - valueStart < count, input[index] != groupSeparator { index += 1 }
            case .variable:
                while index < end, input[index] != groupSeparator { index += 1 }
            }
            try collector.add(ai, value: SourceText(input[valueStart..<index]), position: aiStart)
            if index < end, input[index] == groupSeparator { index += 1 }
        }
        return try collector.build(form: .elementString, symbologyIdentifier: symbologyIdentifier)
    }
}

/// Parses the human-readable interpretation `(01)09506000134352(21)ABC123(10)LOT1(17)250101`.
///
/// A value runs up to the next `(` that opens an AI marker, i.e. `(` + 2 to 4 digits + `)`, or to the end; other
/// parentheses belong to the value (character set 82 allows them). A serial that itself contains text shaped like
/// `(12)` cannot be written in this form; use the Digital Link form for such serials.
///
/// Spaces and tabs right around a marker, as people type `(01) 0950… (21) ABC`, are ignored: no supported value
/// may contain a space, so this cannot change a value. A space inside a value is still an illegal character.
enum HumanReadableParser {
    static func parse(
        _ input: [Character],
        range: Range<Int>,
        referenceYear: Int
    ) throws(IdentityError)
        -> ProductScan
    {
        var collector = ElementCollector(referenceYear: referenceYear)
        var index = range.lowerBound
        let end = range.upperBound
        while index < end {
            guard let marker = marker(in: input, at: index, end: end) else {
                throw IdentityError(
                    .unknownAI,
                    "expected an AI marker '(' + 2 to 4 digits + ')' at position \(index), found "
                        + "'\(String(input[index..<min(index + 6, end)]))'",
                    position: index
                )
            }
            guard let ai = ApplicationIdentifier.named(marker.code) else {
                throw IdentityError(
                    .unknownAI,
                    "unknown or unsupported Application Identifier (\(marker.code)) at position "
                        + "\(index); supported: \(ApplicationIdentifier.supportedList)",
                    position: index
                )
            }
            var valueStart = marker.end
            while valueStart < end, isBlank(input[valueStart]) { valueStart += 1 }
            var next = valueStart
            while next < end, self.marker(in: input, at: next, end: end) == nil { next += 1 }
            var valueEnd = next
            while valueEnd > valueStart, isBlank(input[valueEnd - 1]) { valueEnd -= 1 }
            try collector.add(ai, value: SourceText(input[valueStart..<valueEnd]), position: index)
            index = next
        }
        return try collector.build(form: .humanReadable, symbologyIdentifier: nil)
    }

    /// `(` + 2 to 4 ASCII digits + `)` at `index`: the AI code and the index just past `)`.
    private static func marker(in input: [Character], at index: Int, end: Int) -> (code: String, end: Int)? {
        guard index < end, input[index] == "(" else { return nil }
        var cursor = index + 1
        while cursor < end, cursor - index <= 4, input[cursor].isASCIIDigit { cursor += 1 }
        let digitCount = cursor - index - 1
        guard (2...4).contains(digitCount), cursor < end, input[cursor] == ")" else { return nil }
        return (String(input[(index + 1)..<cursor]), cursor + 1)
    }

    private static func isBlank(_ character: Character) -> Bool {
        character == " " || character == "\t"
    }
}

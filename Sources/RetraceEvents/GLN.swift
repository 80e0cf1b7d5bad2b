/// GS1 Global Location Numbers: 13 digits with a GS1 mod-10 check digit.
public enum GLN {
    public static func validate(_ text: String, field: @autoclosure () -> String) throws(FormatError) {
        let digits = Array(text.utf8)
        guard digits.count == 13, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw FormatError(.invalidValue, field: field(), "a GLN is 13 digits, found \"\(text)\"")
        }
        var sum = 0
        for (offset, digit) in digits.dropLast().reversed().enumerated() {
            sum += Int(digit - 0x30) * (offset % 2 == 0 ? 3 : 1)
        }
        let expected = (10 - sum % 10) % 10
        guard Int(digits[12] - 0x30) == expected else {
            throw FormatError(
                .invalidValue,
                field: field(),
                "GLN \(text) has check digit \(digits[12] - 0x30), expected \(expected)"
            )
        }
    }
}

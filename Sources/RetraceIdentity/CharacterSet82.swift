/// GS1 AI encodable character set 82 (GS1 General Specifications, figure 7.11-1).
///
/// Serials, lots and variants may only use these 82 ASCII characters. Space, `#`, `$`, `@`, `[`, `\`, `]`, `^`,
/// `` ` ``, `{`, `|`, `}`, `~`, control characters and anything non-ASCII are refused, which is what lets a value
/// travel unchanged through every GS1 barcode symbology, a Digital Link URI and an EPC URN.
enum CharacterSet82 {
    /// The exact list, in code point order.
    static let characters = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"

    private static let members = Set(characters.unicodeScalars)

    /// Compared by Unicode scalar: `Character` equality is canonical equivalence, under which U+037E GREEK QUESTION
    /// MARK is `;` and U+212A KELVIN SIGN is `K`, so a set of `Character`s would let those non-ASCII scalars in.
    static func contains(_ character: Character) -> Bool {
        let scalars = character.unicodeScalars
        guard scalars.count == 1, let scalar = scalars.first else { return false }
        return members.contains(scalar)
    }

    /// Checks a variable-length alphanumeric value: present, at most `maximumLength` characters, charset 82 only.
    ///
    /// Length is checked before characters so that a value that ran on (a missing GS separator swallowing the next
    /// AI) is reported as too long rather than by some character deep inside the swallowed data.
    static func validate(
        _ value: SourceText,
        field: String,
        maximumLength: Int,
        emptyCode: IdentityError.Code,
        tooLongCode: IdentityError.Code
    ) throws(IdentityError) {
        guard !value.isEmpty else {
            throw IdentityError(
                emptyCode,
                "\(field) is empty at position \(value.endOffset); expected 1 to \(maximumLength) "
                    + "characters of GS1 character set 82",
                position: value.endOffset
            )
        }
        guard value.count <= maximumLength else {
            let position = value.offset(at: maximumLength)
            throw IdentityError(
                tooLongCode,
                "\(field) has \(value.count) characters, at most \(maximumLength) are allowed "
                    + "(the first excess character is at position \(position))",
                position: position
            )
        }
        for (index, character) in value.characters.enumerated() where !contains(character) {
            let position = value.offset(at: index)
            throw IdentityError(
                .illegalCharacter,
                "illegal character \(character.errorDescription) in \(field) at position "
                    + "\(position); only GS1 AI encodable character set 82 is allowed",
                position: position
            )
        }
    }
}

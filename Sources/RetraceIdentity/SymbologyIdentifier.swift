/// An ISO/IEC 15424 symbology identifier (`]` + flag letter + modifier) that a scanner may put before the data.
///
/// It tells which kind of barcode was read and, through the modifier, whether the data is GS1 element strings
/// (FNC1 in first position) or plain text. Only identifiers that can carry a product identity are accepted; any
/// other is refused rather than guessed at, since e.g. `]d1` + digits is not GS1 data even if it looks like it.
struct SymbologyIdentifier: Hashable, Sendable {
    enum Payload: Hashable, Sendable {
        /// GS1 element strings (FNC1 in first position).
        case elementStrings
        /// Plain data: for us, a GS1 Digital Link URI (or EPC URN) encoded as text.
        case uri
    }

    let code: String
    let name: String
    let payload: Payload

    static let known: [SymbologyIdentifier] = [
        .init(code: "]d2", name: "GS1 DataMatrix", payload: .elementStrings),
        .init(code: "]Q3", name: "GS1 QR Code", payload: .elementStrings),
        .init(code: "]C1", name: "GS1-128", payload: .elementStrings),
        .init(code: "]e0", name: "GS1 DataBar", payload: .elementStrings),
        .init(code: "]J1", name: "GS1 DotCode", payload: .elementStrings),
        .init(code: "]Q1", name: "QR Code", payload: .uri),
        .init(code: "]d1", name: "Data Matrix", payload: .uri),
    ]

    /// Reads the identifier at `index` (where a `]` is).
    static func read(_ input: [Character], at index: Int, end: Int) throws(IdentityError) -> SymbologyIdentifier {
        let code = String(input[index..<min(index + 3, end)])
        if let known = known.first(where: { $0.code == code }) { return known }
        let list = known.map(\.code).joined(separator: ", ")
        guard code.count == 3 else {
            throw IdentityError(
                .unknownSymbology,
                "truncated symbology identifier '\(code)' at position \(index); expected ']' "
                    + "followed by two characters, one of \(list)",
                position: index
            )
        }
        throw IdentityError(
            .unknownSymbology,
            "unknown symbology identifier '\(code)' at position \(index); supported: \(list)",
            position: index
        )
    }
}

/// A validated AI value.
enum ElementValue: Hashable, Sendable {
    case gtin(GTIN)
    case serial(Serial)
    case text(String)
    /// The date and the six digits it was read from.
    case date(GS1Date, String)

    /// The value as it would be written in an element string (GTIN as 14 digits), for duplicate comparison.
    var text: String {
        switch self {
        case .gtin(let gtin): return gtin.digits
        case .serial(let serial): return serial.value
        case .text(let text): return text
        case .date(_, let raw): return raw
        }
    }
}

import RetraceIdentity

/// The ways a scanner or a person presents a product identity at a dock, written exactly as the
/// device emits them, so simulations exercise every input path of `IdentityParser`.
public enum ScanForm: String, CaseIterable, Sendable {
    /// A GS1 DataMatrix read: symbology identifier `]d2`, element strings, and a GS (0x1D)
    /// separator after the variable-length serial when a lot follows.
    case dataMatrix
    /// A GS1 Digital Link URI on the brand's own resolver domain (a QR code on the box).
    case brandDigitalLink
    /// The canonical GS1 Digital Link URI on `id.gs1.org`.
    case digitalLink
    /// The human-readable interpretation `(01)…(21)…` typed by a person.
    case humanReadable
    /// An EPC pure-identity URN read from an RFID tag.
    case epcURN

    /// The group separator a GS1 scanner emits for FNC1 between variable-length elements.
    public static let groupSeparator = "\u{1D}"

    /// The scanned text for `product`; `lot` is added where the form carries one.
    public func text(for product: SGTIN, lot: String? = nil, companyPrefixLength: Int = 7) -> String {
        switch self {
        case .dataMatrix:
            let base = "]d201\(product.gtin.digits)21\(product.serial.value)"
            guard let lot else { return base }
            return base + Self.groupSeparator + "10" + lot
        case .brandDigitalLink:
            let domain = product.gtin.companyPrefix(matches: "0614141") ? "id.contoso.example" : "id.northwind.example"
            return "https://" + domain + String(product.digitalLink.dropFirst("https://id.gs1.org".count))
        case .digitalLink:
            return product.digitalLink
        case .humanReadable:
            return product.humanReadable
        case .epcURN:
            return (try? product.epcURN(companyPrefixLength: companyPrefixLength)) ?? product.digitalLink
        }
    }
}

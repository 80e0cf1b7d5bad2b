/// A serialised GTIN: the identity of one physical product item.
///
/// Its canonical written form is the GS1 Digital Link URI on `https://id.gs1.org` (``digitalLink``); that is also
/// its ``description``, so an SGTIN logged or stored anywhere reads back through `IdentityParser.parse` unchanged.
public struct SGTIN: Hashable, Sendable, CustomStringConvertible {
    public let gtin: GTIN
    public let serial: Serial

    /// Both parts are already validated, so combining them cannot fail.
    public init(gtin: GTIN, serial: Serial) {
        self.gtin = gtin
        self.serial = serial
    }

    /// `https://id.gs1.org/01/{GTIN-14}/21/{serial}` with every serial character outside RFC 3986 unreserved
    /// (`A-Z a-z 0-9 - . _ ~`) written `%XX` in uppercase hex: one spelling per item, safe in any URI context.
    public var digitalLink: String {
        "https://id.gs1.org/01/\(gtin.digits)/21/"
            + PercentEncoding.encode(serial.value, keeping: PercentEncoding.isUnreserved)
    }

    /// `(01){GTIN-14}(21){serial}`, the human-readable interpretation printed under a barcode.
    public var humanReadable: String { "(01)\(gtin.digits)(21)\(serial.value)" }

    /// `01{GTIN-14}21{serial}`, the element string a GS1 barcode carries (no separator needed: the serial is last).
    public var elementString: String { "01\(gtin.digits)21\(serial.value)" }

    /// The EPC pure-identity URN `urn:epc:id:sgtin:CompanyPrefix.IndicatorItemRef.Serial` (GS1 Tag Data Standard).
    ///
    /// The company prefix length cannot be derived from the GTIN itself (it comes from the GS1 allocation), hence
    /// the parameter. The serial escapes exactly the characters TDS requires: `"` `%` `&` `/` `<` `>` `?` as
    /// `%22 %25 %26 %2F %3C %3E %3F`; all other character set 82 characters are written as they are.
    public func epcURN(companyPrefixLength: Int) throws(IdentityError) -> String {
        guard (6...12).contains(companyPrefixLength) else {
            throw IdentityError(
                .invalidCompanyPrefix,
                "company prefix length \(companyPrefixLength) is outside 6 to 12 digits"
            )
        }
        let digits = Array(gtin.digits)
        let companyPrefix = String(digits[1...companyPrefixLength])
        let itemReference = String(digits[0]) + String(digits[(companyPrefixLength + 1)..<13])
        return EPCURNParser.prefix + companyPrefix + "." + itemReference + "." + EPCURNParser.escape(serial.value)
    }

    public var description: String { digitalLink }
}

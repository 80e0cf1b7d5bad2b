/// A serialised GTIN: the identity of one physical product item.
///
/// Its canonical written form is the GS1 Digital Link URI on `https://id.gs1.org` (``digitalLink``); that is also
/// its ``description``, so an SGTIN logged or stored anywhere reads back through `IdentityParser.parse` unchanged.
public struct SGTIN: Hashable, Sendable, CustomStringConvertible {
    public let gtin: GTIN
    public let serial: Serial

    /// `https://id.gs1.org/01/{GTIN-14}/21/{serial}` with every serial character outside RFC 3986 unreserved
    /// (`A-Z a-z 0-9 - . _ ~`) written `%XX` in uppercase hex: one spelling per item, safe in any URI context.
    ///
    /// Spelled once, when the item is made: it is the key of the product's chain, its heads-map key
    /// and its stored column, so the append, the audit and every verdict ask for it several times
    /// per statement, and spelling it on each call (percent-encoding and three appends) was about
    /// 6 K instructions per audited entry (issue 15).
    public let digitalLink: String

    /// Both parts are already validated, so combining them cannot fail.
    public init(gtin: GTIN, serial: Serial) {
        self.init(gtin: gtin, serial: serial, digitalLink: Self.spell(gtin: gtin, serial: serial))
    }

    private init(gtin: GTIN, serial: Serial, digitalLink: String) {
        self.gtin = gtin
        self.serial = serial
        self.digitalLink = digitalLink
    }

    /// The link is a function of the GTIN and serial, and one spelling is one item: comparing and
    /// hashing it alone is comparing the item.
    public static func == (left: SGTIN, right: SGTIN) -> Bool { left.digitalLink == right.digitalLink }

    public func hash(into hasher: inout Hasher) { hasher.combine(digitalLink) }

    /// The item whose canonical Digital Link (``digitalLink``) is exactly `text`, when its serial
    /// needs no percent-escape; `nil` for anything else, which the general parser
    /// (`IdentityParser.parse`) then reads or refuses with a precise error.
    ///
    /// Every statement names its product in this form, and the general parser works on grapheme
    /// clusters with positions for its errors: about 150 K instructions per statement (issue 15's
    /// profile), on the append, audit and verdict paths. This reads the bytes once and accepts only
    /// what the general parser accepts and spells back identically: a 14-digit GTIN with a valid
    /// check digit, and a serial of 1 to 20 characters from `A–Z a–z 0–9 - . _` (unreserved and in
    /// GS1 character set 82, so neither escaped nor refused). `SGTINCanonicalTests` checks both
    /// parsers agree.
    public init?(canonicalDigitalLink text: String) {
        let prefix = "https://id.gs1.org/01/".utf8
        let bytes = text.utf8
        let gtinStart = prefix.count
        let serialStart = gtinStart + 14 + 4
        guard bytes.count > serialStart, bytes.count <= serialStart + Serial.maximumLength,
            bytes.starts(with: prefix)
        else { return nil }
        var sum = 0
        var position = 0
        var separator = 0
        for byte in bytes.dropFirst(gtinStart) {
            switch position {
            case 0..<14:
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                let digit = Int(byte - UInt8(ascii: "0"))
                // Weights 3, 1, 3, ... from the digit left of the check digit (GS1 mod 10).
                if position < 13 {
                    sum += digit * (position % 2 == 0 ? 3 : 1)
                } else if digit != (10 - sum % 10) % 10 {
                    return nil
                }
            case 14..<18:
                separator = separator << 8 | Int(byte)
            default:
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                    break
                default: return nil
                }
            }
            position += 1
        }
        guard separator == 0x2F32_312F else { return nil }  // "/21/"
        let utf8 = Array(bytes)
        // Only unreserved characters were accepted, so the text is the link spelled as `spell` would.
        self.init(
            gtin: GTIN(computedDigits: String(decoding: utf8[gtinStart..<(gtinStart + 14)], as: UTF8.self)),
            serial: Serial(validated: String(decoding: utf8[serialStart...], as: UTF8.self)),
            digitalLink: text
        )
    }

    private static func spell(gtin: GTIN, serial: Serial) -> String {
        let serialPath = PercentEncoding.encode(serial.value, keeping: PercentEncoding.isUnreserved)
        var link = "https://id.gs1.org/01/"
        link.reserveCapacity(link.utf8.count + gtin.digits.utf8.count + 4 + serialPath.utf8.count)
        link += gtin.digits
        link += "/21/"
        link += serialPath
        return link
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

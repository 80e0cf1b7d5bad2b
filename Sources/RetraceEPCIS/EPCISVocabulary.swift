import Foundation
import RetraceEvents
import RetraceRules

/// The fixed names of Retrace's EPCIS 2.0 mapping (spec/epcis.md).
public enum EPCISVocabulary {
    /// GS1's normative JSON-LD context for EPCIS 2.0 documents.
    public static let gs1Context = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    /// The prefix of Retrace's extension members (`retrace:statementId`, …).
    public static let prefix = "retrace"
    /// The IRI the prefix stands for. A URN: it names the vocabulary without claiming a web domain.
    public static let namespace = "urn:retrace:epcis:v1:"
    /// Business transaction identifiers Retrace writes: `urn:retrace:bt:<kind>:<value>`.
    public static let transactionPrefix = "urn:retrace:bt:"

    public static let statementID = "retrace:statementId"
    public static let signer = "retrace:signer"
    public static let logIndex = "retrace:logIndex"
    public static let eventType = "retrace:eventType"
    public static let details = "retrace:details"
    public static let location = "retrace:location"

    /// `ni:///sha-256;<base64url>` (RFC 6920): names the statement by the SHA-256 of its canonical
    /// bytes, its Retrace id. Not the CBV event hash (which hashes the EPCIS form), so without `?ver=`.
    public static func eventID(_ id: Digest) -> String {
        let base64 = Data(id.bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "ni:///sha-256;" + base64
    }

    /// The bare CBV term of a catalogue URN (`urn:epcglobal:cbv:bizstep:shipping` → `shipping`),
    /// as EPCIS 2.0 JSON writes standard vocabulary.
    static func term(_ urn: String) -> String {
        if urn.hasPrefix(Catalogue.bizStepPrefix) { return String(urn.dropFirst(Catalogue.bizStepPrefix.count)) }
        if urn.hasPrefix(Catalogue.dispositionPrefix) {
            return String(urn.dropFirst(Catalogue.dispositionPrefix.count))
        }
        return urn
    }
}

/// Writes a GLN as an EPC pure identity `urn:epc:id:sgln:` and reads it back.
///
/// The SGLN URN splits the GLN after its GS1 Company Prefix, whose length a GLN alone does not
/// tell. The prefixes the roster lists are used when one begins the GLN (longest first); any
/// other GLN is split after `defaultPrefixLength` digits. The split changes only how the URN is
/// written: the 12 digits, and so the GLN, read back the same whatever the split.
public struct SGLNCodec: Sendable {
    public static let urnPrefix = "urn:epc:id:sgln:"
    public let knownPrefixes: [String]
    public let defaultPrefixLength: Int

    public init(knownPrefixes: [String], defaultPrefixLength: Int = 7) {
        self.knownPrefixes = knownPrefixes.filter { (6...12).contains($0.count) }.sorted { $0.count > $1.count }
        self.defaultPrefixLength = min(max(defaultPrefixLength, 6), 12)
    }

    /// Every company prefix listed in a roster.
    public init(roster: RosterDocument?, defaultPrefixLength: Int = 7) {
        self.init(
            knownPrefixes: roster?.parties.flatMap(\.companyPrefixes) ?? [],
            defaultPrefixLength: defaultPrefixLength
        )
    }

    /// `urn:epc:id:sgln:<prefix>.<location reference>.0` of a valid 13-digit GLN.
    public func urn(gln: String) -> String {
        let payload = String(gln.prefix(12))
        let length = knownPrefixes.first(where: { payload.hasPrefix($0) })?.count ?? defaultPrefixLength
        return Self.urnPrefix + payload.prefix(length) + "." + payload.dropFirst(length) + ".0"
    }

    /// The GLN of an SGLN URN without extension (`.0`), or of a GS1 Digital Link `…/414/{gln}`.
    public static func gln(from uri: String) throws(EPCISError) -> String {
        if uri.hasPrefix(urnPrefix) {
            let parts = uri.dropFirst(urnPrefix.count).split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count + parts[1].count == 12,
                (parts[0] + parts[1]).allSatisfy({ $0.isASCII && $0.isNumber }), (6...12).contains(parts[0].count)
            else {
                throw EPCISError(
                    "\(uri) is not an SGLN URN: expected urn:epc:id:sgln:<prefix>.<location ref>.<ext> with 12 digits"
                )
            }
            guard parts[2] == "0" else {
                throw EPCISError(
                    "\(uri) names a sub-location (extension \(parts[2])); Retrace locations are whole GLNs"
                )
            }
            let payload = String(parts[0] + parts[1])
            return payload + String(checkDigit(payload))
        }
        if let range = uri.range(of: "/414/") {
            let gln = String(uri[range.upperBound...].prefix(while: { $0 != "/" && $0 != "?" }))
            do { try GLN.validate(gln, field: uri) } catch { throw EPCISError("\(uri): \(error.description)") }
            guard uri[range.upperBound...].count == 13 else {
                throw EPCISError("\(uri) names a sub-location; Retrace locations are whole GLNs")
            }
            return gln
        }
        throw EPCISError("\(uri) is neither an SGLN URN (urn:epc:id:sgln:…) nor a GS1 Digital Link of a GLN (…/414/…)")
    }

    /// GS1 mod-10 check digit of 12 digits.
    static func checkDigit(_ payload: String) -> Int {
        var sum = 0
        for (offset, digit) in payload.utf8.reversed().enumerated() {
            sum += Int(digit - 0x30) * (offset % 2 == 0 ? 3 : 1)
        }
        return (10 - sum % 10) % 10
    }
}

/// Why an EPCIS document or event could not be read or mapped; the text names what and where.
public struct EPCISError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

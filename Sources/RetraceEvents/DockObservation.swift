import CanonicalJSON
import RetraceCrypto
import RetraceIdentity

/// A receiving dock's signed record of one scan and the verdict it got (spec/insights.md §2).
///
/// A scan is a read: it changes no product, and the scans that matter most for fraud figures are
/// exactly the ones the ledger must refuse as events (a unit scanned after its serial was recycled,
/// a serial never commissioned). So observations are not log entries but lines of the dock's own
/// journal, signed with the dock's roster key under their own signing context, which insights
/// verify and count. A line is one canonical JSON object `{"observation": {…}, "signature": base64}`.
public struct DockObservation: Hashable, Sendable {
    public static let version: Int64 = 1
    /// Signing context: no observation signature is ever a valid event, roster or checkpoint signature.
    public static let context: [UInt8] = Array("retrace/v1/observation\n".utf8)

    /// Fingerprint of the dock's key.
    public let signer: Digest
    public let time: Timestamp
    /// The identity exactly as the scanner read it.
    public let scan: String
    /// The canonical Digital Link of the scanned identity, when it parsed.
    public let product: SGTIN?
    /// The verdict code (`already-returned`, `end-of-life`, …: verification.md).
    public let verdict: String
    /// The ledger size the verdict was judged against.
    public let checkpointSize: UInt64?
    public let location: String?
    public let signature: [UInt8]

    public var json: JSONValue { .object(["observation": body, "signature": .string(Base64.encode(signature))]) }

    /// The signed object.
    public var body: JSONValue {
        var object: JSONObject = [
            "version": .integer(Self.version), "type": "dock-scan", "signer": .string(signer.hex),
            "time": .string(time.description), "scan": .string(scan), "verdict": .string(verdict),
        ]
        if let product { object["product"] = .string(product.digitalLink) }
        if let checkpointSize { object["checkpointSize"] = .integer(Int64(checkpointSize)) }
        if let location { object["location"] = .string(location) }
        return .object(object)
    }

    public func signingInput() throws -> [UInt8] { Self.context + (try CanonicalJSON.encode(body)) }

    /// Builds and signs an observation.
    public static func sign(
        scan: String,
        product: SGTIN?,
        verdict: String,
        time: Timestamp,
        checkpointSize: UInt64?,
        location: String?,
        key: Ed25519PrivateKey,
        publicKey: Ed25519PublicKey
    ) throws -> DockObservation {
        let unsigned = DockObservation(
            signer: try Digest(bytes: publicKey.fingerprint),
            time: time,
            scan: scan,
            product: product,
            verdict: verdict,
            checkpointSize: checkpointSize,
            location: location,
            signature: []
        )
        let signature = try key.sign(try unsigned.signingInput())
        return DockObservation(
            signer: unsigned.signer,
            time: time,
            scan: scan,
            product: product,
            verdict: verdict,
            checkpointSize: checkpointSize,
            location: location,
            signature: signature
        )
    }

    private init(
        signer: Digest,
        time: Timestamp,
        scan: String,
        product: SGTIN?,
        verdict: String,
        checkpointSize: UInt64?,
        location: String?,
        signature: [UInt8]
    ) {
        self.signer = signer
        self.time = time
        self.scan = scan
        self.product = product
        self.verdict = verdict
        self.checkpointSize = checkpointSize
        self.location = location
        self.signature = signature
    }

    /// Parses one journal line strictly: canonical JSON, known members only.
    public init(parsing bytes: [UInt8]) throws(FormatError) {
        var outer = try FieldReader(SignedStatement.decodeCanonical(bytes), path: "")
        let signatureText = try outer.string("signature")
        guard let signature = Base64.decode(signatureText), signature.count == Ed25519.signatureByteCount else {
            throw FormatError(.invalidValue, field: "signature", "expected base64 of a 64-byte Ed25519 signature")
        }
        var fields = try FieldReader(outer.required("observation"), path: "observation")
        try outer.finish()
        guard try fields.integer("version") == Self.version else {
            throw FormatError(.unsupportedVersion, field: "observation.version", "expected \(Self.version)")
        }
        guard try fields.string("type") == "dock-scan" else {
            throw FormatError(.invalidValue, field: "observation.type", "expected \"dock-scan\"")
        }
        let signer = try Digest(hex: fields.string("signer"), field: "observation.signer")
        let time = try Timestamp(parsing: fields.string("time"), field: "observation.time")
        let scan = try fields.string("scan")
        guard (1...512).contains(scan.utf8.count) else {
            throw FormatError(.invalidValue, field: "observation.scan", "1 to 512 bytes")
        }
        var product: SGTIN?
        if let text = try fields.optionalString("product") {
            do { product = try IdentityParser.parse(text).sgtin } catch {
                throw FormatError(.invalidIdentity, field: "observation.product", "\(error)")
            }
            guard product?.digitalLink == text else {
                throw FormatError(.invalidValue, field: "observation.product", "not the canonical Digital Link")
            }
        }
        let verdict = try fields.string("verdict")
        guard (1...64).contains(verdict.count), verdict.allSatisfy({ $0.isASCII && ($0.isLowercase || $0 == "-") })
        else { throw FormatError(.invalidValue, field: "observation.verdict", "a verdict code") }
        var checkpointSize: UInt64?
        if fields.optional("checkpointSize") != nil {
            let size = try fields.integer("checkpointSize")
            guard size >= 0 else { throw FormatError(.invalidValue, field: "observation.checkpointSize", "negative") }
            checkpointSize = UInt64(size)
        }
        let location = try fields.optionalString("location")
        if let location { try GLN.validate(location, field: "observation.location") }
        try fields.finish()
        self.init(
            signer: signer,
            time: time,
            scan: scan,
            product: product,
            verdict: verdict,
            checkpointSize: checkpointSize,
            location: location,
            signature: signature
        )
        guard (try? CanonicalJSON.encode(json)) == bytes else {
            throw FormatError(.notCanonical, field: "", "the line is not in canonical form")
        }
    }

    /// Whether the signature verifies under `key`, and `key` is the one the observation names.
    public func isSigned(by key: Ed25519PublicKey) -> Bool {
        guard let input = try? signingInput() else { return false }
        return key.fingerprint == signer.bytes && key.isValidSignature(signature, for: input)
    }
}

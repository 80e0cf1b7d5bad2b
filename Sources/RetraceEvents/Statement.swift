import CanonicalJSON
import RetraceIdentity

/// One signed claim: a step in a product's life ("this phone was returned at dock X"), a claim
/// about a batch of products, or a roster update.
///
/// The statement is what is signed and hashed; its id is `SHA-256` of its canonical (RFC 8785)
/// bytes, so any change to any field gives another id and breaks the signature. It is immutable
/// for the same reason.
public struct Statement: Hashable, Sendable {
    public static let version: Int64 = 1

    public let type: EventType
    /// The product this statement is about; `nil` for batch statements, roster updates and
    /// product classes (whose GTIN is ``classGTIN``).
    public let product: SGTIN?
    /// The id of the product's previous statement (its chain head), of the previous roster, or of
    /// the GTIN's previous `product-class`; `nil` only for a commissioning, the first roster, a
    /// GTIN's first `product-class`, and batch statements (whose members carry it).
    public let previous: Digest?
    /// For a batch statement, the Merkle root over its members and their count.
    public let batch: BatchCommitment?
    /// `SHA-256(0x01 ‖ public key)` of the signing key.
    public let signer: Digest
    public let time: Timestamp
    /// Where it happened: a 13-digit GS1 Global Location Number.
    public let location: String?
    /// Type-specific details, validated by the event catalogue.
    public let details: JSONObject
    /// The RFC 8785 bytes that are hashed (the id) and, after the signing context, signed.
    /// Computed once: the append and audit paths need them several times per statement.
    public let canonicalBytes: [UInt8]
    /// `SHA-256(canonicalBytes)`.
    public let id: Digest

    /// Builds a statement and checks the shape rules of its type.
    ///
    /// - Throws: ``FormatError`` when the fields do not fit the type (a commission with a previous
    ///   event, a batch of a type that cannot be batched…) or the details cannot be written as
    ///   canonical JSON (an integer beyond ±(2^53−1), nesting deeper than 64).
    public init(
        type: EventType,
        product: SGTIN?,
        previous: Digest?,
        batch: BatchCommitment? = nil,
        signer: Digest,
        time: Timestamp,
        location: String? = nil,
        details: JSONObject = JSONObject()
    ) throws(FormatError) {
        try self.init(
            type: type,
            product: product,
            previous: previous,
            batch: batch,
            signer: signer,
            time: time,
            location: location,
            details: details,
            read: nil
        )
    }

    /// - Parameter read: the bytes the statement was read from, when they were canonical
    ///   (``init(json:path:canonicalBytes:)``, ``PlainEntryReader``): they are the statement's
    ///   canonical bytes, so they are kept instead of written again.
    init(
        type: EventType,
        product: SGTIN?,
        previous: Digest?,
        batch: BatchCommitment?,
        signer: Digest,
        time: Timestamp,
        location: String?,
        details: JSONObject,
        read: [UInt8]?
    ) throws(FormatError) {
        self.type = type
        self.product = product
        self.previous = previous
        self.batch = batch
        self.signer = signer
        self.time = time
        self.location = location
        self.details = details
        if let read {
            // Every field was read in its one accepted spelling and nothing unknown was left, so
            // the bytes read are the ones these fields write: checked in debug builds.
            assert(
                (try? CanonicalJSON.encode(Self.object(type, product, previous, batch, signer, time, location, details)))
                    == read,
                "the bytes read are not the statement's"
            )
            self.canonicalBytes = read
        } else {
            do {
                self.canonicalBytes = try CanonicalJSON.encode(
                    Self.object(type, product, previous, batch, signer, time, location, details)
                )
            } catch {
                throw FormatError(
                    .invalidValue,
                    field: "statement.details",
                    "cannot be written as canonical JSON: \(error)"
                )
            }
        }
        self.id = Digest.of(canonicalBytes)
        try validateShape(path: "statement")
    }

    /// The statement as a JSON value, written from its fields on each use: a statement keeps its
    /// canonical bytes, not a tree of them, since the append and the audit read every statement
    /// and few of them are ever shown.
    public var json: JSONValue { Self.object(type, product, previous, batch, signer, time, location, details) }

    /// The object these fields describe; its canonical bytes are the statement's.
    private static func object(
        _ type: EventType,
        _ product: SGTIN?,
        _ previous: Digest?,
        _ batch: BatchCommitment?,
        _ signer: Digest,
        _ time: Timestamp,
        _ location: String?,
        _ details: JSONObject
    ) -> JSONValue {
        var object = JSONObject()
        object["version"] = .integer(version)
        object["type"] = .string(type.name)
        if let product { object["product"] = .string(product.digitalLink) }
        if let previous { object["previous"] = .string(previous.hex) }
        if let batch { object["batch"] = batch.json }
        object["signer"] = .string(signer.hex)
        object["time"] = .string(time.description)
        if let location { object["location"] = .string(location) }
        object["details"] = .object(details)
        return .object(object)
    }

    /// The exact bytes an Ed25519 signature covers.
    public var signingInput: [UInt8] { SigningContext.prefix(for: type) + canonicalBytes }

    public init(json value: JSONValue, path: String = "statement") throws(FormatError) {
        try self.init(json: value, path: path, canonicalBytes: nil)
    }

    /// - Parameter canonicalBytes: the bytes `value` was read from, when they were canonical
    ///   (``CanonicalJSON/decodeWithMemberSpans(_:options:)`` under `.strict`): they become the
    ///   statement's bytes as they are, instead of being written again from `value`.
    package init(json value: JSONValue, path: String, canonicalBytes: [UInt8]?) throws(FormatError) {
        var fields = try FieldReader(value, path: path)
        let version = try fields.integer("version")
        guard version == Self.version else {
            throw FormatError(
                .unsupportedVersion,
                field: fields.fieldPath("version"),
                "version \(version) is not supported; this reader knows version 1"
            )
        }
        let type = try EventType(name: fields.string("type"))
        var product: SGTIN?
        if let text = try fields.optionalString("product") {
            product = try Self.canonicalProduct(text, field: fields.fieldPath("product"))
        }
        let previous = try fields.optionalString("previous").map { (hex) throws(FormatError) in
            try Digest(hex: hex, field: fields.fieldPath("previous"))
        }
        var batch: BatchCommitment?
        if let value = fields.optional("batch") {
            batch = try BatchCommitment(json: value, path: fields.fieldPath("batch"))
        }
        let signer = try Digest(hex: fields.string("signer"), field: fields.fieldPath("signer"))
        let time = try Timestamp(parsing: fields.string("time"), field: fields.fieldPath("time"))
        let location = try fields.optionalString("location")
        if let location { try GLN.validate(location, field: fields.fieldPath("location")) }
        let detailsValue = try fields.required("details")
        guard case .object(let details) = detailsValue else {
            throw FormatError(
                .wrongType,
                field: fields.fieldPath("details"),
                "expected an object, found \(detailsValue.kindName)"
            )
        }
        try fields.finish()
        try self.init(
            type: type,
            product: product,
            previous: previous,
            batch: batch,
            signer: signer,
            time: time,
            location: location,
            details: details,
            read: canonicalBytes
        )
        // Every field was read in its one accepted spelling and nothing unknown was left, so the
        // object read is the one these fields describe: checked in debug builds.
        assert(canonicalBytes == nil || json == value, "a statement read back differs from the one its fields describe")
    }

    /// The envelope rules that hold for every type, independent of any ledger state.
    func validateShape(path: String) throws(FormatError) {
        switch type {
        case .roster:
            guard product == nil, batch == nil, location == nil else {
                throw FormatError(
                    .invalidValue,
                    field: path,
                    "a roster statement names no product, no batch and no location"
                )
            }
        case .productClass:
            guard product == nil, batch == nil, location == nil else {
                throw FormatError(
                    .invalidValue,
                    field: path,
                    "a product-class statement names its GTIN in details.gtin, and no product, batch or location"
                )
            }
        case .commission:
            guard product != nil, previous == nil, batch == nil else {
                throw FormatError(
                    .invalidValue,
                    field: path,
                    "a commission names one product and no previous event: it starts the chain"
                )
            }
        default:
            if batch != nil {
                guard EventType.batchable.contains(type) else {
                    throw FormatError(.invalidValue, field: "\(path).batch", "\(type) statements cannot cover a batch")
                }
                guard product == nil, previous == nil else {
                    throw FormatError(
                        .invalidValue,
                        field: path,
                        "a batch statement names its products in its members, not in product/previous"
                    )
                }
            } else {
                guard product != nil else {
                    throw FormatError(.missingField, field: "\(path).product", "required field is missing")
                }
                guard previous != nil else {
                    throw FormatError(
                        .missingField,
                        field: "\(path).previous",
                        "every event after commissioning names the product's previous event"
                    )
                }
            }
        }
    }

    /// The GTIN a `product-class` statement describes (`details.gtin`), `nil` for other types.
    ///
    /// Read without judging it: the catalogue (rule `L13`) checks that it is a GTIN-14 with its
    /// check digit; a logged statement has passed that check.
    public var classGTIN: String? {
        guard type == .productClass, case .string(let gtin)? = details["gtin"] else { return nil }
        return gtin
    }

    /// The name of the chain a `product-class` statement extends: `class/{gtin}`.
    public static func classChain(gtin: String) -> String { "class/" + gtin }

    /// Products are written in exactly one form, the canonical Digital Link, so that the same
    /// product never appears under two spellings in signed bytes.
    static func canonicalProduct(_ text: String, field: @autoclosure () -> String) throws(FormatError) -> SGTIN {
        if let product = SGTIN(canonicalDigitalLink: text) { return product }
        let scan: ProductScan
        do { scan = try IdentityParser.parse(text) } catch {
            throw FormatError(.invalidIdentity, field: field(), "\(error)")
        }
        guard scan.sgtin.digitalLink == text else {
            throw FormatError(.invalidIdentity, field: field(), "expected the canonical form \(scan.sgtin.digitalLink)")
        }
        return scan.sgtin
    }
}

/// What a batch statement commits to: an RFC 9162 Merkle root over its members' canonical bytes.
///
/// One signature covers hundreds of products, yet one product's evidence is that signature plus a
/// logarithmic inclusion proof, not the whole list.
public struct BatchCommitment: Hashable, Sendable {
    public let count: Int64
    public let root: Digest

    public init(count: Int64, root: Digest) {
        self.count = count
        self.root = root
    }

    var json: JSONValue {
        var object = JSONObject()
        object["count"] = .integer(count)
        object["root"] = .string(root.hex)
        return .object(object)
    }

    init(json value: JSONValue, path: String) throws(FormatError) {
        var fields = try FieldReader(value, path: path)
        let count = try fields.integer("count")
        guard count >= 1, count <= BatchMember.maxCount else {
            throw FormatError(
                .invalidValue,
                field: fields.fieldPath("count"),
                "a batch covers 1 to \(BatchMember.maxCount) products, found \(count)"
            )
        }
        let root = try Digest(hex: fields.string("root"), field: fields.fieldPath("root"))
        try fields.finish()
        self.init(count: count, root: root)
    }
}

import CanonicalJSON
import RetraceCrypto
import RetraceEvents
import VerifiableMap

/// An offline proof bundle (`retrace-bundle/v1`, spec/verification.md §4): everything needed to
/// verify one product's history, or one batch certificate, with only the trust anchors.
///
/// It is a canonical JSON file: a signed checkpoint, the roster entries up to the checkpoint, and
/// one or more product chains, every entry with its inclusion proof. A certificate bundle adds the
/// batch statement with all its members, and carries the chain of every member.
///
/// Version 2 (`retrace-bundle/v2`) adds the head proofs: each chain's membership proof in the
/// checkpoint's heads map, and the roster chain's, so a bundle that leaves out a chain's newest
/// events (or rosters) is refused instead of verifying as a shorter history.
public struct ProofBundle: Hashable, Sendable {
    public static let format = "retrace-bundle/v1"
    public static let formatV2 = "retrace-bundle/v2"

    /// One product's chain: its events in chain order, commission first.
    public struct Chain: Hashable, Sendable {
        /// The canonical Digital Link of the product.
        public let product: String
        public let events: [BundleEntry]
        /// v2: the proof of this chain's head in the checkpoint's heads map.
        public let head: MapProof?

        public init(product: String, events: [BundleEntry], head: MapProof? = nil) {
            self.product = product
            self.events = events
            self.head = head
        }
    }

    /// v2, product bundles only: the class chain of the product's GTIN (its `product-class`
    /// statements up to the checkpoint, oldest first, possibly none) and the proof of its head in
    /// the heads map (membership of the newest, or absence when there is none), so the offline
    /// proof names the product and a stale or stripped class is refused.
    public struct ClassChain: Hashable, Sendable {
        /// The GTIN-14 described: the GTIN of the bundle's product.
        public let gtin: String
        public let entries: [BundleEntry]
        /// `nil` only in a bundle that lost it, which the verifier refuses (`incomplete-history`).
        public let head: MapProof?

        public init(gtin: String, entries: [BundleEntry], head: MapProof?) {
            self.gtin = gtin
            self.entries = entries
            self.head = head
        }

        var json: JSONValue {
            var object: JSONObject = ["entries": .array(entries.map(\.json)), "gtin": .string(gtin)]
            if let head { object["head"] = .string(Base64.encode(head.bytes)) }
            return .object(object)
        }
    }

    /// The signed note of the checkpoint every proof leads to.
    public let checkpoint: String
    /// Roster entries in log order, from entry 0.
    public let roster: [BundleEntry]
    public let products: [Chain]
    /// For a certificate bundle: the batch statement, with all its `members`.
    public let certificate: BundleEntry?
    /// v2: the proof of the roster chain's head in the checkpoint's heads map. A bundle is v2
    /// exactly when it carries this (and then every chain carries its own head proof).
    public let rosterHead: MapProof?
    /// v2 product bundles: the class chain of the product's GTIN; `nil` when not carried (v1, a
    /// certificate bundle, or a bundle made before product classes), which proves no class.
    public let productClass: ClassChain?

    public init(
        checkpoint: String,
        roster: [BundleEntry],
        products: [Chain],
        certificate: BundleEntry? = nil,
        rosterHead: MapProof? = nil,
        productClass: ClassChain? = nil
    ) {
        self.checkpoint = checkpoint
        self.roster = roster
        self.products = products
        self.certificate = certificate
        self.rosterHead = rosterHead
        self.productClass = productClass
    }

    public var isVersion2: Bool { rosterHead != nil }

    public var json: JSONValue {
        var object = JSONObject()
        if let certificate { object["certificate"] = certificate.json }
        object["checkpoint"] = .string(checkpoint)
        object["format"] = .string(isVersion2 ? Self.formatV2 : Self.format)
        if isVersion2, let productClass { object["productClass"] = productClass.json }
        object["products"] = .array(
            products.map { chain in
                var item: JSONObject = ["events": .array(chain.events.map(\.json)), "product": .string(chain.product)]
                if isVersion2, let head = chain.head { item["head"] = .string(Base64.encode(head.bytes)) }
                return .object(item)
            }
        )
        object["roster"] = .array(roster.map(\.json))
        if let rosterHead { object["rosterHead"] = .string(Base64.encode(rosterHead.bytes)) }
        return .object(object)
    }

    /// The same bundle over another signed note of the same checkpoint (the note with witnesses'
    /// cosignatures added): everything else, head proofs included, is kept.
    public func withCheckpoint(_ note: String) -> ProofBundle {
        ProofBundle(
            checkpoint: note,
            roster: roster,
            products: products,
            certificate: certificate,
            rosterHead: rosterHead,
            productClass: productClass
        )
    }

    /// Strips the head proofs: the v1 form, for clients that predate v2.
    public var version1: ProofBundle {
        ProofBundle(
            checkpoint: checkpoint,
            roster: roster,
            products: products.map { Chain(product: $0.product, events: $0.events) },
            certificate: certificate
        )
    }

    /// The bundle file: canonical JSON followed by one line feed.
    public func encoded() throws(VerificationError) -> [UInt8] {
        do { return try CanonicalJSON.encode(json) + [0x0A] } catch {
            throw VerificationError(.malformedBundle, "the bundle cannot be encoded: \(error)")
        }
    }

    /// Parses a bundle file strictly: canonical JSON followed by exactly one line feed, no unknown
    /// members (verification.md §4.1). The line feed is required, not tolerated, so that a file has
    /// one spelling and two verifiers never disagree on whether it is a bundle.
    public init(parsing bytes: [UInt8]) throws(VerificationError) {
        guard bytes.last == 0x0A else {
            throw VerificationError(
                .malformedBundle,
                "the bundle does not end with a line feed: a bundle file is canonical JSON and one line feed"
            )
        }
        let body = Array(bytes.dropLast())
        let value: JSONValue
        do { value = try CanonicalJSON.decode(body, options: .strict) } catch {
            throw VerificationError(.malformedBundle, "the bundle is not canonical JSON: \(error)")
        }
        try self.init(json: value)
    }

    /// Reads a bundle that arrived as a JSON value inside another document (an API answer, an
    /// upload): the file's canonical bytes and final line feed are then not in question, only its
    /// members, which are read as strictly as from a file.
    public init(json value: JSONValue) throws(VerificationError) {
        var reader = try BundleReader(value, path: "bundle")
        let format = try reader.string("format")
        guard format == Self.format || format == Self.formatV2 else {
            throw VerificationError(
                .unsupportedFormat,
                "format \"\(format)\" is not \(Self.format) or \(Self.formatV2)"
            )
        }
        let v2 = format == Self.formatV2
        let checkpoint = try reader.string("checkpoint")
        var roster: [BundleEntry] = []
        for (position, item) in try reader.array("roster").enumerated() {
            roster.append(try BundleEntry(json: item, path: "bundle.roster[\(position)]"))
        }
        var products: [Chain] = []
        for (position, item) in try reader.array("products").enumerated() {
            let path = "bundle.products[\(position)]"
            var chainReader = try BundleReader(item, path: path)
            let product = try chainReader.string("product")
            var events: [BundleEntry] = []
            for (eventPosition, event) in try chainReader.array("events").enumerated() {
                events.append(try BundleEntry(json: event, path: "\(path).events[\(eventPosition)]"))
            }
            let head = v2 ? try Self.mapProof(try chainReader.string("head"), path: "\(path).head") : nil
            try chainReader.finish()
            products.append(Chain(product: product, events: events, head: head))
        }
        let rosterHead = v2 ? try Self.mapProof(try reader.string("rosterHead"), path: "bundle.rosterHead") : nil
        let certificate = try reader.take("certificate").map { (value) throws(VerificationError) in
            try BundleEntry(json: value, path: "bundle.certificate")
        }
        // Only v2 knows the member: in a v1 bundle it stays unknown and `finish` refuses it.
        let productClass = try (v2 ? reader.take("productClass") : nil).map { (value) throws(VerificationError) in
            try Self.classChain(value)
        }
        try reader.finish()
        self.init(
            checkpoint: checkpoint,
            roster: roster,
            products: products,
            certificate: certificate,
            rosterHead: rosterHead,
            productClass: productClass
        )
    }

    private static func classChain(_ value: JSONValue) throws(VerificationError) -> ClassChain {
        let path = "bundle.productClass"
        var reader = try BundleReader(value, path: path)
        let gtin = try reader.string("gtin")
        var entries: [BundleEntry] = []
        for (position, item) in try reader.array("entries").enumerated() {
            entries.append(try BundleEntry(json: item, path: "\(path).entries[\(position)]"))
        }
        let head = try reader.take("head").map { (value) throws(VerificationError) in
            guard case .string(let text) = value else {
                throw VerificationError(.malformedBundle, "\(path).head is not a string")
            }
            return try mapProof(text, path: "\(path).head")
        }
        try reader.finish()
        return ClassChain(gtin: gtin, entries: entries, head: head)
    }

    private static func mapProof(_ text: String, path: String) throws(VerificationError) -> MapProof {
        guard let bytes = Base64.decode(text) else {
            throw VerificationError(.malformedBundle, "\(path) is not canonical base64")
        }
        do { return try MapProof(bytes: bytes) } catch {
            throw VerificationError(.malformedBundle, "\(path): \(error)")
        }
    }
}

import CanonicalJSON
import RetraceEvents

/// An offline proof bundle (`retrace-bundle/v1`, spec/verification.md §4): everything needed to
/// verify one product's history, or one batch certificate, with only the trust anchors.
///
/// It is a canonical JSON file: a signed checkpoint, the roster entries up to the checkpoint, and
/// one or more product chains, every entry with its inclusion proof. A certificate bundle adds the
/// batch statement with all its members, and carries the chain of every member.
public struct ProofBundle: Hashable, Sendable {
    public static let format = "retrace-bundle/v1"

    /// One product's chain: its events in chain order, commission first.
    public struct Chain: Hashable, Sendable {
        /// The canonical Digital Link of the product.
        public let product: String
        public let events: [BundleEntry]

        public init(product: String, events: [BundleEntry]) {
            self.product = product
            self.events = events
        }
    }

    /// The signed note of the checkpoint every proof leads to.
    public let checkpoint: String
    /// Roster entries in log order, from entry 0.
    public let roster: [BundleEntry]
    public let products: [Chain]
    /// For a certificate bundle: the batch statement, with all its `members`.
    public let certificate: BundleEntry?

    public init(checkpoint: String, roster: [BundleEntry], products: [Chain], certificate: BundleEntry? = nil) {
        self.checkpoint = checkpoint
        self.roster = roster
        self.products = products
        self.certificate = certificate
    }

    public var json: JSONValue {
        var object = JSONObject()
        if let certificate { object["certificate"] = certificate.json }
        object["checkpoint"] = .string(checkpoint)
        object["format"] = .string(Self.format)
        object["products"] = .array(
            products.map { .object(["events": .array($0.events.map(\.json)), "product": .string($0.product)]) }
        )
        object["roster"] = .array(roster.map(\.json))
        return .object(object)
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
        guard format == Self.format else {
            throw VerificationError(.unsupportedFormat, "format \"\(format)\" is not \(Self.format)")
        }
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
            try chainReader.finish()
            products.append(Chain(product: product, events: events))
        }
        let certificate = try reader.take("certificate").map { (value) throws(VerificationError) in
            try BundleEntry(json: value, path: "bundle.certificate")
        }
        try reader.finish()
        self.init(checkpoint: checkpoint, roster: roster, products: products, certificate: certificate)
    }
}

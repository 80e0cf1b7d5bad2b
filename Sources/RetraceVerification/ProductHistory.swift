import CanonicalJSON
import RetraceCrypto
import RetraceEvents
import RetraceRules

/// A product's verified life in order, for a certified pre-owned buyer, the CLI and the web page.
///
/// Built only from a ``VerifiedProduct``, so every line was re-checked against the checkpoint it
/// names. Events carry no personal data by design (orders and customers appear as salted digests),
/// so the details are shown as recorded.
public struct ProductHistory: Codable, Hashable, Sendable {
    public struct PartyReference: Codable, Hashable, Sendable {
        public let id: String
        public let name: String
        /// The role in which the party recorded the event.
        public let role: String
    }

    public struct BatchReference: Codable, Hashable, Sendable {
        /// How many products the batch statement covers.
        public let count: Int64
        public let root: String
        /// This product's position among the members.
        public let memberIndex: UInt64
    }

    public struct CheckpointReference: Codable, Hashable, Sendable {
        public let origin: String
        public let size: UInt64
        public let rootHash: String
    }

    public struct Event: Codable, Hashable, Sendable {
        public let index: UInt64
        public let eventID: String
        /// The event type, e.g. `return-receive`.
        public let type: String
        /// The event in words, e.g. "received back at a returns dock".
        public let action: String
        public let time: String
        /// When the log accepted it.
        public let received: String
        public let location: String?
        public let party: PartyReference
        /// One line: who did what, with the key facts.
        public let summary: String
        /// The recorded details, each rendered as text.
        public let details: [String: String]
        public let batch: BatchReference?
        /// The product's phase after the event.
        public let phase: String
    }

    /// The brand owner's signed description of the product's GTIN in force at the checkpoint
    /// (the newest `product-class` statement), proven like the events.
    public struct ProductClass: Codable, Hashable, Sendable {
        public struct Image: Codable, Hashable, Sendable {
            public let url: String
            /// SHA-256 of the image's bytes: show the image only when what was fetched hashes to it.
            public let sha256: String
        }

        public let name: String
        public let model: String?
        public let image: Image?
        /// The statement in force: its id and log index.
        public let event: String
        public let index: UInt64
        /// The brand owner that signed it.
        public let party: String
        public let massGrams: Int64?
        public let materials: [String: Int64]?
    }

    public let product: String
    public let gtin: String
    /// `nil` when the GTIN has no class statement up to the checkpoint, or the evidence did not carry it.
    public let productClass: ProductClass?
    public let serial: String
    public let passport: String
    public let phase: String
    public let brandOwner: String
    public let events: [Event]
    public let checkpoint: CheckpointReference
    /// "complete as of checkpoint N" when the heads map proved the chain whole, else
    /// "completeness not proven" (evidence made before the map existed).
    public let completeness: String

    public init(_ verified: VerifiedProduct) {
        product = verified.product.digitalLink
        gtin = verified.product.gtin.digits
        serial = verified.product.serial.value
        passport = verified.passport.hex
        phase = verified.state.phase.name
        brandOwner = verified.state.brandOwner
        completeness = verified.completeness.description
        checkpoint = CheckpointReference(
            origin: verified.checkpoint.origin,
            size: verified.checkpoint.size,
            rootHash: Hex.encode(verified.checkpoint.rootHash)
        )
        events = verified.events.map(Self.event)
        productClass = verified.productClass.map { verified in
            let details = verified.details
            return ProductClass(
                name: details.name,
                model: details.model,
                image: details.image.map { ProductClass.Image(url: $0.url, sha256: $0.sha256.hex) },
                event: verified.id.hex,
                index: verified.index,
                party: verified.party.id,
                massGrams: details.massGrams,
                materials: details.materials.isEmpty ? nil : details.materials
            )
        }
    }

    /// The title a page or a terminal shows for the product: "name model", or the GTIN when no
    /// class is known.
    public var title: String {
        guard let productClass else { return "GTIN \(gtin)" }
        return [productClass.name, productClass.model].compactMap { $0 }.joined(separator: " ")
    }

    private static func event(_ event: VerifiedEvent) -> Event {
        let statement = event.statement
        let allowed = Catalogue.entry(for: statement.type)?.roles ?? []
        let role = event.party.roles.intersection(allowed).sorted().first?.name ?? ""
        var details: [String: String] = [:]
        for (key, value) in statement.details { details[key] = text(value) }
        let action = Self.action(statement.type)
        var facts: [String] = []
        for key in ["notice", "reason", "grade", "certificate", "method", "resolution", "rma", "claim", "returnBy"] {
            if let value = details[key] { facts.append("\(key) \(value)") }
        }
        let summary =
            "\(event.party.name) (\(role)): \(action)" + (facts.isEmpty ? "" : " — " + facts.joined(separator: ", "))
        let batch = statement.batch.map {
            BatchReference(count: $0.count, root: $0.root.hex, memberIndex: event.memberIndex ?? 0)
        }
        return Event(
            index: event.index,
            eventID: event.id.hex,
            type: statement.type.name,
            action: action,
            time: statement.time.description,
            received: event.entry.received.description,
            location: statement.location,
            party: PartyReference(id: event.party.id, name: event.party.name, role: role),
            summary: summary,
            details: details,
            batch: batch,
            phase: event.state.phase.name
        )
    }

    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "yes" : "no"
        case .integer(let number): return String(number)
        case .string(let string): return string
        case .array(let items): return items.map(text).joined(separator: ", ")
        case .object(let object): return object.map { "\($0.key) \(text($0.value))" }.joined(separator: ", ")
        }
    }

    /// The event type in words.
    public static func action(_ type: EventType) -> String {
        let words: [EventType: String] = [
            .commission: "commissioned (serial registered by its brand)", .ship: "shipped",
            .receive: "received into stock",
            .sell: "sold to a customer", .deliver: "delivered to the customer", .deliveryFailed: "delivery failed",
            .returnAuthorize: "return authorised", .returnReceive: "received back at a returns dock",
            .inspect: "inspected and graded", .restock: "put back into sellable stock", .repair: "repaired",
            .refurbish: "refurbished", .resell: "resold (pre-owned)", .warrantyClaim: "warranty claim opened",
            .warrantyResolve: "warranty claim resolved", .tradeIn: "traded in for credit", .leaseOut: "leased out",
            .leaseReturn: "returned from lease", .excessDisposition: "disposed of as excess inventory",
            .recall: "recalled", .recallRemedy: "recall remedied", .reportStolen: "reported stolen",
            .reportLost: "reported lost", .recycle: "recycled", .dispose: "destroyed",
            .productClass: "product class described by its brand",
        ]
        return words[type] ?? type.name
    }
}

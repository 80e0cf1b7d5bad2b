import CanonicalJSON
import RetraceEvents

/// What the ledger knows about one product after one of its events: its phase, who holds it, the
/// open processes (sale, RMA, warranty claim, lease) and overlays (recall, theft or loss).
///
/// The ledger stores it beside every chain link as canonical JSON, so the next event is judged
/// from the head's state alone, without replaying the product's history, and a verifier at a
/// returns dock reads the answer to "may this be returned?" directly.
public struct ProductState: Hashable, Sendable {
    /// A retail sale (a `sell` or `resell`).
    public struct Sale: Hashable, Sendable {
        /// The retailer's party id.
        public let retailer: String
        public let time: Timestamp
        /// Salted digest of the order reference, computed by the retailer.
        public let orderDigest: Digest
        /// Salted digest of the customer's pseudonymous reference, if given.
        public let customerDigest: Digest?
        /// The end of the return window, if the retailer stated one.
        public let returnBy: Timestamp?
        /// Whether this was a resale of a refurbished product.
        public let preOwned: Bool
        /// Whether it was sold as certified pre-owned.
        public let certifiedPreOwned: Bool
    }

    /// An open return authorisation.
    public struct ReturnAuthorization: Hashable, Sendable {
        public let rma: String
        public let reason: String
        /// The party id that authorised it.
        public let authorizedBy: String
        public let time: Timestamp
    }

    /// An open warranty claim.
    public struct WarrantyClaim: Hashable, Sendable {
        public let claim: String
        public let openedBy: String
        public let time: Timestamp
    }

    /// A running lease.
    public struct Lease: Hashable, Sendable {
        public let leaseDigest: Digest
        public let lessor: String
        public let until: Timestamp
    }

    /// A recall in force; it ends with a `recall-remedy` or with the product's end of life.
    public struct Recall: Hashable, Sendable {
        /// The id of the recall statement.
        public let event: Digest
        public let notice: String
        public let reason: String
        public let remedy: String
        public let recalledBy: String
        public let time: Timestamp
    }

    /// A theft or loss report in force; it ends when the product is received back at a dock.
    public struct Missing: Hashable, Sendable {
        /// `stolen` or `lost`.
        public let kind: String
        public let reportedBy: String
        public let time: Timestamp
    }

    /// How often things happened to the product, for verifiers that look for patterns
    /// (e.g. a serial returned many times).
    public struct Counters: Hashable, Sendable {
        public internal(set) var sales: Int64 = 0
        public internal(set) var returns: Int64 = 0
        public internal(set) var repairs: Int64 = 0
        public internal(set) var refurbishments: Int64 = 0
        public internal(set) var warrantyClaims: Int64 = 0
    }

    public internal(set) var phase: Phase
    /// The roster party that last took physical custody; `nil` while someone outside the roster
    /// (a customer, lessee, liquidator or donee) has it.
    public internal(set) var custodian: String?
    /// The party id of the brand owner that commissioned it.
    public internal(set) var brandOwner: String
    /// The id of the commissioning statement.
    public internal(set) var passport: Digest
    /// The GTIN-14.
    public internal(set) var gtin: String
    /// The id of the statement this state follows (the chain head).
    public internal(set) var head: Digest
    /// The latest event time seen on the chain (the maximum, so skew cannot accumulate).
    public internal(set) var lastEventTime: Timestamp
    public internal(set) var lastEventType: EventType
    /// The party a pending shipment was addressed to, if the sender named one.
    public internal(set) var consignee: String?
    public internal(set) var sale: Sale?
    public internal(set) var returnAuthorization: ReturnAuthorization?
    public internal(set) var warrantyClaim: WarrantyClaim?
    public internal(set) var lease: Lease?
    public internal(set) var recall: Recall?
    public internal(set) var missing: Missing?
    /// The grade of the latest inspection since the product was last received back.
    public internal(set) var grade: String?
    /// Whether the latest refurbishment was certified by an accredited refurbisher.
    public internal(set) var certifiedRefurbished: Bool
    /// The warranty given by the latest refurbishment, in months.
    public internal(set) var refurbishedWarrantyMonths: Int64?
    /// The mass declared at commissioning, in grams.
    public internal(set) var declaredMassGrams: Int64?
    /// The materials declared at commissioning, in grams per material.
    public internal(set) var declaredMaterials: [String: Int64]
    public internal(set) var counters: Counters

    init(phase: Phase, brandOwner: String, passport: Digest, gtin: String, time: Timestamp) {
        self.phase = phase
        self.custodian = brandOwner
        self.brandOwner = brandOwner
        self.passport = passport
        self.gtin = gtin
        self.head = passport
        self.lastEventTime = time
        self.lastEventType = .commission
        self.certifiedRefurbished = false
        self.declaredMaterials = [:]
        self.counters = Counters()
    }

    // MARK: JSON

    public var json: JSONValue {
        var object = JSONObject()
        object["brandOwner"] = .string(brandOwner)
        if certifiedRefurbished { object["certifiedRefurbished"] = .bool(true) }
        if let consignee { object["consignee"] = .string(consignee) }
        object["counters"] = .object([
            "refurbishments": .integer(counters.refurbishments), "repairs": .integer(counters.repairs),
            "returns": .integer(counters.returns), "sales": .integer(counters.sales),
            "warrantyClaims": .integer(counters.warrantyClaims),
        ])
        if let custodian { object["custodian"] = .string(custodian) }
        if let declaredMassGrams { object["declaredMassGrams"] = .integer(declaredMassGrams) }
        if !declaredMaterials.isEmpty {
            object["declaredMaterials"] = .object(JSONObject(declaredMaterials.mapValues { JSONValue.integer($0) }))
        }
        if let grade { object["grade"] = .string(grade) }
        object["gtin"] = .string(gtin)
        object["head"] = .string(head.hex)
        object["lastEventTime"] = .string(lastEventTime.description)
        object["lastEventType"] = .string(lastEventType.name)
        if let lease {
            object["lease"] = .object([
                "leaseDigest": .string(lease.leaseDigest.hex), "lessor": .string(lease.lessor),
                "until": .string(lease.until.description),
            ])
        }
        if let missing {
            object["missing"] = .object([
                "kind": .string(missing.kind), "reportedBy": .string(missing.reportedBy),
                "time": .string(missing.time.description),
            ])
        }
        object["passport"] = .string(passport.hex)
        object["phase"] = .string(phase.name)
        if let recall {
            object["recall"] = .object([
                "event": .string(recall.event.hex), "notice": .string(recall.notice), "reason": .string(recall.reason),
                "recalledBy": .string(recall.recalledBy), "remedy": .string(recall.remedy),
                "time": .string(recall.time.description),
            ])
        }
        if let refurbishedWarrantyMonths { object["refurbishedWarrantyMonths"] = .integer(refurbishedWarrantyMonths) }
        if let rma = returnAuthorization {
            object["returnAuthorization"] = .object([
                "authorizedBy": .string(rma.authorizedBy), "reason": .string(rma.reason), "rma": .string(rma.rma),
                "time": .string(rma.time.description),
            ])
        }
        if let sale {
            var saleObject: JSONObject = [
                "orderDigest": .string(sale.orderDigest.hex), "retailer": .string(sale.retailer),
                "time": .string(sale.time.description),
            ]
            if sale.certifiedPreOwned { saleObject["certifiedPreOwned"] = .bool(true) }
            if let customer = sale.customerDigest { saleObject["customerDigest"] = .string(customer.hex) }
            if sale.preOwned { saleObject["preOwned"] = .bool(true) }
            if let returnBy = sale.returnBy { saleObject["returnBy"] = .string(returnBy.description) }
            object["sale"] = .object(saleObject)
        }
        if let claim = warrantyClaim {
            object["warrantyClaim"] = .object([
                "claim": .string(claim.claim), "openedBy": .string(claim.openedBy),
                "time": .string(claim.time.description),
            ])
        }
        return .object(object)
    }

    /// `CanonicalJSON.encode(json)`, written member by member without building the tree: a state
    /// is encoded once per appended event and compared once per audited one, so this is on both
    /// paths. The members and their order are those of ``json``; `ProductStateTests` holds the two
    /// to the same bytes for every kind of state.
    public func canonicalBytes() throws -> [UInt8] {
        var out = CanonicalObjectWriter()
        out.string("brandOwner", brandOwner)
        if certifiedRefurbished { out.bool("certifiedRefurbished", true) }
        if let consignee { out.string("consignee", consignee) }
        try out.object("counters") { (o: inout CanonicalObjectWriter) throws(CanonicalJSONError) in
            try o.integer("refurbishments", counters.refurbishments)
            try o.integer("repairs", counters.repairs)
            try o.integer("returns", counters.returns)
            try o.integer("sales", counters.sales)
            try o.integer("warrantyClaims", counters.warrantyClaims)
        }
        if let custodian { out.string("custodian", custodian) }
        if let declaredMassGrams { try out.integer("declaredMassGrams", declaredMassGrams) }
        if !declaredMaterials.isEmpty { try out.integers("declaredMaterials", declaredMaterials) }
        if let grade { out.string("grade", grade) }
        out.string("gtin", gtin)
        out.string("head", head.hex)
        out.string("lastEventTime", lastEventTime.description)
        out.string("lastEventType", lastEventType.name)
        if let lease {
            out.object("lease") { o in
                o.string("leaseDigest", lease.leaseDigest.hex)
                o.string("lessor", lease.lessor)
                o.string("until", lease.until.description)
            }
        }
        if let missing {
            out.object("missing") { o in
                o.string("kind", missing.kind)
                o.string("reportedBy", missing.reportedBy)
                o.string("time", missing.time.description)
            }
        }
        out.string("passport", passport.hex)
        out.string("phase", phase.name)
        if let recall {
            out.object("recall") { o in
                o.string("event", recall.event.hex)
                o.string("notice", recall.notice)
                o.string("reason", recall.reason)
                o.string("recalledBy", recall.recalledBy)
                o.string("remedy", recall.remedy)
                o.string("time", recall.time.description)
            }
        }
        if let refurbishedWarrantyMonths { try out.integer("refurbishedWarrantyMonths", refurbishedWarrantyMonths) }
        if let rma = returnAuthorization {
            out.object("returnAuthorization") { o in
                o.string("authorizedBy", rma.authorizedBy)
                o.string("reason", rma.reason)
                o.string("rma", rma.rma)
                o.string("time", rma.time.description)
            }
        }
        if let sale {
            out.object("sale") { o in
                if sale.certifiedPreOwned { o.bool("certifiedPreOwned", true) }
                if let customer = sale.customerDigest { o.string("customerDigest", customer.hex) }
                o.string("orderDigest", sale.orderDigest.hex)
                if sale.preOwned { o.bool("preOwned", true) }
                o.string("retailer", sale.retailer)
                if let returnBy = sale.returnBy { o.string("returnBy", returnBy.description) }
                o.string("time", sale.time.description)
            }
        }
        if let claim = warrantyClaim {
            out.object("warrantyClaim") { o in
                o.string("claim", claim.claim)
                o.string("openedBy", claim.openedBy)
                o.string("time", claim.time.description)
            }
        }
        return out.finish()
    }

    /// Reads a stored state back, strictly.
    ///
    /// - Throws: `FormatError` naming the field: a stored state that does not parse means the
    ///   store is corrupt or was written by another version, never something to guess around.
    public init(json value: JSONValue) throws(FormatError) {
        do throws(FieldProblem) {
            var fields = try StrictReader(value, path: "state")
            let phaseName = try fields.string("phase")
            guard let phase = Phase(name: phaseName) else {
                throw FieldProblem(path: fields.at("phase"), reason: "unknown phase \"\(phaseName)\"")
            }
            self.phase = phase
            self.brandOwner = try fields.string("brandOwner")
            self.custodian = try fields.optionalString("custodian")
            self.passport = try fields.digest("passport")
            self.gtin = try fields.string("gtin")
            self.head = try fields.digest("head")
            self.lastEventTime = try fields.time("lastEventTime")
            let typeName = try fields.string("lastEventType")
            do { self.lastEventType = try EventType(name: typeName) } catch {
                throw FieldProblem(path: fields.at("lastEventType"), reason: "unknown event type \"\(typeName)\"")
            }
            self.consignee = try fields.optionalString("consignee")
            self.grade = try fields.optionalString("grade")
            self.certifiedRefurbished =
                try fields.optional("certifiedRefurbished") == nil
                ? false : fields.bool("certifiedRefurbished")
            self.refurbishedWarrantyMonths = try fields.optionalInteger("refurbishedWarrantyMonths")
            self.declaredMassGrams = try fields.optionalInteger("declaredMassGrams")
            var materials: [String: Int64] = [:]
            if let value = fields.optional("declaredMaterials") {
                let reader = try StrictReader(value, path: fields.at("declaredMaterials"))
                for (key, grams) in reader.object {
                    materials[key] = try StrictReader.integer(grams, path: reader.at(key))
                }
            }
            self.declaredMaterials = materials
            var counters = Counters()
            var counterFields = try StrictReader(fields.required("counters"), path: fields.at("counters"))
            counters.sales = try counterFields.integer("sales")
            counters.returns = try counterFields.integer("returns")
            counters.repairs = try counterFields.integer("repairs")
            counters.refurbishments = try counterFields.integer("refurbishments")
            counters.warrantyClaims = try counterFields.integer("warrantyClaims")
            try counterFields.finish()
            self.counters = counters
            self.sale = try Self.readSale(&fields)
            self.returnAuthorization = try Self.readObject(&fields, "returnAuthorization") { (r) throws(FieldProblem) in
                ReturnAuthorization(
                    rma: try r.string("rma"),
                    reason: try r.string("reason"),
                    authorizedBy: try r.string("authorizedBy"),
                    time: try r.time("time")
                )
            }
            self.warrantyClaim = try Self.readObject(&fields, "warrantyClaim") { (r) throws(FieldProblem) in
                WarrantyClaim(
                    claim: try r.string("claim"),
                    openedBy: try r.string("openedBy"),
                    time: try r.time("time")
                )
            }
            self.lease = try Self.readObject(&fields, "lease") { (r) throws(FieldProblem) in
                Lease(
                    leaseDigest: try r.digest("leaseDigest"),
                    lessor: try r.string("lessor"),
                    until: try r.time("until")
                )
            }
            self.recall = try Self.readObject(&fields, "recall") { (r) throws(FieldProblem) in
                Recall(
                    event: try r.digest("event"),
                    notice: try r.string("notice"),
                    reason: try r.string("reason"),
                    remedy: try r.string("remedy"),
                    recalledBy: try r.string("recalledBy"),
                    time: try r.time("time")
                )
            }
            self.missing = try Self.readObject(&fields, "missing") { (r) throws(FieldProblem) in
                Missing(kind: try r.string("kind"), reportedBy: try r.string("reportedBy"), time: try r.time("time"))
            }
            try fields.finish()
        } catch {
            throw FormatError(.invalidValue, field: error.path, "stored product state: \(error.reason)")
        }
    }

    private static func readObject<T>(
        _ fields: inout StrictReader,
        _ key: String,
        _ read: (inout StrictReader) throws(FieldProblem) -> T
    ) throws(FieldProblem) -> T? {
        guard let value = fields.optional(key) else { return nil }
        var reader = try StrictReader(value, path: fields.at(key))
        let result = try read(&reader)
        try reader.finish()
        return result
    }

    private static func readSale(_ fields: inout StrictReader) throws(FieldProblem) -> Sale? {
        try readObject(&fields, "sale") { (r) throws(FieldProblem) in
            let preOwned = try r.optional("preOwned") == nil ? false : r.bool("preOwned")
            let certified = try r.optional("certifiedPreOwned") == nil ? false : r.bool("certifiedPreOwned")
            return Sale(
                retailer: try r.string("retailer"),
                time: try r.time("time"),
                orderDigest: try r.digest("orderDigest"),
                customerDigest: try r.optionalDigest("customerDigest"),
                returnBy: try r.optionalTime("returnBy"),
                preOwned: preOwned,
                certifiedPreOwned: certified
            )
        }
    }
}

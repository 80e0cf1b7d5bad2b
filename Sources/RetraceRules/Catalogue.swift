import CanonicalJSON
import RetraceEvents

/// The event catalogue: for every event type, who may sign it, its GS1 CBV 2.0 business step and
/// disposition, and the exact shape of its `details`.
///
/// This is the single source for `spec/lifecycle.md` §Catalogue; a test checks that the two agree.
/// CBV has no "returning" business step: a return is `receiving` with disposition `returned`.
public enum Catalogue {
    /// One row of the catalogue.
    public struct Entry: Sendable {
        public let type: EventType
        /// Roles any one of which allows a party to record the event (rule `L3 role`).
        public let roles: Set<Role>
        /// The CBV business step URN, e.g. `urn:epcglobal:cbv:bizstep:receiving`.
        public let bizStep: String
        /// The CBV disposition URN; `nil` where CBV recommends leaving it out (no change of condition).
        public let disposition: String?
        /// The members `details` may carry; any other member is refused.
        public let fields: [DetailField]

        public func field(_ name: String) -> DetailField? { fields.first { $0.name == name } }
    }

    public static let bizStepPrefix = "urn:epcglobal:cbv:bizstep:"
    /// Largest `price` (minor units): 10^12, a trillion cents, far within canonical JSON's integers.
    public static let maxPrice: Int64 = 1_000_000_000_000
    public static let dispositionPrefix = "urn:epcglobal:cbv:disp:"

    // MARK: Vocabularies

    public static let deliveryMethods = ["signature", "photo", "safe-place", "locker", "neighbour", "pickup-point"]
    public static let deliveryFailures = [
        "bad-address", "refused", "customs", "unreadable-label", "damaged-in-transit", "recipient-absent",
    ]
    public static let returnReasons = [
        "wrong-size", "defective", "damaged-in-transit", "not-as-described", "late-delivery", "no-longer-needed",
        "wrong-item", "missing-parts", "undeliverable",
    ]
    public static let arrivalConditions = ["sealed", "opened", "used", "damaged", "incomplete"]
    /// Inspection grades, best first. Only `as-new` may go straight back to stock (rule `L15`).
    public static let grades = ["as-new", "good", "fair", "defective", "beyond-repair"]
    public static let warrantyResolutions = ["repair", "replace", "refund", "rejected"]
    public static let excessActions = ["redistribute", "liquidate", "donate"]
    public static let recallReasons = ["safety", "quality", "regulatory", "labelling"]
    public static let recallRemedies = ["repair", "replace", "refund", "software-update"]
    public static let remedyActions = ["repaired", "software-updated", "not-affected"]
    public static let recyclingMethods = ["manual-disassembly", "mechanical-shredding", "smelting", "hydrometallurgy"]
    public static let disposalMethods = ["landfill", "incineration", "shredding"]

    // MARK: The table

    private static func entry(
        _ type: EventType,
        _ roles: Set<Role>,
        _ bizStep: String,
        _ disposition: String?,
        _ fields: [DetailField]
    ) -> Entry {
        Entry(
            type: type,
            roles: roles,
            bizStep: bizStepPrefix + bizStep,
            disposition: disposition.map { dispositionPrefix + $0 },
            fields: fields
        )
    }

    private static func required(_ name: String, _ kind: DetailField.Kind) -> DetailField {
        DetailField(name, kind, required: true)
    }

    private static func optional(_ name: String, _ kind: DetailField.Kind) -> DetailField {
        DetailField(name, kind, required: false)
    }

    private static let custodians: Set<Role> = [
        .brandOwner, .distributor, .carrier, .retailer, .returnsCentre, .refurbisher, .recycler,
    ]

    /// Every event type but `roster`, in catalogue order.
    public static let entries: [Entry] = [
        entry(
            .commission,
            [.brandOwner],
            "commissioning",
            "active",
            [
                optional("lot", .reference), optional("massGrams", .grams), optional("materials", .materials),
            ]
        ),
        entry(
            .ship,
            [.brandOwner, .distributor, .retailer, .returnsCentre],
            "shipping",
            "in_transit",
            [
                optional("consignee", .party), optional("carrier", .party), optional("shipment", .reference),
            ]
        ),
        entry(
            .receive,
            [.brandOwner, .distributor, .retailer, .returnsCentre],
            "receiving",
            "sellable_not_accessible",
            [
                optional("shipment", .reference), optional("condition", .choice(["intact", "damaged"])),
            ]
        ),
        entry(
            .sell,
            [.retailer],
            "retail_selling",
            "retail_sold",
            [
                required("orderDigest", .digest), optional("customerDigest", .digest), optional("returnBy", .time),
                optional("channel", .choice(["store", "online"])),
                // Catalogue 1.1 (compatible): the price paid, in minor units of `currency`.
                optional("price", .integer(0...maxPrice)), optional("currency", .currency),
            ]
        ),
        entry(
            .deliver,
            [.carrier],
            "accepting",
            "retail_sold",
            [
                optional("method", .choice(deliveryMethods)), optional("proofDigest", .digest),
            ]
        ),
        entry(
            .deliveryFailed,
            [.carrier],
            "holding",
            "non_sellable_other",
            [
                required("reason", .choice(deliveryFailures)), optional("attempts", .integer(1...20)),
            ]
        ),
        entry(
            .returnAuthorize,
            [.retailer, .brandOwner],
            "other",
            nil,
            [
                required("rma", .reference), required("reason", .choice(returnReasons)),
            ]
        ),
        entry(
            .returnReceive,
            [.returnsCentre, .retailer],
            "receiving",
            "returned",
            [
                required("condition", .choice(arrivalConditions)), required("scanned", .scan),
                optional("rma", .reference),
            ]
        ),
        entry(
            .inspect,
            [.returnsCentre, .refurbisher, .brandOwner],
            "inspecting",
            "conformant",
            [
                required("grade", .choice(grades)), optional("findings", .slugs), optional("evidence", .digests),
            ]
        ),
        entry(.restock, [.returnsCentre, .retailer, .distributor, .brandOwner], "stocking", "sellable_accessible", []),
        entry(
            .repair,
            [.refurbisher, .brandOwner],
            "repairing",
            "available",
            [
                required("work", .slugs), optional("parts", .parts),
            ]
        ),
        entry(
            .refurbish,
            [.refurbisher],
            "repairing",
            "conformant",
            [
                required("work", .slugs), optional("parts", .parts), required("tests", .slugs),
                optional("softwareVersion", .version), required("warrantyMonths", .integer(0...60)),
                required("certified", .flag),
            ]
        ),
        entry(
            .resell,
            [.retailer],
            "retail_selling",
            "retail_sold",
            [
                required("orderDigest", .digest), optional("customerDigest", .digest), optional("returnBy", .time),
                optional("channel", .choice(["store", "online"])), required("certifiedPreOwned", .flag),
                optional("price", .integer(0...maxPrice)), optional("currency", .currency),
            ]
        ),
        entry(
            .warrantyClaim,
            [.brandOwner, .retailer],
            "holding",
            "unavailable",
            [
                required("claim", .reference), optional("fault", .slug),
            ]
        ),
        entry(
            .warrantyResolve,
            [.brandOwner, .retailer],
            "repairing",
            "available",
            [
                required("claim", .reference), required("resolution", .choice(warrantyResolutions)),
                optional("replacement", .product),
            ]
        ),
        entry(
            .tradeIn,
            [.retailer, .brandOwner, .refurbisher],
            "accepting",
            "returned",
            [
                required("credit", .integer(0...1_000_000_000)), required("currency", .currency),
                optional("customerDigest", .digest), optional("grade", .choice(grades)),
            ]
        ),
        entry(
            .leaseOut,
            [.retailer, .brandOwner],
            "dispensing",
            "dispensed",
            [
                required("leaseDigest", .digest), optional("customerDigest", .digest), required("until", .time),
            ]
        ),
        entry(
            .leaseReturn,
            [.returnsCentre, .retailer, .brandOwner],
            "receiving",
            "returned",
            [
                required("condition", .choice(arrivalConditions)), optional("leaseDigest", .digest),
            ]
        ),
        entry(
            .excessDisposition,
            [.brandOwner, .retailer, .distributor, .returnsCentre],
            "shipping",
            "in_transit",
            [
                required("action", .choice(excessActions)), optional("consignee", .party),
                optional("reference", .reference),
            ]
        ),
        entry(
            .recall,
            [.brandOwner],
            "holding",
            "recalled",
            [
                required("notice", .reference), required("reason", .choice(recallReasons)),
                required("remedy", .choice(recallRemedies)),
            ]
        ),
        entry(
            .recallRemedy,
            [.brandOwner, .refurbisher],
            "repairing",
            "available",
            [
                required("notice", .reference), required("action", .choice(remedyActions)),
            ]
        ),
        entry(.reportStolen, custodians, "other", "stolen", [optional("reference", .reference)]),
        entry(.reportLost, custodians, "other", "unknown", [optional("reference", .reference)]),
        entry(
            .recycle,
            [.recycler],
            "disassembling",
            "destroyed",
            [
                required("certificate", .reference), required("method", .choice(recyclingMethods)),
                required("materials", .materials),
            ]
        ),
        entry(
            .dispose,
            [.recycler, .brandOwner, .returnsCentre],
            "destroying",
            "destroyed",
            [
                required("method", .choice(disposalMethods)), optional("certificate", .reference),
            ]
        ),
    ]

    /// The `product-class` statement (catalogue revision 1.2): what a GTIN is, said by its brand
    /// owner. Not in ``entries``: it is no step in a product's life and has no CBV business step
    /// (in EPCIS terms it is master data). `massGrams` and `materials` are declared for the class;
    /// a `commission`'s own declaration wins for its item.
    public static let productClass = Entry(
        type: .productClass,
        roles: [.brandOwner],
        bizStep: "",  // none: see above

        disposition: nil,
        fields: [
            required("gtin", .gtin), required("name", .text(1...200)), optional("model", .text(1...100)),
            optional("image", .image), optional("massGrams", .grams), optional("materials", .materials),
        ]
    )

    private static let byType: [EventType: Entry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.type, $0) })

    /// The catalogue entry of an event type; `nil` for `roster`, which is not an event.
    public static func entry(for type: EventType) -> Entry? { byType[type] }

    // MARK: Validation

    /// Checks a statement's details against its catalogue entry: every required member present,
    /// every member known and of its kind, plus the constraints between members of one statement.
    ///
    /// - Throws: ``RuleViolation/Code/invalidDetails`` (rule `L13 details`) naming the field, or
    ///   ``RuleViolation/Code/notAnEvent`` for a roster statement.
    public static func validate(_ statement: Statement) throws(RuleViolation) {
        guard let entry = statement.type == .productClass ? productClass : entry(for: statement.type) else {
            throw RuleViolation(
                .notAnEvent,
                rule: Rule.details,
                "\(statement.type) statements carry a roster, not event details"
            )
        }
        do {
            var reader = StrictReader(object: statement.details, path: DetailField.detailsPath)
            for field in entry.fields {
                if field.isRequired {
                    try field.check(reader.required(field.name), path: field.statementPath)
                } else if let value = reader.optional(field.name) {
                    try field.check(value, path: field.statementPath)
                }
            }
            try reader.finish()
            try crossChecks(statement)
        } catch {
            throw RuleViolation(.invalidDetails, rule: Rule.details, error.description)
        }
    }

    private static func crossChecks(_ statement: Statement) throws(FieldProblem) {
        let details = statement.details
        let path = "statement.details"
        switch statement.type {
        case .commission, .productClass:
            if case .integer(let mass)? = details["massGrams"], case .object(let materials)? = details["materials"] {
                let total = materials.values.reduce(Int64(0)) { $0 + ($1.integerValue ?? 0) }
                guard total <= mass else {
                    throw FieldProblem(
                        path: "\(path).materials",
                        reason: "the materials add up to \(total) g, more than massGrams \(mass) g"
                    )
                }
            }
        case .sell, .resell:
            if case .string(let text)? = details["returnBy"], let returnBy = try? Timestamp(parsing: text),
                returnBy < statement.time
            {
                throw FieldProblem(path: "\(path).returnBy", reason: "the return window ends before the sale")
            }
            if (details["price"] == nil) != (details["currency"] == nil) {
                throw FieldProblem(
                    path: "\(path).\(details["price"] == nil ? "price" : "currency")",
                    reason: "price and currency go together: a price is minor units of a currency"
                )
            }
        case .leaseOut:
            if case .string(let text)? = details["until"], let until = try? Timestamp(parsing: text),
                until <= statement.time
            {
                throw FieldProblem(path: "\(path).until", reason: "the lease ends before it starts")
            }
        case .warrantyResolve:
            let isReplace = details["resolution"] == .string("replace")
            if isReplace, details["replacement"] == nil {
                throw FieldProblem(path: "\(path).replacement", reason: "a replacement names the replacing product")
            }
            if !isReplace, details["replacement"] != nil {
                throw FieldProblem(path: "\(path).replacement", reason: "only a replace resolution names a replacement")
            }
        case .excessDisposition:
            if details["consignee"] != nil, details["action"] != .string("redistribute") {
                throw FieldProblem(path: "\(path).consignee", reason: "only a redistribution names a consignee")
            }
        default:
            break
        }
    }

    /// The CBV business step and disposition of one statement.
    ///
    /// Mostly the catalogue entry's; a few types refine the disposition from their details (an
    /// inspection graded defective is `non_conformant`, a parcel damaged in transit is `damaged`).
    public static func cbv(for statement: Statement) -> (bizStep: String, disposition: String?)? {
        guard let entry = entry(for: statement.type) else { return nil }
        let details = statement.details
        func step(_ name: String) -> String { bizStepPrefix + name }
        func disposition(_ name: String) -> String { dispositionPrefix + name }
        switch statement.type {
        case .inspect:
            if let grade = details["grade"]?.stringValue, grade == "defective" || grade == "beyond-repair" {
                return (entry.bizStep, disposition("non_conformant"))
            }
        case .deliveryFailed:
            if details["reason"] == .string("damaged-in-transit") { return (entry.bizStep, disposition("damaged")) }
        case .warrantyResolve:
            switch details["resolution"]?.stringValue {
            case "replace": return (step("replacing"), disposition("returned"))
            case "refund": return (step("other"), disposition("returned"))
            case "rejected": return (step("other"), nil)
            default: break
            }
        case .excessDisposition:
            if details["action"] != .string("redistribute") {
                return (entry.bizStep, disposition("non_sellable_other"))
            }
        case .recallRemedy:
            if details["action"] == .string("not-affected") { return (step("inspecting"), disposition("conformant")) }
        default:
            break
        }
        return (entry.bizStep, entry.disposition)
    }
}

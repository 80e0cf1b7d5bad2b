/// Gathers validated AI values from any form and turns them into a ``ProductScan``.
///
/// Shared by all parsers so that duplicates, missing GTIN and missing serial are judged the same way everywhere.
/// An AI may repeat only with the identical value (GS1 General Specifications 4.14 forbids conflicting repeats).
struct ElementCollector {
    private struct Seen: Sendable {
        let text: String
        let position: Int
    }

    private let referenceYear: Int
    private var seen: [String: Seen] = [:]
    private var gtin: GTIN?
    private var serial: Serial?
    private var lot: String?
    private var variant: String?
    private var expiry: GS1Date?
    private var productionDate: GS1Date?
    private var bestBefore: GS1Date?
    private var other: [String: String] = [:]

    init(referenceYear: Int) {
        self.referenceYear = referenceYear
    }

    /// Validates `value` for `ai` and records it; `position` is where the AI itself starts (for duplicate errors).
    mutating func add(_ ai: ApplicationIdentifier, value: SourceText, position: Int) throws(IdentityError) {
        let element = try ai.validate(value, referenceYear: referenceYear)
        try record(ai, element, position: position)
    }

    /// Records an already validated value (a Digital Link GTIN, which may be 8, 12, 13 or 14 digits long).
    mutating func record(_ ai: ApplicationIdentifier, _ element: ElementValue, position: Int) throws(IdentityError) {
        if let earlier = seen[ai.code] {
            guard earlier.text == element.text else {
                throw IdentityError(
                    .duplicateAI,
                    "\(ai.label) appears twice with different values: '\(earlier.text)' at position "
                        + "\(earlier.position) and '\(element.text)' at position \(position)",
                    position: position
                )
            }
            return
        }
        seen[ai.code] = Seen(text: element.text, position: position)
        switch (ai.role, element) {
        case (.gtin, .gtin(let value)): gtin = value
        case (.serial, .serial(let value)): serial = value
        case (.lot, .text(let value)): lot = value
        case (.variant, .text(let value)): variant = value
        case (.expiry, .date(let date, _)): expiry = date
        case (.productionDate, .date(let date, _)): productionDate = date
        case (.bestBefore, .date(let date, _)): bestBefore = date
        default: other[ai.code] = element.text
        }
    }

    func build(form: ProductScan.Form, symbologyIdentifier: String?) throws(IdentityError) -> ProductScan {
        guard let gtin else {
            throw IdentityError(.missingGTIN, "no GTIN (AI 01) found; a product identity needs a GTIN and a serial")
        }
        guard let serial else {
            throw IdentityError(
                .missingSerial,
                "missing serial: GTIN \(gtin.digits) has no serial (AI 21), so it names a product "
                    + "class, not one item"
            )
        }
        return ProductScan(
            sgtin: SGTIN(gtin: gtin, serial: serial),
            lot: lot,
            expiry: expiry,
            productionDate: productionDate,
            bestBefore: bestBefore,
            consumerProductVariant: variant,
            otherElements: other,
            form: form,
            symbologyIdentifier: symbologyIdentifier
        )
    }
}

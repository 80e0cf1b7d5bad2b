import Mustache
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceRules
import RetraceVerification

/// The page a certified pre-owned buyer lands on when they scan the QR code on an item.
///
/// It answers one question at a glance (can I trust this item's story?) and then shows the story.
/// Built only from verified evidence, so the page cannot say more than the signatures support;
/// personal data never appears because the ledger holds none (orders and customers are salted
/// digests) and the page shows no digests either.
public struct ProductPage: Sendable {
    /// How the page opens: green only when the history verified and nothing flags the item.
    public enum Status: String, Sendable {
        case verified, warning, danger
    }

    private let library: MustacheLibrary

    public init() {
        var templates: [String: MustacheTemplate] = [:]
        // The templates are constants of this module; a parse failure is a build mistake a test catches.
        for (name, text) in [
            ("layout", PageTemplates.layout), ("product", PageTemplates.product), ("notice", PageTemplates.notice),
        ] {
            if let template = try? MustacheTemplate(string: text) { templates[name] = template }
        }
        library = MustacheLibrary(templates: templates)
    }

    /// The status a verified product's page opens with, and why.
    public static func status(of verified: VerifiedProduct) -> (Status, headline: String, lines: [String]) {
        let state = verified.state
        let brand = partyName(state.brandOwner, in: verified)
        if state.phase == .recycled || state.phase == .disposed {
            let when = Self.date(state.lastEventTime)
            let what = state.phase == .recycled ? "recycled" : "destroyed"
            return (
                .danger, "Warning: this item was \(what)",
                [
                    "The ledger records that the item with this serial number was \(what) on \(when). It should no "
                        + "longer exist.",
                    "If you are holding it, it may be a counterfeit carrying a copied serial number. Do not buy it; "
                        + "contact \(brand).",
                ]
            )
        }
        if let missing = state.missing {
            return (
                .danger, "Warning: reported \(missing.kind)",
                [
                    "This item was reported \(missing.kind) on \(Self.date(missing.time)). Do not buy it; contact "
                        + "\(brand) or the police."
                ]
            )
        }
        if let recall = state.recall {
            return (
                .warning, "Open safety recall",
                [
                    "Recall notice \(recall.notice): \(recall.reason).",
                    "Remedy: \(recall.remedy). Do not use the item until the remedy has been applied.",
                ]
            )
        }
        var lines = [
            "Each of the \(verified.events.count) steps below was signed by the business that performed it and "
                + "checked against the ledger's signed checkpoint just now."
        ]
        if state.certifiedRefurbished {
            var line = "Certified refurbished"
            if let grade = state.grade { line += ", grade \(grade)" }
            if let months = state.refurbishedWarrantyMonths { line += ", with a \(months)-month warranty" }
            lines.append(line + ".")
        }
        return (.verified, "Genuine, with a verified history", lines)
    }

    /// The HTML page of a product whose evidence verified.
    /// - Parameter witnessed: who cosigned the log's checkpoint and when ("witnessed 2026-12-01T10:00Z
    ///   by 2 of 3 (checkpoint 261)"), when the log gathers cosignatures (spec/witness.md §6).
    public func render(_ verified: VerifiedProduct, bundleURL: String, witnessed: String? = nil) -> String {
        let history = ProductHistory(verified)
        let (status, headline, lines) = Self.status(of: verified)
        let state = verified.state
        let events: [[String: Any]] = zip(history.events, verified.events).enumerated().map { position, pair in
            let (line, event) = pair
            let previous = position > 0 ? verified.events[position - 1].statement.type : nil
            let facts = Self.facts(event.statement, party: event.party)
            var item: [String: Any] = [
                "headline": Self.headline(event.statement, action: line.action, after: previous),
                "time": line.time, "date": Self.date(event.statement.time),
                "party": line.party.name, "role": Self.roleName(line.party.role),
                "facts": facts, "hasFacts": !facts.isEmpty,
                "flag": [.recall, .reportStolen, .reportLost, .recycle, .dispose].contains(event.statement.type),
            ]
            // Absent keys, never nil values: Mustache would print an optional's description.
            if let place = line.location { item["place"] = place }
            return item
        }
        var context: [String: Any] = [
            "title": "\(history.gtin) / \(history.serial)",
            "status": ["kind": status.rawValue, "badge": Self.badge(status), "headline": headline, "lines": lines],
            "gtin": history.gtin, "serial": history.serial, "brand": Self.partyName(state.brandOwner, in: verified),
            "phase": Self.phaseText(state.phase),
            "events": events, "bundleURL": bundleURL,
            "bundleFile": "retrace-bundle-\(history.gtin)-\(history.serial).json",
            "checkpoint": [
                "size": String(history.checkpoint.size), "origin": history.checkpoint.origin,
                "root": String(history.checkpoint.rootHash.prefix(16)) + "…",
            ],
        ]
        if let productClass = verified.productClass {
            // The brand owner's signed name and model are the page's title; the GTIN, a secondary
            // line that never wraps mid-number.
            context["title"] = "\(history.title) / \(history.serial)"
            context["productClass"] = [
                "title": history.title, "brand": productClass.party.name,
            ]
        }
        if let grade = state.grade { context["grade"] = grade }
        if let months = state.refurbishedWarrantyMonths,
            let refurbished = verified.events.last(where: { $0.statement.type == .refurbish })
        {
            context["warranty"] =
                months == 0
                ? "none"
                : "\(months) months from refurbishment, until \(Self.date(refurbished.statement.time, plusMonths: Int(months)))"
        }
        if let witnessed { context["witnessed"] = witnessed }
        return page(template: "product", context: context)
    }

    /// A page for a product the ledger has no record of (404), or whose evidence did not verify.
    public func renderNotice(
        status: Status,
        headline: String,
        lines: [String],
        product: SGTIN?
    ) -> String {
        var context: [String: Any] = [
            "title": headline, "kind": status.rawValue, "badge": Self.badge(status), "headline": headline,
            "lines": lines,
        ]
        if let product { context["identity"] = ["gtin": product.gtin.digits, "serial": product.serial.value] }
        return page(template: "notice", context: context)
    }

    private func page(template: String, context: [String: Any]) -> String {
        guard let content = library.getTemplate(named: template) else { return "" }
        var library = self.library
        library.register(content, named: "content")
        return library.render(context, withTemplate: "layout") ?? ""
    }

    // MARK: Wording

    static func badge(_ status: Status) -> String {
        switch status {
        case .verified: return "✓ Verified"
        case .warning: return "! Warning"
        case .danger: return "✗ Do not trust"
        }
    }

    /// The step's title in a buyer's words: what the signed details say, not only the event type.
    static func headline(_ statement: Statement, action: String, after previous: EventType?) -> String {
        switch statement.type {
        case .returnReceive where previous == .tradeIn:
            // The trade-in, not a customer's return: the item reached the business that took it in.
            return "Received after the trade-in"
        case .resell where statement.details["certifiedPreOwned"]?.boolValue == true:
            return "Resold as certified pre-owned"
        case .refurbish:
            return statement.details["certified"]?.boolValue == true
                ? "Certified refurbished" : "Refurbished (not certified)"
        default:
            return capitalised(action)
        }
    }

    /// Facts a buyer cares about, in words; digests and internal references are left out on purpose.
    static func facts(_ statement: Statement, party: Party) -> [String] {
        switch statement.type {
        case .refurbish:
            return refurbishFacts(statement, party: party)
        case .resell:
            let certified = statement.details["certifiedPreOwned"]?.boolValue == true
            return [certified ? "Sold as certified pre-owned" : "Sold as pre-owned, not certified"]
        default:
            return genericFacts(statement)
        }
    }

    /// What the refurbisher signed: certified or not and under which accreditation, the tests run,
    /// the parts replaced, the work done and the warranty with its end date.
    static func refurbishFacts(_ statement: Statement, party: Party) -> [String] {
        let details = statement.details
        var facts: [String] = []
        if details["certified"]?.boolValue == true {
            if let accreditation = party.refurbishingAccreditation(at: statement.time) {
                facts.append("Certified under \(accreditation.scheme.name), certificate \(accreditation.certificate)")
            } else {
                facts.append("Certified")
            }
        } else {
            facts.append("Not certified: the refurbisher did not claim an accredited refurbishment")
        }
        let work = (details["work"]?.arrayValue ?? []).compactMap(\.stringValue).map(words)
        if !work.isEmpty { facts.append("Work done: " + work.joined(separator: ", ")) }
        let parts = (details["parts"]?.arrayValue ?? []).compactMap { $0["part"]?.stringValue }.map(words)
        if !parts.isEmpty { facts.append("Parts replaced: " + parts.joined(separator: ", ")) }
        let tests = (details["tests"]?.arrayValue ?? []).compactMap(\.stringValue).map(words)
        if !tests.isEmpty { facts.append("Tests passed: " + tests.joined(separator: ", ")) }
        if let months = details["warrantyMonths"]?.integerValue {
            facts.append(
                months == 0
                    ? "No warranty"
                    : "Warranty: \(months) months, until \(date(statement.time, plusMonths: Int(months)))"
            )
        }
        return facts
    }

    static func genericFacts(_ statement: Statement) -> [String] {
        let labels: [(String, String)] = [
            ("grade", "Condition grade"), ("reason", "Reason"), ("condition", "Condition"),
            ("warrantyMonths", "Warranty (months)"), ("notice", "Recall notice"), ("remedy", "Remedy"),
            ("resolution", "Resolution"), ("certificate", "Certificate"), ("method", "Method"),
            ("work", "Work done"), ("scheme", "Scheme"),
        ]
        var facts: [String] = []
        for (key, label) in labels {
            guard let value = statement.details[key] else { continue }
            switch value {
            case .string(let text): facts.append("\(label): \(words(text))")
            case .integer(let number): facts.append("\(label): \(number)")
            case .bool(let flag): facts.append("\(label): \(flag ? "yes" : "no")")
            case .array(let items):
                facts.append("\(label): " + items.compactMap(\.stringValue).map(words).joined(separator: ", "))
            default: continue
            }
        }
        return facts
    }

    static func phaseText(_ phase: Phase) -> String {
        let words: [Phase: String] = [
            .commissioned: "Made and registered by its brand", .inTransit: "In transit", .inStock: "In a shop's stock",
            .sold: "Sold", .outForDelivery: "Out for delivery", .delivered: "Delivered to a customer",
            .deliveryFailed: "Delivery failed", .returnAuthorized: "Return authorised", .returned: "Returned",
            .inspected: "Inspected and graded", .repaired: "Repaired", .warrantyClaimed: "Under a warranty claim",
            .warrantyRepaired: "Repaired under warranty", .refurbished: "Refurbished",
            .tradedIn: "Traded in", .leased: "Leased", .liquidated: "Sold off as excess stock", .donated: "Donated",
            .recycled: "Recycled", .disposed: "Destroyed",
        ]
        return words[phase] ?? phase.name
    }

    /// A catalogue code in words (`battery-replaced` → `battery replaced`); references such as
    /// `COR-2026-0611`, which are not lowercase codes, are kept exactly as signed.
    static func words(_ code: String) -> String {
        let isCode =
            !code.isEmpty
            && code.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        return isCode ? code.replacingOccurrences(of: "-", with: " ") : code
    }

    static func roleName(_ role: String) -> String {
        role.replacingOccurrences(of: "-", with: " ")
    }

    static func partyName(_ id: String, in verified: VerifiedProduct) -> String {
        verified.events.first { $0.party.id == id }?.party.name ?? id
    }

    static func capitalised(_ text: String) -> String {
        text.prefix(1).uppercased() + text.dropFirst()
    }

    /// `2026-03-14` from a statement time: the day is what a buyer needs, and it avoids time zones.
    static func date(_ time: Timestamp) -> String {
        String(time.description.prefix(10))
    }

    /// The day `months` calendar months after `time` (the last day of the month when it is
    /// shorter): when a warranty given at `time` ends.
    static func date(_ time: Timestamp, plusMonths months: Int) -> String {
        let parts = date(time).split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3 else { return date(time) }
        let total = parts[0] * 12 + (parts[1] - 1) + months
        let year = total / 12
        let month = total % 12 + 1
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let day = min(parts[2], lengths[month - 1])
        func padded(_ number: Int, _ width: Int) -> String {
            let digits = String(number)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
    }
}

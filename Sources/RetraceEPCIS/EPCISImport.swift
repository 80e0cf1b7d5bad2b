import CanonicalJSON
import Foundation
import RetraceEvents
import RetraceIdentity
import RetraceRules

/// One EPCIS event read as the content of a Retrace statement, not yet signed nor chained.
public struct ImportedEvent: Sendable {
    /// Position in the document's `eventList` (0-based) and its `eventID`, to name it in errors.
    public let position: Int
    public let eventID: String?
    public let type: EventType
    /// One product, or the members of a batch statement.
    public let products: [SGTIN]
    /// The identities exactly as the event wrote them, parallel to `products`.
    public let epcs: [String]
    public let time: Timestamp
    public let location: String?
    public let details: JSONObject

    /// "event 3 (ni:///…)": how refusals name it.
    public var name: String { EPCISImport.name(position, eventID) }
}

/// EPCIS 2.0 events from another system (a WMS, a carrier) read as Retrace statement contents
/// (spec/epcis.md §3). Only what maps without guessing is taken; every other event is refused
/// with its position, its eventID and the reason, and then the whole document is refused.
public enum EPCISImport {
    /// Reads an `EPCISDocument` or `EPCISQueryDocument` and maps every event.
    ///
    /// - Throws: ``EPCISError`` listing every event that does not map (or why the document is unreadable).
    public static func events(from data: Data) throws(EPCISError) -> [ImportedEvent] {
        let document: [String: LooseJSON]
        do {
            guard let object = try JSONDecoder().decode(LooseJSON.self, from: data).object else {
                throw EPCISError("the document is not a JSON object")
            }
            document = object
        } catch let error as EPCISError {
            throw error
        } catch {
            throw EPCISError("the file is not JSON: \(error)")
        }
        let list: LooseJSON?
        switch document["type"]?.string {
        case "EPCISDocument":
            list = document["epcisBody"]?["eventList"]
        case "EPCISQueryDocument":
            list = document["epcisBody"]?["queryResults"]?["resultsBody"]?["eventList"]
        default:
            throw EPCISError(
                "the document's type is \(document["type"]?.text ?? "missing"); expected EPCISDocument or EPCISQueryDocument"
            )
        }
        guard let events = list?.array else { throw EPCISError("the document has no epcisBody.eventList array") }
        var mapped: [ImportedEvent] = []
        var refusals: [String] = []
        for (position, item) in events.enumerated() {
            let object = item.object ?? [:]
            do {
                mapped.append(try event(object, position: position))
            } catch {
                refusals.append("\(name(position, object["eventID"]?.string)): \(error.description)")
            }
        }
        guard refusals.isEmpty else {
            throw EPCISError(
                "\(refusals.count) of \(events.count) events do not map to Retrace statements; nothing was recorded:\n  "
                    + refusals.joined(separator: "\n  ")
            )
        }
        guard !mapped.isEmpty else { throw EPCISError("the document holds no events") }
        return mapped
    }

    static func name(_ position: Int, _ eventID: String?) -> String {
        "event \(position)" + (eventID.map { " (\($0))" } ?? "")
    }

    /// The Retrace type a CBV step and disposition mean when the event does not say
    /// (`retrace:eventType`): the first reading of spec/epcis.md §3.1's table.
    static let defaultTypes: [String: EventType] = [
        "commissioning active": .commission, "shipping in_transit": .ship,
        "receiving sellable_not_accessible": .receive, "retail_selling retail_sold": .sell,
        "accepting retail_sold": .deliver, "holding non_sellable_other": .deliveryFailed,
        "holding damaged": .deliveryFailed, "other -": .returnAuthorize, "receiving returned": .returnReceive,
        "inspecting conformant": .inspect, "inspecting non_conformant": .inspect,
        "stocking sellable_accessible": .restock, "repairing available": .repair, "repairing conformant": .refurbish,
        "holding unavailable": .warrantyClaim, "replacing returned": .warrantyResolve,
        "accepting returned": .tradeIn, "dispensing dispensed": .leaseOut, "holding recalled": .recall,
        "other stolen": .reportStolen, "other unknown": .reportLost, "disassembling destroyed": .recycle,
        "destroying destroyed": .dispose,
    ]

    /// Where Retrace business transactions go in `details` (`urn:retrace:bt:<kind>:<value>`).
    static let transactionMembers: [String: String] = [
        "order": "orderDigest", "rma": "rma", "shipment": "shipment", "claim": "claim", "recall": "notice",
        "lease": "leaseDigest", "certificate": "certificate",
    ]

    static func event(_ object: [String: LooseJSON], position: Int) throws(EPCISError) -> ImportedEvent {
        let eventID = object["eventID"]?.string
        guard let kind = object["type"]?.string else { throw EPCISError("the event has no type") }
        guard kind == "ObjectEvent" else {
            throw EPCISError(
                "a \(kind) does not map: Retrace records steps of serialised items, which EPCIS writes as ObjectEvents"
            )
        }
        if object["errorDeclaration"] != nil {
            throw EPCISError("an error declaration does not map: a Retrace statement, once logged, is never retracted")
        }
        guard let epcList = object["epcList"]?.array, !epcList.isEmpty else {
            throw EPCISError(
                "the event names no instances (epcList): class-level quantities (quantityList) have no Retrace product"
            )
        }
        var products: [SGTIN] = []
        var epcs: [String] = []
        for (offset, item) in epcList.enumerated() {
            guard let text = item.string else { throw EPCISError("epcList[\(offset)] is not a string") }
            do { products.append(try IdentityParser.parse(text).sgtin) } catch {
                throw EPCISError("epcList[\(offset)] \"\(text)\" is not an SGTIN (Digital Link or EPC URN): \(error)")
            }
            epcs.append(text)
        }
        guard Set(products).count == products.count else { throw EPCISError("epcList names a product twice") }
        guard let timeText = object["eventTime"]?.string else { throw EPCISError("the event has no eventTime") }
        let time = try parseTime(timeText)
        let bizStep = object["bizStep"]?.string.map(shortTerm)
        let disposition = object["disposition"]?.string.map(shortTerm)

        let type: EventType
        if let named = object[EPCISVocabulary.eventType] {
            guard let name = named.string, let known = try? EventType(name: name),
                EventType.productEvents.contains(known)
            else {
                throw EPCISError(
                    "\(EPCISVocabulary.eventType) \(named.text) is not a Retrace event type of a product (product-class "
                        + "is master data, not an EPCIS event)"
                )
            }
            type = known
        } else {
            let key = "\(bizStep ?? "-") \(disposition ?? "-")"
            guard let found = defaultTypes[key] else {
                throw EPCISError(
                    "bizStep \(bizStep ?? "(none)") with disposition \(disposition ?? "(none)") has no Retrace event "
                        + "type; name one in \(EPCISVocabulary.eventType)"
                )
            }
            type = found
        }
        guard products.count == 1 || EventType.batchable.contains(type) else {
            throw EPCISError(
                "\(products.count) products in one \(type) event: only \(EventType.batchable.map(\.name).sorted().joined(separator: ", ")) may cover many"
            )
        }

        var location: String?
        for member in ["readPoint", "bizLocation"] {
            guard let place = object[member] else { continue }
            guard let id = place["id"]?.string else {
                throw EPCISError("\(member) has no id")
            }
            let gln = try SGLNCodec.gln(from: id)
            if let location, location != gln {
                throw EPCISError(
                    "readPoint \(location) and bizLocation \(gln) differ: a Retrace statement has one location"
                )
            }
            location = gln
        }

        var details = JSONObject()
        if let given = object[EPCISVocabulary.details] {
            guard case .object(let parsed) = try given.retrace(path: EPCISVocabulary.details) else {
                throw EPCISError("\(EPCISVocabulary.details) is not an object")
            }
            details = parsed
        }
        for (offset, item) in (object["bizTransactionList"]?.array ?? []).enumerated() {
            guard let uri = item["bizTransaction"]?.string else {
                throw EPCISError("bizTransactionList[\(offset)] has no bizTransaction")
            }
            guard uri.hasPrefix(EPCISVocabulary.transactionPrefix) else { continue }
            let rest = uri.dropFirst(EPCISVocabulary.transactionPrefix.count)
            guard let colon = rest.firstIndex(of: ":"), let member = transactionMembers[String(rest[..<colon])] else {
                throw EPCISError(
                    "bizTransaction \(uri) is of no Retrace kind (\(transactionMembers.keys.sorted().joined(separator: ", ")))"
                )
            }
            let value = JSONValue.string(String(rest[rest.index(after: colon)...]))
            if let present = details[member], present != value {
                throw EPCISError("bizTransaction \(uri) contradicts \(EPCISVocabulary.details).\(member) \(present)")
            }
            details[member] = value
        }
        if type == .returnReceive, details["scanned"] == nil { details["scanned"] = .string(epcs[0]) }
        if type == .sell || type == .resell, details["orderDigest"] == nil {
            throw EPCISError(
                "a sale needs its order as a salted digest: a bizTransaction \(EPCISVocabulary.transactionPrefix)order:<64 hex> "
                    + "(Retrace never records order numbers)"
            )
        }

        // The CBV terms the event states must be the ones its Retrace statement would be exported with.
        let probe: Statement
        let isBatch = products.count > 1
        do {
            probe = try Statement(
                type: type,
                product: isBatch ? nil : products[0],
                previous: type == .commission || isBatch ? nil : Digest.of([]),
                batch: isBatch ? BatchCommitment(count: Int64(products.count), root: Digest.of([])) : nil,
                signer: Digest.of([]),
                time: time,
                location: location,
                details: details
            )
        } catch {
            throw EPCISError("the statement cannot be formed: \(error.description)")
        }
        do { try Catalogue.validate(probe) } catch {
            throw EPCISError("\(type) details do not fit the catalogue: \(error.reason)")
        }
        if let cbv = Catalogue.cbv(for: probe) {
            let expectedStep = EPCISVocabulary.term(cbv.bizStep)
            let expectedDisposition = cbv.disposition.map(EPCISVocabulary.term)
            guard bizStep == expectedStep, disposition == expectedDisposition else {
                throw EPCISError(
                    "bizStep \(bizStep ?? "(none)")/disposition \(disposition ?? "(none)") is not what a Retrace "
                        + "\(type) states (\(expectedStep)/\(expectedDisposition ?? "(none)"))"
                )
            }
        }
        return ImportedEvent(
            position: position,
            eventID: eventID,
            type: type,
            products: products,
            epcs: epcs,
            time: time,
            location: location,
            details: details
        )
    }

    /// CBV terms may be written bare (`receiving`), as URNs or as `https://ref.gs1.org/cbv/BizStep-receiving` IRIs.
    public static func shortTerm(_ text: String) -> String {
        for prefix in [
            Catalogue.bizStepPrefix, Catalogue.dispositionPrefix, "https://ref.gs1.org/cbv/BizStep-",
            "https://ref.gs1.org/cbv/Disp-", "https://gs1.org/voc/BizStep-", "https://gs1.org/voc/Disp-",
        ] where text.hasPrefix(prefix) {
            return String(text.dropFirst(prefix.count))
        }
        return text
    }

    /// An EPCIS date-time with any offset and fraction, as a Retrace time (UTC, whole seconds).
    /// A fraction of a second is dropped: Retrace times have none (spec/format.md §1).
    public static func parseTime(_ text: String) throws(EPCISError) -> Timestamp {
        let characters = Array(text)
        guard characters.count >= 20, characters[10] == "T" else {
            throw EPCISError("eventTime \"\(text)\" is not an ISO 8601 date-time")
        }
        var rest = characters[19...]
        if rest.first == "." {
            rest = rest.dropFirst()
            let digits = rest.prefix(while: \.isNumber)
            guard !digits.isEmpty else { throw EPCISError("eventTime \"\(text)\" has an empty fraction") }
            rest = rest.dropFirst(digits.count)
        }
        var offset: Int64 = 0
        let zone = String(rest)
        if zone != "Z" {
            let parts = Array(zone)
            guard parts.count == 6, parts[0] == "+" || parts[0] == "-", parts[3] == ":",
                let hours = Int64(String(parts[1...2])), let minutes = Int64(String(parts[4...5])), hours <= 14,
                minutes < 60
            else { throw EPCISError("eventTime \"\(text)\" has no valid offset (Z or ±hh:mm)") }
            offset = (hours * 3600 + minutes * 60) * (parts[0] == "-" ? -1 : 1)
        }
        do {
            let local = try Timestamp(parsing: String(characters[0..<19]) + "Z", field: "eventTime")
            return Timestamp(secondsSinceEpoch: local.secondsSinceEpoch - offset)
        } catch {
            throw EPCISError("eventTime \"\(text)\": \(error.description)")
        }
    }
}

import CanonicalJSON
import RetraceEvents
import RetraceIdentity
import RetraceRules

/// Retrace statements as EPCIS 2.0 `ObjectEvent`s (spec/epcis.md §2).
///
/// One statement gives one event: a single-product statement lists its product, a batch lists
/// every member (an `ObjectEvent` may name many instances; `AggregationEvent` is for packing into
/// a container, which a Retrace batch is not). Standard fields carry what an EPCIS consumer
/// understands (CBV step and disposition, locations, business transactions); the `retrace:`
/// members carry what leads back to the signed evidence (statement id, signer, log index) and the
/// statement's own type and details, so that an import can rebuild the same statement.
public enum EPCISExport {
    /// The EPCIS event of one accepted statement.
    ///
    /// - Parameters:
    ///   - products: the products it covers, in member order for a batch.
    ///   - received: when the log accepted it (written as `recordTime`).
    public static func event(
        statement: Statement,
        products: [SGTIN],
        index: UInt64,
        received: Timestamp,
        sgln: SGLNCodec
    ) -> JSONObject {
        var event = JSONObject()
        event["type"] = .string("ObjectEvent")
        event["eventTime"] = .string(statement.time.description)
        event["eventTimeZoneOffset"] = .string("+00:00")
        event["recordTime"] = .string(received.description)
        event["eventID"] = .string(EPCISVocabulary.eventID(statement.id))
        event["epcList"] = .array(products.map { .string($0.digitalLink) })
        event["action"] = .string(action(statement.type))
        if let cbv = Catalogue.cbv(for: statement) {
            event["bizStep"] = .string(EPCISVocabulary.term(cbv.bizStep))
            if let disposition = cbv.disposition { event["disposition"] = .string(EPCISVocabulary.term(disposition)) }
        }
        if let location = statement.location {
            let urn = sgln.urn(gln: location)
            event["readPoint"] = .object(["id": .string(urn)])
            if keepsObjectsAtLocation(statement) { event["bizLocation"] = .object(["id": .string(urn)]) }
        }
        let transactions = businessTransactions(statement)
        if !transactions.isEmpty { event["bizTransactionList"] = .array(transactions) }
        event[EPCISVocabulary.statementID] = .string(statement.id.hex)
        event[EPCISVocabulary.signer] = .string(statement.signer.hex)
        event[EPCISVocabulary.logIndex] = .integer(Int64(index))
        event[EPCISVocabulary.eventType] = .string(statement.type.name)
        event[EPCISVocabulary.details] = .object(statement.details)
        return event
    }

    /// `ADD` when the object comes into existence (commissioning), `DELETE` when it ceases to
    /// (recycled, destroyed), `OBSERVE` otherwise — EPCIS 2.0 §7.4.2's meaning of the action.
    public static func action(_ type: EventType) -> String {
        switch type {
        case .commission: "ADD"
        case .recycle, .dispose: "DELETE"
        default: "OBSERVE"
        }
    }

    /// `bizLocation` is where the objects are after the event: the site, unless the event sends
    /// them away (in transit, to a customer) or ends them.
    static func keepsObjectsAtLocation(_ statement: Statement) -> Bool {
        switch statement.type {
        case .ship, .sell, .resell, .deliver, .leaseOut, .recycle, .dispose, .reportStolen, .reportLost: false
        case .excessDisposition: false
        case .warrantyResolve:
            statement.details["resolution"] != .string("repair")
                && statement.details["resolution"] != .string("rejected")
        default: true
        }
    }

    /// Orders, RMAs, shipments, claims, recall notices, leases and certificates, as
    /// `urn:retrace:bt:<kind>:<value>`; orders and leases appear only as the salted digests the
    /// statement holds, never as the business's own reference.
    static func businessTransactions(_ statement: Statement) -> [JSONValue] {
        let details = statement.details
        var list: [JSONValue] = []
        func add(_ member: String, kind: String, type: String?) {
            guard let value = details[member]?.stringValue else { return }
            var object: JSONObject = ["bizTransaction": .string(EPCISVocabulary.transactionPrefix + kind + ":" + value)]
            if let type { object["type"] = .string(type) }
            list.append(.object(object))
        }
        add("orderDigest", kind: "order", type: "po")
        add("rma", kind: "rma", type: "rma")
        add("shipment", kind: "shipment", type: "desadv")
        add("claim", kind: "claim", type: nil)
        add("notice", kind: "recall", type: nil)
        add("leaseDigest", kind: "lease", type: nil)
        add("certificate", kind: "certificate", type: "cert")
        return list
    }
}

/// Writes an `EPCISDocument` event by event, so that a ledger of any size streams through
/// constant memory.
public struct EPCISDocumentWriter {
    private let write: ([UInt8]) throws -> Void
    private var first = true
    public private(set) var events = 0

    /// Starts the document: header members and the opening of `eventList`.
    public init(created: Timestamp, write: @escaping ([UInt8]) throws -> Void) throws {
        self.write = write
        let context: JSONValue = .array([
            .string(EPCISVocabulary.gs1Context), .object([EPCISVocabulary.prefix: .string(EPCISVocabulary.namespace)]),
        ])
        let contextBytes = try CanonicalJSON.encode(context)
        try write(
            Array("{\"@context\":".utf8) + contextBytes
                + Array(",\"type\":\"EPCISDocument\",\"schemaVersion\":\"2.0\",\"creationDate\":\"\(created)\",".utf8)
                + Array("\"epcisBody\":{\"eventList\":[\n".utf8)
        )
    }

    public mutating func add(_ event: JSONObject) throws {
        var bytes: [UInt8] = first ? [] : Array(",\n".utf8)
        try CanonicalJSON.encode(.object(event), appendingTo: &bytes)
        try write(bytes)
        first = false
        events += 1
    }

    public func finish() throws {
        try write(Array("\n]}}\n".utf8))
    }
}

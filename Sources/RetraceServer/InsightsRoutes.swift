import CanonicalJSON
import Foundation
import Hummingbird
import RetraceCrypto
import RetraceEPCIS
import RetraceEvents
import RetraceIdentity
import RetraceInsights
import RetraceRules

/// Return insights (`/v1/insights`, the `/insights` page) and the read-only EPCIS 2.0 query
/// (`/epcis/events`), all derived from the events a full audit of the ledger accepts
/// (``AuditedView``), never from stored rows the audit has not vouched for.
struct InsightsRoutes: Sendable {
    let service: LedgerService
    static let defaultPerPage = 30
    static let maxPerPage = 1_000

    func register(on router: Router<BasicRequestContext>) {
        router.get("/v1/insights") { request, _ in
            let filter = try Self.filter(request)
            let (insights, size, root) = try await service.audited.insights(filter)
            let scans = try dockScans(filter, treeSize: size)
            return Responses.json(insights.json(treeSize: size, root: Hex.encode(root), scans: scans))
        }
        router.get("/insights") { request, _ in
            let filter = try Self.filter(request)
            let (insights, size, root) = try await service.audited.insights(filter)
            let scans = try dockScans(filter, treeSize: size)
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            return Responses.html(
                InsightsPage.render(insights.json(treeSize: size, root: Hex.encode(root), scans: scans), query: query)
            )
        }
        router.get("/epcis/events") { request, _ in
            try await events(request)
        }
    }

    /// The docks' journals counted under the roster in force at the ledger's end; `nil` when the
    /// service was given none.
    func dockScans(_ filter: InsightsFilter, treeSize: UInt64) throws(Problem) -> DockScans? {
        guard !service.scanJournals.isEmpty else { return nil }
        let trust: TrustState
        do { trust = try service.ledger.trustState() } catch { throw LedgerService.storageProblem(error) }
        var scans = DockScans(filter: filter)
        for path in service.scanJournals {
            guard let data = FileManager.default.contents(atPath: path) else {
                scans.unreadable(journal: path, reason: "no such file, or not readable")
                continue
            }
            let lines = [UInt8](data).split(separator: 0x0a, omittingEmptySubsequences: false).map(Array.init)
            scans.add(journal: path, lines: lines, trust: trust, treeSize: treeSize)
        }
        return scans
    }

    static func filter(_ request: Request) throws(Problem) -> InsightsFilter {
        let query = request.uri.queryParameters
        for (key, _) in query where !["from", "to", "brand", "retailer", "gtin"].contains(String(key)) {
            throw Problem.badRequest("unknown parameter \(key); insights take from, to, brand, retailer, gtin")
        }
        func value(_ name: String) -> String? { query[name[...]].map(String.init).flatMap { $0.isEmpty ? nil : $0 } }
        func time(_ name: String) throws(Problem) -> Timestamp? {
            guard let text = value(name) else { return nil }
            let full = text.count == 10 ? text + "T00:00:00Z" : text
            do { return try Timestamp(parsing: full, field: name) } catch {
                throw Problem.badRequest("\(name)=\(text) is not a date (YYYY-MM-DD) or time (YYYY-MM-DDTHH:MM:SSZ)")
            }
        }
        var gtin: String?
        if let text = value("gtin") {
            do { gtin = try GTIN(text).digits } catch {
                throw Problem.badRequest("gtin=\(text) is not a GTIN: \(error.reason)")
            }
        }
        return InsightsFilter(
            from: try time("from"),
            to: try time("to"),
            brand: value("brand"),
            retailer: value("retailer"),
            gtin: gtin
        )
    }

    /// The EPCIS 2.0 REST query subset: `MATCH_epc`, `EQ_bizStep` (values separated by `|`),
    /// `GE_eventTime`, `LT_eventTime`, `perPage` and `nextPageToken`; events in log order.
    private func events(_ request: Request) async throws -> Response {
        let query = request.uri.queryParameters
        let known: Set<String> = [
            "MATCH_epc", "EQ_bizStep", "GE_eventTime", "LT_eventTime", "perPage", "nextPageToken",
        ]
        for (key, _) in query where !known.contains(String(key)) {
            throw Problem(
                .badRequest,
                code: "query-parameter-not-supported",
                title: "Query parameter not supported",
                detail: "\(key) is not supported; this query takes \(known.sorted().joined(separator: ", "))"
            )
        }
        func values(_ name: String) -> [String]? {
            query[name[...]].map { $0.split(separator: "|").map(String.init) }
        }
        var products: [String]?
        if let epcs = values("MATCH_epc") {
            products = []
            for epc in epcs {
                do { products?.append(try IdentityParser.parse(epc).sgtin.digitalLink) } catch {
                    throw Problem.badRequest("MATCH_epc \(epc) is not an SGTIN: \(error.reason)")
                }
            }
        }
        let steps = values("EQ_bizStep").map { Set($0.map(EPCISImport.shortTerm)) }
        func time(_ name: String) throws(Problem) -> Int64? {
            guard let text = query[name[...]] else { return nil }
            do { return try EPCISImport.parseTime(String(text)).secondsSinceEpoch } catch {
                throw Problem.badRequest("\(name): \(error.description)")
            }
        }
        let from = try time("GE_eventTime")
        let to = try time("LT_eventTime")
        let perPage = try RequestReading.unsigned(request, "perPage").map(Int.init) ?? Self.defaultPerPage
        guard (1...Self.maxPerPage).contains(perPage) else {
            throw Problem.badRequest("perPage is 1 to \(Self.maxPerPage)")
        }
        var after: UInt64?
        if let token = query["nextPageToken"] {
            guard let index = UInt64(token) else {
                throw Problem.badRequest("nextPageToken \(token) is not a token this server gave")
            }
            after = index
        }
        let fold = try await service.audited.events()
        let index = fold.value
        let candidates: [Int] =
            if let products { Array(Set(products.flatMap { index.byProduct[$0] ?? [] })).sorted() } else {
                Array(index.rows.indices)
            }
        var selected: [EventIndex.Row] = []
        var next: UInt64?
        for position in candidates {
            let row = index.rows[position]
            if let after, row.index < after { continue }
            if let steps, !steps.contains(row.bizStep) { continue }
            if let from, row.time < from { continue }
            if let to, row.time >= to { continue }
            if selected.count == perPage {
                next = row.index
                break
            }
            selected.append(row)
        }
        let codec = index.codec
        let events: [JSONValue] = try service.ledger.store.read { reader in
            try selected.map { row -> JSONValue in
                guard let stored = try reader.entry(at: row.index) else {
                    throw Problem.notFound("entry \(row.index) is missing from the store")
                }
                let members = try BatchMember.parsing(stored.members)
                let entry = try LogEntry(parsing: stored.bytes, members: members)
                return .object(
                    EPCISExport.event(
                        statement: entry.statement,
                        products: entry.signed.products,
                        index: row.index,
                        received: entry.received,
                        sgln: codec
                    )
                )
            }
        }
        let now = Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
        let document: JSONValue = .object([
            "@context": .array([
                .string(EPCISVocabulary.gs1Context),
                .object([EPCISVocabulary.prefix: .string(EPCISVocabulary.namespace)]),
            ]),
            "type": "EPCISQueryDocument", "schemaVersion": "2.0", "creationDate": .string(now.description),
            "epcisBody": .object([
                "queryResults": .object([
                    "queryName": "SimpleEventQuery",
                    "resultsBody": .object(["eventList": .array(events)]),
                ])
            ]),
        ])
        var headers: HTTPFields = [:]
        if let next {
            var components = URLComponents()
            components.path = "/epcis/events"
            var items = query.filter { $0.key != "nextPageToken" }.map {
                URLQueryItem(name: String($0.key), value: String($0.value))
            }
            items.append(URLQueryItem(name: "nextPageToken", value: String(next)))
            components.queryItems = items
            headers[.init("Link")!] = "<\(components.string ?? "/epcis/events")>; rel=\"next\""
        }
        return Responses.json(document, headers: headers)
    }
}

import CanonicalJSON
import Hummingbird
import RetraceEvents
import RetraceIdentity
import RetraceVerification

/// The `/v1` JSON API: appends, dock verdicts, histories, bundles and recycling claims.
struct APIRoutes: Sendable {
    let service: LedgerService
    let configuration: ServerConfiguration

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/events") { request, _ in
            let statement = try Self.statement(
                try await body(request),
                what: "the body",
                limit: configuration.maxBodyBytes
            )
            return Responses.json(try await service.append([statement]), status: .created)
        }
        router.post("/v1/batches") { request, _ in
            let value = try await json(request)
            guard let items = value.arrayValue else {
                throw Problem.badRequest("a batch is a JSON array of signed statements, found \(value.kindName)")
            }
            guard !items.isEmpty else { throw Problem.badRequest("the batch is empty", code: "empty-batch") }
            guard items.count <= configuration.maxBatchStatements else {
                throw Problem(
                    .contentTooLarge,
                    code: "batch-too-large",
                    title: "The batch has too many statements",
                    detail: "\(items.count) statements; at most \(configuration.maxBatchStatements) per batch",
                    extensions: ["limit": .integer(Int64(configuration.maxBatchStatements))]
                )
            }
            var statements: [SignedStatement] = []
            for (position, item) in items.enumerated() {
                statements.append(try Self.statement(item, what: "statement \(position)", position: position))
            }
            return Responses.json(try await service.append(statements), status: .created)
        }
        router.post("/v1/verdicts") { request, _ in
            let dock = try Self.dockRequest(try await json(request))
            return Responses.json(try service.verdict(dock).json)
        }
        router.get("/v1/products/:gtin/:serial") { _, context in
            let product = try ProductPath.product(context.parameters)
            return Responses.json(ProductHistory(try service.verifiedProduct(product)).json)
        }
        router.get("/v1/products/:gtin/:serial/bundle") { _, context in
            let product = try ProductPath.product(context.parameters)
            let name = "retrace-bundle-\(product.gtin.digits)-\(ProductPath.fileSafe(product.serial.value)).json"
            return Responses.bytes(
                try service.bundle(product),
                contentType: "application/json",
                headers: [.contentDisposition: "attachment; filename=\"\(name)\""]
            )
        }
        router.get("/v1/products/:gtin/:serial/evidence") { _, context in
            let product = try ProductPath.product(context.parameters)
            return Responses.json(try service.dockEvidence(product).json)
        }
        router.get("/v1/products/:gtin/:serial/recycling") { _, context in
            let product = try ProductPath.product(context.parameters)
            return Responses.json(try service.recycling(product).json)
        }
        router.get("/v1/recycling/certificates/:certificate") { _, context in
            guard let raw = context.parameters.get("certificate"),
                let certificate = raw.removingPercentEncoding, !certificate.isEmpty
            else { throw Problem.badRequest("the certificate number is missing or badly percent-encoded") }
            return Responses.json(
                .object(["proofs": .array(try service.recycling(certificate: certificate).map(\.json))])
            )
        }
        router.get("/v1/recycling/certificates/:certificate/evidence") { _, context in
            guard let raw = context.parameters.get("certificate"),
                let certificate = raw.removingPercentEncoding, !certificate.isEmpty
            else { throw Problem.badRequest("the certificate number is missing or badly percent-encoded") }
            let found = try service.certificateEvidence(certificate)
            return Responses.json(
                .object([
                    "bundles": .array(found.bundles.map(\.json)),
                    "products": .array(found.products.map { .string($0) }),
                ])
            )
        }
        router.post("/v1/recycling/verify") { request, _ in
            let object = try RequestReading.object(
                try await json(request),
                allowed: ["scan", "bundle"],
                what: "the recycling claim"
            )
            guard let scan = try RequestReading.string(object, "scan", what: "claim") else {
                throw Problem.badRequest("the claim needs \"scan\": the product's identity")
            }
            guard let bundle = object["bundle"], bundle.objectValue != nil else {
                throw Problem.badRequest("the claim needs \"bundle\": the product's proof bundle (a JSON object)")
            }
            let bytes: [UInt8]
            // Re-encoded canonically and given the file's final line feed: the client may send any spelling.
            do { bytes = try CanonicalJSON.encode(bundle) + [0x0A] } catch {
                throw Problem.badRequest("the bundle cannot be put in canonical form: \(error)")
            }
            return Responses.json(try service.recycling(scan: scan, bundle: bytes).json)
        }
    }

    private func body(_ request: Request) async throws(Problem) -> [UInt8] {
        try await RequestReading.body(request, limit: configuration.maxBodyBytes, timeout: configuration.bodyTimeout)
    }

    private func json(_ request: Request) async throws(Problem) -> JSONValue {
        try RequestReading.json(try await body(request), limit: configuration.maxBodyBytes)
    }

    /// A statement in canonical form (what Retrace's clients send) is read once, keeping the
    /// statement's bytes for its signature check and its entry; any other JSON spelling is read
    /// leniently and the statement written again in canonical form. Canonical JSON is a subset of
    /// what the lenient reader accepts, with the same values, so both paths judge alike.
    static func statement(_ bytes: [UInt8], what: String, limit: Int) throws(Problem) -> SignedStatement {
        if let signed = try? SignedStatement(parsing: bytes) { return signed }
        return try statement(try RequestReading.json(bytes, limit: limit), what: what)
    }

    static func statement(_ value: JSONValue, what: String, position: Int? = nil) throws(Problem) -> SignedStatement {
        do { return try SignedStatement(json: value) } catch {
            var extensions: [String: JSONValue] = [:]
            if let position { extensions["statementIndex"] = .integer(Int64(position)) }
            throw Problem(
                .badRequest,
                code: "malformed-statement",
                title: "The statement is malformed",
                detail: "\(what) is not a signed Retrace v1 statement: \(error.description); nothing was appended",
                extensions: extensions
            )
        }
    }

    static let dockFields: Set<String> = ["scan", "rma", "orderDigest", "dock", "servesRetailers", "now"]

    static func dockRequest(_ value: JSONValue) throws(Problem) -> DockRequest {
        let object = try RequestReading.object(value, allowed: dockFields, what: "the dock request")
        guard let scan = try RequestReading.string(object, "scan", what: "request") else {
            throw Problem.badRequest("the dock request needs \"scan\": the scanned text, in any identity form")
        }
        var orderDigest: Digest?
        if let hex = try RequestReading.string(object, "orderDigest", what: "request") {
            do { orderDigest = try Digest(hex: hex, field: "orderDigest") } catch {
                throw Problem.badRequest("orderDigest must be 64 lowercase hex digits: \(error.description)")
            }
        }
        var now: Timestamp?
        if let text = try RequestReading.string(object, "now", what: "request") {
            do { now = try Timestamp(parsing: text, field: "now") } catch {
                throw Problem.badRequest("now must be a UTC time like 2026-11-27T10:00:00Z: \(error.description)")
            }
        }
        var serves: Set<String>?
        if let list = object["servesRetailers"], !list.isNull {
            guard let items = list.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                throw Problem.badRequest("servesRetailers must be an array of party ids")
            }
            serves = Set(items.compactMap(\.stringValue))
        }
        return DockRequest(
            scan: scan,
            rma: try RequestReading.string(object, "rma", what: "request"),
            orderDigest: orderDigest,
            dock: try RequestReading.string(object, "dock", what: "request"),
            servesRetailers: serves,
            now: now
        )
    }
}

/// Products named in a path: `/…/{gtin}/{serial}` read exactly as the Digital Link `/01/{gtin}/21/{serial}`.
enum ProductPath {
    static func product(_ parameters: Parameters) throws(Problem) -> SGTIN {
        guard let gtin = parameters.get("gtin"), let serial = parameters.get("serial") else {
            throw Problem.badRequest("the path must name a GTIN and a serial")
        }
        return try product(gtin: gtin, serial: serial)
    }

    /// The raw (still percent-encoded) path segments, parsed by the same Digital Link parser a
    /// scanner's URL goes through, so `/` or `%` in a serial mean the same here as on the item.
    static func product(gtin: String, serial: String) throws(Problem) -> SGTIN {
        do { return try IdentityParser.parse("https://id.gs1.org/01/\(gtin)/21/\(serial)").sgtin } catch {
            throw Problem(
                .badRequest,
                code: "invalid-scan",
                title: "Not a product identity",
                detail: "/01/\(gtin)/21/\(serial) is not a GTIN and serial: \(error)"
            )
        }
    }

    /// The canonical page path of a product: its Digital Link without the resolver's host.
    static func canonicalPath(_ product: SGTIN) -> String {
        String(product.digitalLink.dropFirst("https://id.gs1.org".count))
    }

    static func fileSafe(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    }
}

import CanonicalJSON
import Dispatch
import Foundation
import Logging
import LoopbackHTTP
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceServer
import RetraceSimulation
import RetraceStorage
import RetraceVerification
import Testing

/// The demo ledger behind a real server on a free loopback port, shared by the suite.
///
/// Tests that append use serials of their own, so they can run in parallel against one server;
/// every request goes over a real socket, exactly as a dock's or a browser's would.
final class ServerFixture: Sendable {
    static let shared = Task { try await ServerFixture(maxBodyBytes: 64 * 1024) }

    let directory: URL
    let path: String
    let ledger: Ledger
    let script: DemoScript
    let parties: TestParties
    let server: RunningServer
    let metrics: ServiceMetrics
    let service: LedgerService
    var port: Int { server.port }

    /// After the demo story, so statements signed "now" follow it; fixed, so tests are repeatable.
    static let now = DemoStory.start.adding(seconds: 140 * 86_400)

    init(maxBodyBytes: Int) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("ledger.sqlite").path
        parties = try TestParties()
        let clock: @Sendable () -> Timestamp = { ServerFixture.now }
        ledger = try Ledger.create(
            store: try SQLiteLedgerStore.create(path: path),
            origin: TestParties.origin,
            logSigner: parties.log,
            governance: [parties.governance.verifier],
            roster: parties.signedRoster(time: DemoStory.start),
            clock: clock
        )
        script = try DemoStory.play(on: ledger, parties: parties, progress: nil)
        let anchors = TrustAnchors(
            governance: [parties.governance.verifier],
            logKey: parties.log.verifier,
            origin: TestParties.origin
        )
        metrics = ServiceMetrics()
        var logger = Logger(label: "retrace.test.server")
        logger.logLevel = .error
        service = LedgerService(
            ledger: ledger,
            verifier: Verifier(store: ledger.store, anchors: anchors, clock: clock),
            canAppend: true,
            metrics: metrics,
            logger: logger
        )
        let service = self.service
        server = try await RunningServer.start(
            RetraceServer(
                service: service,
                configuration: ServerConfiguration(
                    host: "127.0.0.1",
                    port: 0,
                    maxBodyBytes: maxBodyBytes,
                    maxBatchStatements: 50,
                    bodyTimeout: .seconds(2)
                ),
                logger: logger
            )
        )
    }

    // MARK: Requests (off Swift's cooperative pool: the sockets block)

    func request(
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil
    ) async throws -> LoopbackResponse {
        let port = self.port
        return try await Self.offPool {
            try loopbackRequest(port: port, method, path, headers: headers, body: body)
        }
    }

    func get(_ path: String, accept: String? = nil) async throws -> LoopbackResponse {
        try await request("GET", path, headers: accept.map { [("Accept", $0)] } ?? [])
    }

    func post(_ path: String, json value: JSONValue) async throws -> LoopbackResponse {
        try await request(
            "POST",
            path,
            headers: [("Content-Type", "application/json")],
            body: try CanonicalJSON.encode(value)
        )
    }

    func post(_ path: String, raw: [UInt8]) async throws -> LoopbackResponse {
        try await request("POST", path, headers: [("Content-Type", "application/json")], body: raw)
    }

    /// Runs blocking socket I/O on a thread of its own: neither Swift's cooperative pool nor
    /// Dispatch's global pool (both as wide as the machine's 2 cores) may be held by a blocked read.
    static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }

    // MARK: Ledger facts, read straight from the file

    func treeSize() throws -> UInt64 { try ledger.store.read { try $0.treeSize() } }

    func contains(_ id: Digest) throws -> Bool { try ledger.store.read { try $0.entryIndex(eventID: id.bytes) } != nil }

    // MARK: Statements

    /// A commission of a fresh Phone X serial by its brand owner.
    func commission(_ serial: String, at time: Timestamp = ServerFixture.now) throws -> (SGTIN, SignedStatement) {
        let model = SimulatedModel.phoneX
        let product = try model.product(serial: serial)
        let signed = try parties.sign(
            .commission,
            product: product,
            previous: nil,
            by: model.brand,
            at: time,
            details: [
                "massGrams": .integer(model.massGrams),
                "materials": .object(JSONObject(model.materials.mapValues { JSONValue.integer($0) })),
            ]
        )
        return (product, signed)
    }

    func ship(_ product: SGTIN, after previous: Digest, to consignee: String = "fabrikam") throws -> SignedStatement {
        try parties.sign(
            .ship,
            product: product,
            previous: previous,
            by: "northwind",
            at: Self.now,
            details: ["consignee": .string(consignee), "carrier": "wingtip"]
        )
    }
}

/// Problem documents as tests read them.
struct ProblemDocument {
    let status: Int
    let code: String
    let detail: String
    let json: JSONObject

    init(_ response: LoopbackResponse) throws {
        guard response.header("content-type") == "application/problem+json" else {
            throw LoopbackErrorForTests(
                "expected application/problem+json, got \(response.header("content-type") ?? "none"): \(response.text)"
            )
        }
        let value = try CanonicalJSON.decode(response.body)
        guard let object = value.objectValue, let status = object["status"]?.integerValue,
            let code = object["code"]?.stringValue, let detail = object["detail"]?.stringValue,
            object["type"]?.stringValue == "urn:retrace:problem:\(code)", object["title"]?.stringValue != nil
        else { throw LoopbackErrorForTests("not an RFC 9457 problem document: \(response.text)") }
        guard Int(status) == response.status else {
            throw LoopbackErrorForTests("problem status \(status) differs from the HTTP status \(response.status)")
        }
        self.status = Int(status)
        self.code = code
        self.detail = detail
        self.json = object
    }
}

struct LoopbackErrorForTests: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// All server suites share one ledger and check that refusals leave its tree size unchanged, so
/// they run one test at a time (each test may still drive many concurrent clients itself).
@Suite("Retrace HTTP service", .serialized)
struct ServerTests {}

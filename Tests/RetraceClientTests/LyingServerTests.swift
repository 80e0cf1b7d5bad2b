import AsyncHTTPClient
import CanonicalJSON
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import NIOSSL
import RetraceKit
import RetraceSimulation
import Synchronization
import Testing

/// A compromised server, played by a proxy in front of a real `retrace serve`: it forwards what it
/// is asked but alters chosen answers. The client, a separate `retrace` process, must refuse every
/// altered answer rather than print what the evidence does not support.
@Suite("A lying server cannot make a client print a false answer", .serialized)
struct LyingServerTests {
    enum Lie: Sendable {
        case none
        /// Answer a product's evidence with another product's genuine evidence.
        case swapEvidence(of: String, with: String)
        /// Change one byte inside a product's bundle (an event's details).
        case tamperBundle(serial: String)
        /// Acknowledge an append with a receipt, without appending.
        case fakeReceipt
        /// Serve an older checkpoint than before (a rolled-back log).
        case rollback(note: String)
        /// Refuse the next append with a chain conflict, as if someone had appended first.
        case conflictOnce
    }

    final class Proxy: Sendable {
        let lie = Mutex<Lie>(.none)
        let upstream: String
        let client: HTTPClient

        init(upstream: String, ca: String) {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.additionalTrustRoots = [.file(ca)]
            self.upstream = upstream
            self.client = HTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                configuration: .init(tlsConfiguration: tls)
            )
        }

        func forward(_ method: NIOHTTP1.HTTPMethod, _ path: String, body: [UInt8]?) async throws -> (Int, [UInt8]) {
            var request = HTTPClientRequest(url: upstream + path)
            request.method = method
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            let response = try await client.execute(request, timeout: .seconds(60))
            var buffer = try await response.body.collect(upTo: 256 << 20)
            return (Int(response.status.code), buffer.readBytes(length: buffer.readableBytes) ?? [])
        }

        func answer(_ request: Request) async throws -> Response {
            let path = request.uri.description
            var body: [UInt8]? = nil
            if request.method == .post {
                var buffer = try await request.body.collect(upTo: 64 << 20)
                body = buffer.readBytes(length: buffer.readableBytes)
            }
            let method: NIOHTTP1.HTTPMethod = request.method == .post ? .POST : .GET
            var (status, bytes) = (0, [UInt8]())
            switch lie.withLock({ $0 }) {
            case .swapEvidence(let victim, let other) where path.hasSuffix("/\(victim)/evidence"):
                let otherPath = path.replacingOccurrences(of: "/\(victim)/evidence", with: "/\(other)/evidence")
                (status, bytes) = try await forward(method, otherPath, body: body)
            case .tamperBundle(let serial) where path.contains("/\(serial)/"):
                (status, bytes) = try await forward(method, path, body: body)
                var text = String(decoding: bytes, as: UTF8.self)
                if let range = text.range(of: "\"grade\":\"good\"") {
                    text.replaceSubrange(range, with: "\"grade\":\"as-new\"")
                }
                bytes = Array(text.utf8)
            case .fakeReceipt where method == .POST:
                let (_, note) = try await forward(.GET, "/checkpoint", body: nil)
                let checkpoint = try Checkpoint(
                    parsing: String(decoding: note, as: UTF8.self).components(separatedBy: "\n\n")[0] + "\n"
                )
                let statement = try SignedStatement(parsing: body ?? [])
                let receipt: JSONValue = .object([
                    "appended": .array([
                        .object([
                            "index": .integer(Int64(checkpoint.size)), "event": .string(statement.id.hex),
                            "leafHash": .string(String(repeating: "0", count: 64)),
                        ])
                    ]),
                    "checkpoint": .string(String(decoding: note, as: UTF8.self)),
                    "root": .string(Hex.encode(checkpoint.rootHash)), "treeSize": .integer(Int64(checkpoint.size)),
                ])
                (status, bytes) = (201, try CanonicalJSON.encode(receipt))
            case .conflictOnce where method == .POST:
                lie.withLock { $0 = .none }
                let problem: JSONValue = .object([
                    "code": "chain-conflict",
                    "detail": "previous 000000000000 is not the current head; read the head and sign again",
                    "retryable": .bool(true), "rule": "C1 chain-head", "status": .integer(409),
                    "title": "The statement is not on the product's current head",
                    "type": "urn:retrace:problem:chain-conflict",
                ])
                (status, bytes) = (409, try CanonicalJSON.encode(problem))
            case .rollback(let note) where path == "/checkpoint":
                (status, bytes) = (200, Array(note.utf8))
            default:
                (status, bytes) = try await forward(method, path, body: body)
            }
            return Response(
                status: .init(code: status),
                headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes))
            )
        }
    }

    @Test("swapped or altered evidence, a false receipt and a rolled-back log are all refused by the client")
    func lies() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-liar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let served = try ServedLedger(root: root)
        defer { served.stop() }
        let proxy = Proxy(upstream: served.address, ca: served.ca.path)
        // The proxy's HTTP client must be shut down on every path (an unshut client traps on deinit).
        do { try await lies(root: root, served: served, proxy: proxy) } catch {
            try? await proxy.client.shutdown()
            throw error
        }
        try await proxy.client.shutdown()
    }

    func lies(root: URL, served: ServedLedger, proxy: Proxy) async throws {
        let router = Router()
        router.get("**") { request, _ in try await proxy.answer(request) }
        router.post("**") { request, _ in try await proxy.answer(request) }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }
        )
        let running = Task { try await app.runService() }
        defer { running.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let liar = "http://127.0.0.1:\(port)"
        let dock = try Party.make("litware", signs: true, root: root, server: liar, ca: served.ca)
        let auditor = try Party.make("auditor", signs: false, root: root, server: liar, ca: served.ca)
        let brand = try Party.make("northwind", signs: true, root: root, server: liar, ca: served.ca)

        let (_, script) = try DemoStory.statements(parties: try TestParties())
        let recalled = try #require(script.scans.first { $0.expectedVerdict == "recalled" })
        let genuine = try #require(script.scans.first { $0.expectedVerdict == "genuine-returnable" })
        func scan(_ item: DemoScan) async throws -> Party.Run {
            var arguments = ["scan", item.scan, "--dock", item.dock, "--time", item.time.description, "--json"]
            if let rma = item.claimedRMA { arguments += ["--rma", rma] }
            return try await dock.run(arguments)
        }
        // Honest first: through the proxy the recalled item is recalled.
        #expect(try await scan(recalled).json?["verdict"]?.stringValue == "recalled")
        let audit = try await auditor.run(["audit", "--mirror", "mirror.sqlite", "--json"])
        #expect(audit.code == 0, "\(audit.stderr)")
        let oldNote = try await Party.execute(["checkpoint", "--db", "mirror.sqlite"], in: auditor.folder).stdout

        // 1. The recalled item's evidence answered with a genuine item's: never "genuine-returnable".
        let recalledPath = "\(recalled.product.gtin.digits)/\(recalled.product.serial.value)"
        let genuinePath = "\(genuine.product.gtin.digits)/\(genuine.product.serial.value)"
        proxy.lie.withLock { $0 = .swapEvidence(of: recalledPath, with: genuinePath) }
        let swapped = try await scan(recalled)
        #expect(swapped.json?["verdict"]?.stringValue == "ledger-integrity-failure", "\(swapped.stdout)")
        #expect(swapped.code == 1)

        // 2. One detail changed in the showcase's bundle: the history is refused, naming why.
        proxy.lie.withLock { $0 = .tamperBundle(serial: script.showcase.serial.value) }
        let tampered = try await auditor.run(["history", script.showcase.digitalLink])
        #expect(tampered.code == 1)
        #expect(tampered.stderr.contains("does not verify"), "\(tampered.stderr)")
        let bundle = try await auditor.run(["bundle", script.showcase.digitalLink, "--out", "b.json"])
        #expect(bundle.code == 1)
        #expect(!FileManager.default.fileExists(atPath: auditor.folder.appendingPathComponent("b.json").path))

        // 3. An append acknowledged but not made: the client finds its statement is not in the log.
        proxy.lie.withLock { $0 = .fakeReceipt }
        let faked = try await brand.run([
            "record", "commission", "--key", "northwind.key", "--product",
            "https://id.gs1.org/01/09506000134352/21/NEVER-APPENDED",
        ])
        #expect(faked.code == 1)
        #expect(faked.stderr.contains("does not verify") && faked.stderr.contains("inclusion"), "\(faked.stderr)")

        // 4. The log rolled back to a smaller checkpoint: the auditor's mirror reports it.
        proxy.lie.withLock { $0 = .none }
        let commissioned = try await brand.run([
            "record", "commission", "--key", "northwind.key", "--product",
            "https://id.gs1.org/01/09506000134352/21/GROWS",
        ])
        #expect(commissioned.code == 0, "\(commissioned.stderr)")
        #expect(try await auditor.run(["audit", "--mirror", "mirror.sqlite"]).code == 0)
        // 5. A chain conflict is answered by signing again on the fresh head, and said.
        proxy.lie.withLock { $0 = .conflictOnce }
        let retried = try await brand.run([
            "record", "ship", "--key", "northwind.key", "--product", "https://id.gs1.org/01/09506000134352/21/GROWS",
            "--detail", "consignee=fabrikam",
        ])
        #expect(retried.code == 0, "\(retried.stderr)")
        #expect(retried.stdout.contains("signed 2 times after chain conflicts"), "\(retried.stdout)")
        proxy.lie.withLock { $0 = .conflictOnce }
        let once = try await brand.run([
            "record", "receive", "--key", "northwind.key", "--product", "https://id.gs1.org/01/09506000134352/21/GROWS",
            "--attempts", "1",
        ])
        #expect(once.code == 1)
        #expect(once.stderr.contains("409 chain-conflict") && once.stderr.contains("C1 chain-head"), "\(once.stderr)")
        #expect(try await auditor.run(["audit", "--mirror", "mirror.sqlite"]).code == 0)

        #expect(oldNote.hasPrefix("retrace.test/demo\n"), "\(oldNote)")
        let held = try await Party.execute(["checkpoint", "--db", "mirror.sqlite"], in: auditor.folder).stdout
        proxy.lie.withLock { $0 = .rollback(note: oldNote) }
        let rolledBack = try await auditor.run(["audit", "--mirror", "mirror.sqlite"])
        #expect(rolledBack.code == 1)
        #expect(rolledBack.stderr.contains("rollback"), "\(rolledBack.stderr)")
        // Nothing was written: the mirror still holds the checkpoint it verified last.
        #expect(try await Party.execute(["checkpoint", "--db", "mirror.sqlite"], in: auditor.folder).stdout == held)
    }
}

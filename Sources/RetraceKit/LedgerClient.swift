import AsyncHTTPClient
import CanonicalJSON
import Foundation
import MerkleLog
import NIOCore
import NIOHTTP1
import NIOSSL
import RetraceCrypto
import RetraceEvents
import RetraceIdentity

/// The `/v1` API of a remote `retrace serve` (spec/server.md), as bytes and JSON: no trust is
/// placed in anything it returns. ``RemoteLedger`` is the layer that verifies.
///
/// HTTPS certificates are verified against the system's roots plus, when given, a CA certificate
/// file of the party's own (a ledger run on a private CA); there is no switch to turn checking off.
public final class LedgerClient: Sendable {
    /// The service's base address, without a trailing slash.
    public let server: String
    let http: HTTPClient
    let timeout: TimeAmount
    /// The largest answer read; a bundle of a long history or a certificate of 100 000 members fits.
    static let maxAnswerBytes = 256 << 20

    /// - Parameters:
    ///   - server: `https://host:port` (or `http://` for loopback tests and a TLS-terminating proxy).
    ///   - caCertificateFile: a PEM file of CA certificates trusted in addition to the system's.
    public init(server: String, caCertificateFile: String? = nil, timeoutSeconds: Int64 = 60) throws {
        var base = server.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw ClientError(
                .transport,
                request: "connecting",
                detail: "\"\(server)\" is not an http:// or https:// address"
            )
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caCertificateFile {
            guard FileManager.default.fileExists(atPath: caCertificateFile) else {
                throw ClientError(
                    .transport,
                    request: "connecting",
                    detail: "the CA certificate \(caCertificateFile) does not exist"
                )
            }
            do { _ = try NIOSSLCertificate.fromPEMFile(caCertificateFile) } catch {
                throw ClientError(
                    .transport,
                    request: "connecting",
                    detail: "the CA certificate \(caCertificateFile) is not a PEM certificate: \(error)"
                )
            }
            tls.additionalTrustRoots = [.file(caCertificateFile)]
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.redirectConfiguration = .disallow
        self.server = base
        self.timeout = .seconds(timeoutSeconds)
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// Closes the connections; call once when done.
    public func shutdown() async {
        try? await http.shutdown()
    }

    // MARK: Requests

    /// `GET path`: the body of a 2xx answer, or the service's refusal as a ``ClientError``.
    public func get(_ path: String) async throws -> [UInt8] {
        try await send(.GET, path, body: nil)
    }

    public func post(_ path: String, json: JSONValue) async throws -> [UInt8] {
        try await send(.POST, path, body: try CanonicalJSON.encode(json))
    }

    func send(_ method: HTTPMethod, _ path: String, body: [UInt8]?) async throws -> [UInt8] {
        let name = "\(method.rawValue) \(path)"
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await http.execute(request, timeout: timeout)
            status = Int(response.status.code)
            var buffer = try await response.body.collect(upTo: Self.maxAnswerBytes)
            bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        } catch {
            throw ClientError(.transport, request: name, detail: Self.describe(error, server: server))
        }
        guard (200..<300).contains(status) else {
            throw ClientError.refusal(request: name, status: status, body: bytes)
        }
        return bytes
    }

    /// Transport errors in words a person can act on (NIO's names are not).
    static func describe(_ error: any Error, server: String) -> String {
        if let ssl = error as? NIOSSLError {
            return "TLS handshake with \(server) failed (\(ssl)); is its certificate signed by a CA you trust? "
                + "pass it with --ca-cert"
        }
        let text = String(describing: error)
        if text.contains("handshakeFailed") || text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS certificate of \(server) is not trusted (\(text)); pass its CA with --ca-cert"
        }
        if text.contains("connectTimeout") || text.contains("connectionRefused") || text.contains("Connection refused")
        {
            return "cannot connect to \(server) (\(text)); is `retrace serve` running there?"
        }
        return "\(text) (server \(server))"
    }

    /// `GET path` as a JSON object (unverified).
    public func json(_ path: String) async throws -> JSONObject {
        let bytes = try await get(path)
        return try Self.object(bytes, request: "GET \(path)")
    }

    static func object(_ bytes: [UInt8], request: String) throws -> JSONObject {
        guard let value = try? CanonicalJSON.decode(bytes, options: .lenient), let object = value.objectValue else {
            throw ClientError(.malformedAnswer, request: request, detail: "not a JSON object")
        }
        return object
    }

    // MARK: Routes

    /// The latest checkpoint note, unverified (``RemoteLedger/checkpoint()`` verifies it).
    public func checkpointNote() async throws -> String {
        let bytes = try await get("/checkpoint")
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ClientError(.malformedAnswer, request: "GET /checkpoint", detail: "not UTF-8 text")
        }
        return text
    }

    public func logInfo() async throws -> JSONObject { try await json("/v1/log") }

    /// The roster chain as a bundle without products (unverified).
    public func rosterBundle() async throws -> [UInt8] { try await get("/v1/roster") }

    /// The class bundle of a GTIN-14: the roster and the GTIN's product-class chain, with head proofs.
    public func classBundle(gtin: String) async throws -> [UInt8] {
        try await get("/v1/classes/\(Self.percentEncoded(gtin))")
    }

    public func dockEvidence(_ product: SGTIN) async throws -> [UInt8] {
        try await get(Self.productPath(product) + "/evidence")
    }

    public func bundle(_ product: SGTIN) async throws -> [UInt8] {
        try await get(Self.productPath(product) + "/bundle")
    }

    public func certificateEvidence(_ certificate: String) async throws -> JSONObject {
        try await json("/v1/recycling/certificates/\(Self.percentEncoded(certificate))/evidence")
    }

    /// Submits one statement (`/v1/events`) or an all-or-nothing batch (`/v1/batches`); the receipt.
    public func submit(_ statements: [SignedStatement]) async throws -> JSONObject {
        let path = statements.count == 1 ? "/v1/events" : "/v1/batches"
        let body: JSONValue = statements.count == 1 ? statements[0].json : .array(statements.map(\.json))
        return try Self.object(try await post(path, json: body), request: "POST \(path)")
    }

    public func entries(start: UInt64, end: UInt64? = nil) async throws -> JSONObject {
        try await json("/v1/entries?start=\(start)" + (end.map { "&end=\($0)" } ?? ""))
    }

    public func consistencyProof(from: UInt64, to: UInt64) async throws -> JSONObject {
        try await json("/v1/proofs/consistency?from=\(from)&to=\(to)")
    }

    /// Fetches the consistency proof between two checkpoints this client already verified and
    /// checks it against their roots: the server supplies hashes, never the verdict. Throws the
    /// proof's own error when the newer tree does not extend the older one.
    public func proveConsistency(
        from older: (size: UInt64, root: [UInt8]),
        to newer: (size: UInt64, root: [UInt8])
    ) async throws {
        let answer = try await consistencyProof(from: older.size, to: newer.size)
        let proof = (answer["proof"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { Hex.decode($0) } }
        try MerkleProof.verifyConsistency(
            size1: older.size,
            size2: newer.size,
            proof: proof,
            root1: older.root,
            root2: newer.root
        )
    }

    public func inclusionProof(index: UInt64, treeSize: UInt64) async throws -> JSONObject {
        try await json("/v1/proofs/inclusion?index=\(index)&treeSize=\(treeSize)")
    }

    /// `/v1/products/{GTIN-14}/{serial}`, the serial percent-encoded as in a Digital Link.
    static func productPath(_ product: SGTIN) -> String {
        "/v1/products/\(product.gtin.digits)/\(percentEncoded(product.serial.value))"
    }

    static func percentEncoded(_ text: String) -> String {
        let allowed = CharacterSet(
            charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
        )
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

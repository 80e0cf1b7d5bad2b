import CanonicalJSON
import Hummingbird
import RetraceLedger
import RetraceVerification

/// An RFC 9457 problem details document: every refusal the service gives.
///
/// A client's mistake is always a 4xx with a `code` it can switch on and a `detail` a person can
/// act on; only the service's own trouble (its disk, its lock) is a 5xx. Nothing internal (stack
/// traces, SQL, file paths of the server) ever reaches the body.
public struct Problem: Error, Sendable, HTTPResponseError {
    public let status: HTTPResponse.Status
    /// A stable machine-readable code, also the last part of ``type``.
    public let code: String
    public let title: String
    public let detail: String
    /// Extension members (RFC 9457 §3.2): the rule refused, the statement's position in the batch, …
    public let extensions: [String: JSONValue]

    public init(
        _ status: HTTPResponse.Status,
        code: String,
        title: String,
        detail: String,
        extensions: [String: JSONValue] = [:]
    ) {
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.extensions = extensions
    }

    /// The problem type URI; spec/server.md lists every code.
    public var type: String { "urn:retrace:problem:\(code)" }

    public static let mediaType = "application/problem+json"

    public var json: JSONValue {
        var members = extensions
        members["type"] = .string(type)
        members["title"] = .string(title)
        members["status"] = .integer(Int64(status.code))
        members["detail"] = .string(detail)
        members["code"] = .string(code)
        return .object(JSONObject(members.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }))
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    func response() -> Response {
        var headers: HTTPFields = [.contentType: Self.mediaType]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Signature realm=\"retrace\"" }
        if extensions["retryable"] == .bool(true) { headers[.retryAfter] = "1" }
        let bytes = (try? CanonicalJSON.encode(json)) ?? Array("{}".utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension Problem {
    static func badRequest(_ detail: String, code: String = "malformed-request") -> Problem {
        Problem(.badRequest, code: code, title: "The request is malformed", detail: detail)
    }

    static func notFound(_ detail: String) -> Problem {
        Problem(.notFound, code: "not-found", title: "Not found", detail: detail)
    }

    static func tooLarge(limit: Int) -> Problem {
        Problem(
            .contentTooLarge,
            code: "too-large",
            title: "The request body is too large",
            detail: "the body exceeds \(limit) bytes; send smaller batches",
            extensions: ["limit": .integer(Int64(limit))]
        )
    }

    /// Maps a refused append onto the HTTP status its cause deserves (spec/server.md §3).
    static func refused(_ error: LedgerError) -> Problem {
        var extensions: [String: JSONValue] = [:]
        if let index = error.statementIndex { extensions["statementIndex"] = .integer(Int64(index)) }
        if let product = error.product { extensions["product"] = .string(product) }
        if let rule = error.rule { extensions["rule"] = .string(rule) }
        let detail = error.description + "; nothing was appended"
        switch error.code {
        case .malformed:
            return Problem(
                .badRequest,
                code: "malformed-statement",
                title: "The statement is malformed",
                detail: detail,
                extensions: extensions
            )
        case .emptyBatch:
            return Problem(
                .badRequest,
                code: "empty-batch",
                title: "The request is malformed",
                detail: detail,
                extensions: extensions
            )
        case .untrusted where error.rule == "T9 signature":
            return Problem(
                .unauthorized,
                code: "bad-signature",
                title: "The signature does not verify",
                detail: detail,
                extensions: extensions
            )
        case .untrusted:
            return Problem(
                .forbidden,
                code: "untrusted-signer",
                title: "The signer is not trusted for this statement",
                detail: detail,
                extensions: extensions
            )
        case .chainConflict:
            return Problem(
                .conflict,
                code: "chain-conflict",
                title: "Not the product's current head",
                detail: detail,
                extensions: extensions.merging(["retryable": .bool(true)]) { $1 }
            )
        case .duplicate:
            return Problem(
                .conflict,
                code: "duplicate",
                title: "The statement is already in the log",
                detail: detail,
                extensions: extensions
            )
        case .ruleViolation:
            return Problem(
                .unprocessableContent,
                code: "rule-violation",
                title: "A rule refuses the statement",
                detail: detail,
                extensions: extensions
            )
        case .futureEvent:
            return Problem(
                .unprocessableContent,
                code: "future-event",
                title: "The statement is dated in the future",
                detail: detail,
                extensions: extensions
            )
        case .wrongLogKey:
            return Problem(
                .serviceUnavailable,
                code: "read-only",
                title: "This service does not accept appends",
                detail: "the service runs without the log key; appends are disabled",
                extensions: [:]
            )
        default:
            // The service's own storage trouble: retryable, and the body says nothing internal.
            let busy = error.storage?.code == .busy || error.storage?.code == .conflict
            return Problem(
                .serviceUnavailable,
                code: busy ? "busy" : "storage-unavailable",
                title: "The ledger cannot take the statement now",
                detail: busy ? "the ledger is busy; retry" : "the ledger's storage failed; nothing was appended",
                extensions: ["retryable": .bool(busy)]
            )
        }
    }

    /// Maps a verification failure. Bad input is a 4xx. Evidence that does not verify is the
    /// client's fault only when the client sent it (`clientEvidence`, an uploaded bundle: 422);
    /// evidence the service built from its own database failing is the ledger's integrity failing,
    /// which the service must not hide behind a 4xx.
    static func verification(_ error: VerificationError, clientEvidence: Bool = false) -> Problem {
        switch error.code {
        case .invalidScan:
            return Problem(.badRequest, code: "invalid-scan", title: "Not a product identity", detail: error.reason)
        case .notFound:
            return notFound(error.reason)
        case .malformedBundle where clientEvidence, .unsupportedFormat where clientEvidence:
            return Problem(
                .badRequest,
                code: "malformed-bundle",
                title: "The bundle is malformed",
                detail: error.reason
            )
        case .storage:
            return Problem(
                .serviceUnavailable,
                code: "storage-unavailable",
                title: "The ledger cannot be read now",
                detail: "the ledger's storage failed; retry",
                extensions: ["retryable": .bool(true)]
            )
        default:
            if clientEvidence {
                return Problem(
                    .unprocessableContent,
                    code: "evidence-invalid",
                    title: "The evidence does not verify",
                    detail: error.description,
                    extensions: ["verification": .string(error.code.description)]
                )
            }
            return Problem(
                .internalServerError,
                code: "ledger-integrity-failure",
                title: "The ledger's own evidence does not verify",
                detail: "\(error.description); the ledger may have been tampered with; run an audit",
                extensions: ["verification": .string(error.code.description)]
            )
        }
    }
}

import CanonicalJSON

/// Why a request to a remote ledger failed: the service refused it (with its RFC 9457 problem
/// document), the service could not be reached, or what it answered is not what the API promises.
///
/// The problem's `code`, `detail` and `rule` are kept whole, so the one-line error a person reads
/// is the service's own reason, not "HTTP 422".
public struct ClientError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The service answered with a problem document (4xx or 5xx).
        case refused
        /// No answer: connection refused, TLS failure (an untrusted certificate), timeout.
        case transport
        /// An answer that is not the document the API describes.
        case malformedAnswer
    }

    public let kind: Kind
    /// The HTTP status, when there was an answer.
    public let status: Int?
    /// The problem's stable `code` (spec/server.md §3), e.g. `chain-conflict`, `rule-violation`.
    public let code: String?
    public let detail: String
    /// The rule the service named (`C1 chain-head`, `L5 state-table` …).
    public let rule: String?
    public let retryable: Bool
    /// Which request: `POST /v1/events`, `GET /checkpoint` …
    public let request: String

    public init(
        _ kind: Kind,
        request: String,
        status: Int? = nil,
        code: String? = nil,
        detail: String,
        rule: String? = nil,
        retryable: Bool = false
    ) {
        self.kind = kind
        self.request = request
        self.status = status
        self.code = code
        self.detail = detail
        self.rule = rule
        self.retryable = retryable
    }

    /// A problem document, or whatever an error body held (a proxy's HTML page is named, not parsed).
    static func refusal(request: String, status: Int, body: [UInt8]) -> ClientError {
        if let value = try? CanonicalJSON.decode(body, options: .lenient), let object = value.objectValue,
            let code = object["code"]?.stringValue
        {
            return ClientError(
                .refused,
                request: request,
                status: status,
                code: code,
                detail: object["detail"]?.stringValue ?? object["title"]?.stringValue ?? "no detail given",
                rule: object["rule"]?.stringValue,
                retryable: object["retryable"] == .bool(true)
            )
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self).split(whereSeparator: \.isNewline).first
        return ClientError(
            .refused,
            request: request,
            status: status,
            detail: "HTTP \(status) without a problem document\(text.map { ": \($0)" } ?? "")"
        )
    }

    public var description: String {
        switch kind {
        case .refused:
            var text = "\(request) refused (\(status.map(String.init) ?? "?")"
            if let code { text += " \(code)" }
            text += "): \(detail)"
            if let rule, !detail.contains(rule) { text += " [rule \(rule)]" }
            return text
        case .transport: return "\(request) failed: \(detail)"
        case .malformedAnswer: return "\(request) answered something unexpected: \(detail)"
        }
    }
}

import CanonicalJSON
import Hummingbird
import NIOCore

/// Reading what a client sent, with every failure turned into the problem it deserves.
enum RequestReading {
    /// The whole body, refused with 413 past `limit` (before reading it when Content-Length says
    /// so), 408 when the client stalls, 400 when the connection breaks mid-body.
    static func body(_ request: Request, limit: Int, timeout: Duration) async throws(Problem) -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw Problem.tooLarge(limit: limit)
        }
        let body = request.body
        do {
            return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    let buffer = try await body.collect(upTo: limit)
                    return Array(buffer.readableBytesView)
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let bytes = first else {
                    throw Problem(
                        .requestTimeout,
                        code: "body-timeout",
                        title: "The request body did not arrive in time",
                        detail: "the body was not complete within \(timeout); send it again"
                    )
                }
                return bytes
            }
        } catch let problem as Problem {
            throw problem
        } catch is NIOTooManyBytesError {
            throw Problem.tooLarge(limit: limit)
        } catch {
            throw Problem.badRequest("the request body could not be read in full (truncated or aborted)")
        }
    }

    /// JSON in the integer-only profile (any whitespace and key order); the statements inside are
    /// re-encoded canonically before their signatures are checked, so formatting cannot matter.
    static func json(_ bytes: [UInt8], limit: Int) throws(Problem) -> JSONValue {
        guard !bytes.isEmpty else {
            throw Problem.badRequest("the request body is empty; a JSON document was expected")
        }
        var options = ReadOptions.lenient
        options.maxBytes = limit
        do { return try CanonicalJSON.decode(bytes, options: options) } catch {
            throw Problem.badRequest("the body is not JSON in Retrace's profile (integers only, UTF-8): \(error)")
        }
    }

    static func object(_ value: JSONValue, allowed: Set<String>, what: String) throws(Problem) -> JSONObject {
        guard let object = value.objectValue else {
            throw Problem.badRequest("\(what) must be a JSON object, found \(value.kindName)")
        }
        if let unknown = object.keys.first(where: { !allowed.contains($0) }) {
            throw Problem.badRequest(
                "\(what) has the unknown member \"\(unknown)\"; expected only \(allowed.sorted().joined(separator: ", "))"
            )
        }
        return object
    }

    static func string(_ object: JSONObject, _ key: String, what: String) throws(Problem) -> String? {
        guard let value = object[key], !value.isNull else { return nil }
        guard let text = value.stringValue else {
            throw Problem.badRequest("\(what).\(key) must be a string, found \(value.kindName)")
        }
        return text
    }

    /// A query parameter as an unsigned integer, or nil when absent. Only the canonical decimal
    /// spelling is accepted (digits, no sign, no leading zero): `UInt64("+5")` would take a sign
    /// and two clients could then name one index two ways (server.md §3).
    static func unsigned(_ request: Request, _ name: String) throws(Problem) -> UInt64? {
        guard let text = request.uri.queryParameters[Substring(name)].map(String.init) else { return nil }
        guard let value = canonicalUnsigned(text) else {
            throw Problem.badRequest("query parameter \(name)=\(text) must be a non-negative integer")
        }
        return value
    }

    /// `text` as an unsigned integer when it is canonical decimal: ASCII digits, no leading zero
    /// unless it is `0`, within UInt64.
    static func canonicalUnsigned(_ text: String) -> UInt64? {
        let digits = text.utf8
        guard let first = digits.first, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            first != 0x30 || digits.count == 1
        else { return nil }
        return UInt64(text)
    }
}

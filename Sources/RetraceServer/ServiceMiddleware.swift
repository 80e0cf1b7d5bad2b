import Hummingbird
import Logging

/// Wraps every request: turns any error into a problem document, and records the request's
/// route, status and latency.
///
/// Errors from Hummingbird itself (no such route, a body past the limit) become problems too, so
/// a client always gets `application/problem+json`; anything unexpected becomes a bare 500 whose
/// body names nothing internal, while the log keeps the detail.
struct ServiceMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics
    let logger: Logger
    /// Every route as (method, path pattern), to tell "no such path" (404) from "not with this
    /// method" (405, with Allow), which Hummingbird's router does not distinguish.
    let routes: [(method: String, pattern: [Substring])]

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        // Hummingbird names a request no route matched "NotFound"; the metrics call it "unmatched".
        var matched = true
        do {
            response = try await next(request, context)
        } catch let problem as Problem {
            response = problem.response()
        } catch let error as any HTTPResponseError {
            matched = error.status != .notFound
            let allowed = error.status == .notFound ? allowedMethods(request.uri.path) : []
            if allowed.isEmpty {
                response = Self.problem(for: error.status, path: request.uri.path).response()
            } else {
                var refusal = Self.problem(for: .methodNotAllowed, path: request.uri.path).response()
                refusal.headers[.allow] = allowed.joined(separator: ", ")
                response = refusal
            }
        } catch {
            logger.error("unexpected error", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = Problem(
                .internalServerError,
                code: "internal-error",
                title: "Internal error",
                detail: "the service failed to answer; the failure is logged"
            ).response()
        }
        let route = matched ? context.endpointPath ?? "unmatched" : "unmatched"
        metrics.request(
            route: route,
            method: request.method.rawValue,
            status: response.status.code,
            duration: ContinuousClock.now - start
        )
        return response
    }

    func allowedMethods(_ path: String) -> [String] {
        let segments = path.split(separator: "/")
        var methods = Set(routes.filter { Self.matches($0.pattern, segments) }.map(\.method))
        if methods.contains("GET") { methods.insert("HEAD") }
        return methods.sorted()
    }

    static func matches(_ pattern: [Substring], _ segments: [Substring]) -> Bool {
        if pattern.last == "**" {
            return segments.count >= pattern.count - 1 && zip(pattern.dropLast(), segments).allSatisfy(same)
        }
        return pattern.count == segments.count && zip(pattern, segments).allSatisfy(same)
    }

    private static func same(_ pair: (Substring, Substring)) -> Bool {
        pair.0.hasPrefix(":") || pair.0.hasPrefix("{") || pair.0 == "*" || pair.0 == pair.1
    }

    static func problem(for status: HTTPResponse.Status, path: String) -> Problem {
        switch status {
        case .notFound:
            return Problem.notFound("no route serves \(path); see spec/openapi.yaml")
        case .methodNotAllowed:
            return Problem(
                .methodNotAllowed,
                code: "method-not-allowed",
                title: "Method not allowed",
                detail: "\(path) does not accept this method; see spec/openapi.yaml"
            )
        case .contentTooLarge:
            return Problem(
                .contentTooLarge,
                code: "too-large",
                title: "The request body is too large",
                detail: "the body exceeds the service's limit; send smaller batches"
            )
        default:
            return Problem(
                status,
                code: status.code >= 500 ? "internal-error" : "bad-request",
                title: status.reasonPhrase,
                detail: status.code >= 500 ? "the service failed to answer" : "the request was refused"
            )
        }
    }
}

import Foundation
import Testing

@testable import RetraceServer

extension ServerTests {
    /// spec/openapi.yaml and the router describe the same routes: a route added to one and not the
    /// other fails here.
    @Suite("OpenAPI agreement")
    struct OpenAPIAgreementTests {
        static let specURL = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("spec/openapi.yaml")

        /// `METHOD /path` pairs of the document, read from its `paths:` block (two-space path keys,
        /// four-space method keys), with `x-retrace-route-patterns` mapping paths the router spells
        /// differently.
        static func documented() throws -> Set<String> {
            let text = try String(contentsOf: specURL, encoding: .utf8)
            var routes: Set<String> = []
            var patterns: [String: String] = [:]
            var section = ""
            var path: String?
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
                if !line.hasPrefix(" "), line.hasSuffix(":") || line.contains(": ") {
                    section = String(line.prefix { $0 != ":" })
                    continue
                }
                if section == "x-retrace-route-patterns", line.hasPrefix("  "), let colon = line.range(of: ": ") {
                    let key = line[..<colon.lowerBound].trimmingCharacters(in: .whitespaces)
                    let value = line[colon.upperBound...].trimmingCharacters(in: .whitespaces)
                    patterns[key.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))] =
                        value.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))
                }
                guard section == "paths" else { continue }
                if line.hasPrefix("  /"), line.hasSuffix(":") {
                    path = String(line.dropFirst(2).dropLast()).trimmingCharacters(
                        in: CharacterSet(charactersIn: "'\"")
                    )
                } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                    let method = line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()
                    if ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"].contains(method) {
                        routes.insert("\(method) \(path)")
                    }
                }
            }
            return Set(
                routes.map { route in
                    let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
                    return "\(parts[0]) \(patterns[parts[1]] ?? parts[1])"
                }
            )
        }

        @Test("Every routed path is documented and every documented path is routed")
        func agree() async throws {
            let fixture = try await ServerFixture.shared.value
            _ = fixture
            let server = RetraceServer(
                service: try await ServerFixture.shared.value.service,
                configuration: ServerConfiguration(),
                logger: .init(label: "t")
            )
            // HEAD is generated for every GET (documented once in server.md), so it is not listed per path.
            let routed = Set(
                server.makeRouter().routes.filter { $0.method != .head }
                    .map { "\($0.method) \(Self.normalise("\($0.path)"))" }
            )
            let documented = try Self.documented()
            #expect(
                routed.subtracting(documented).isEmpty,
                "routed but not documented: \(routed.subtracting(documented).sorted())"
            )
            #expect(
                documented.subtracting(routed).isEmpty,
                "documented but not routed: \(documented.subtracting(routed).sorted())"
            )
            #expect(routed.count >= 17)
        }

        /// Hummingbird prints parameters as `:name` or `{name}` depending on version; OpenAPI uses `{name}`.
        static func normalise(_ path: String) -> String {
            path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
                segment.hasPrefix(":") ? "{\(segment.dropFirst())}" : String(segment)
            }.joined(separator: "/")
        }
    }
}

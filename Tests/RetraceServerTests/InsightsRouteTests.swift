import CanonicalJSON
import Foundation
import LoopbackHTTP
import RetraceAudit
import RetraceEvents
import RetraceInsights
import RetraceSimulation
import Testing

extension ServerTests {
    /// `/v1/insights`, `/insights` and `/epcis/events` against the demo ledger of the shared fixture.
    @Suite("Insights and EPCIS query routes")
    struct InsightsRouteTests {
        /// The same figures, folded here by a full audit of the fixture's ledger.
        static func library(_ fixture: ServerFixture, _ filter: InsightsFilter = InsightsFilter()) throws -> JSONValue {
            var insights = ReturnInsights(filter: filter)
            let auditor = Auditor(
                trustRoots: [fixture.parties.governance.verifier],
                logKey: fixture.parties.log.verifier,
                origin: TestParties.origin
            )
            let report = try auditor.audit(store: fixture.ledger.store) { insights.add($0) }
            #expect(report.passed)
            return insights.json(
                treeSize: report.treeSize,
                root: report.rootHash.map { String(format: "%02x", $0) }.joined()
            )
        }

        @Test("/v1/insights is the audited report; filters apply; unknown parameters and bad dates are refused")
        func insightsJSON() async throws {
            let fixture = try await ServerFixture.shared.value
            let response = try await fixture.get("/v1/insights")
            #expect(response.status == 200)
            #expect(try CanonicalJSON.decode(response.body) == (try Self.library(fixture)))
            let filtered = try await fixture.get("/v1/insights?retailer=tailspin&from=2026-03-01")
            let expected = try Self.library(
                fixture,
                InsightsFilter(from: try Timestamp(parsing: "2026-03-01T00:00:00Z"), retailer: "tailspin")
            )
            #expect(try CanonicalJSON.decode(filtered.body) == expected)
            for (path, code) in [
                ("/v1/insights?colour=red", "malformed-request"), ("/v1/insights?from=yesterday", "malformed-request"),
                ("/v1/insights?gtin=123", "malformed-request"),
            ] {
                let problem = try ProblemDocument(try await fixture.get(path))
                #expect(problem.status == 400 && problem.code == code, "\(path)")
            }
        }

        @Test("After appends, the insights include the new events (incremental refresh from the last checkpoint)")
        func incremental() async throws {
            let fixture = try await ServerFixture(maxBodyBytes: 64 * 1024)
            let before = try CanonicalJSON.decode(try await fixture.get("/v1/insights").body)
            let (product, commission) = try fixture.commission("INSIGHT1")
            let ship = try fixture.ship(product, after: commission.id)
            let receive = try fixture.parties.sign(
                .receive,
                product: product,
                previous: ship.id,
                by: "fabrikam",
                at: ServerFixture.now
            )
            let sell = try fixture.parties.sign(
                .sell,
                product: product,
                previous: receive.id,
                by: "fabrikam",
                at: ServerFixture.now,
                details: ["orderDigest": .string(String(repeating: "ab", count: 32)), "channel": "store"]
            )
            let appended = try await fixture.post(
                "/v1/batches",
                json: .array([commission.json, ship.json, receive.json, sell.json])
            )
            #expect(appended.status == 201, "\(appended.text)")
            let after = try CanonicalJSON.decode(try await fixture.get("/v1/insights").body)
            #expect(after["returns"]?["sales"]?.integerValue == (before["returns"]?["sales"]?.integerValue ?? 0) + 1)
            #expect(
                after["ledger"]?["eventsRead"]?.integerValue == (before["ledger"]?["eventsRead"]?.integerValue ?? 0) + 4
            )
            // The incrementally folded report equals a full audit's.
            #expect(after == (try Self.library(fixture)))
        }

        static func events(_ response: LoopbackResponse) throws -> [JSONObject] {
            let document = try CanonicalJSON.decode(response.body)
            #expect(document["type"]?.stringValue == "EPCISQueryDocument")
            return (document["epcisBody"]?["queryResults"]?["resultsBody"]?["eventList"]?.arrayValue ?? [])
                .compactMap(\.objectValue)
        }

        @Test("/epcis/events pages through every audited event in log order; MATCH_epc, EQ_bizStep and times select")
        func epcisQuery() async throws {
            let fixture = try await ServerFixture.shared.value
            var path: String? = "/epcis/events?perPage=70"
            var indices: [Int64] = []
            var pages = 0
            var first: LoopbackResponse?
            while let next = path {
                let response = try await fixture.get(next)
                #expect(response.status == 200, "\(response.text)")
                first = first ?? response
                indices += try Self.events(response).compactMap { $0["retrace:logIndex"]?.integerValue }
                pages += 1
                path = response.header("link").flatMap { link in
                    link.range(of: "<").flatMap { start in
                        link.range(of: ">").map { String(link[start.upperBound..<$0.lowerBound]) }
                    }
                }
                #expect(pages < 20)
            }
            let size = try fixture.treeSize()
            // Roster and product-class statements are no EPCIS events (epcis.md §1).
            let events = try fixture.ledger.store.read { reader in
                try (0..<size).filter { index in
                    let type = try reader.entry(at: index)?.type
                    return type != "roster" && type != "product-class"
                }.map { Int64($0) }
            }
            #expect(indices == events, "every event but the roster and product classes, once, in order")
            #expect(pages == (events.count + 69) / 70)

            // Valid EPCIS 2.0 by GS1's schema (the CLI tests' validator).
            let validator = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("RetraceCLITests/EPCIS")
            if let first, FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") {
                let file = FileManager.default.temporaryDirectory.appendingPathComponent(
                    "epcis-\(UUID().uuidString).json"
                )
                try Data(first.body).write(to: file)
                defer { try? FileManager.default.removeItem(at: file) }
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
                process.arguments = [
                    validator.appendingPathComponent("validate.py").path,
                    validator.appendingPathComponent("gs1/EPCIS-JSON-Schema.json").path, file.path,
                ]
                let pipe = Pipe()
                process.standardOutput = pipe
                try process.run()
                let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                #expect(process.terminationStatus == 0 || process.terminationStatus == 3, "\(output)")
            }

            let showcase = fixture.script.showcase
            let history = try Self.events(
                try await fixture.get(
                    "/epcis/events?MATCH_epc=\(showcase.humanReadable.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                )
            )
            #expect(!history.isEmpty)
            #expect(history.allSatisfy { ($0["epcList"]?.arrayValue ?? []).contains(.string(showcase.digitalLink)) })
            #expect(history.first?["retrace:eventType"]?.stringValue == "commission")

            let receiving = try Self.events(try await fixture.get("/epcis/events?EQ_bizStep=receiving&perPage=1000"))
            #expect(!receiving.isEmpty && receiving.allSatisfy { $0["bizStep"]?.stringValue == "receiving" })
            let june = try Self.events(
                try await fixture.get(
                    "/epcis/events?GE_eventTime=2026-06-01T00:00:00Z&LT_eventTime=2026-07-01T02:00:00%2B02:00&perPage=1000"
                )
            )
            #expect(!june.isEmpty)
            #expect(
                june.allSatisfy {
                    ($0["eventTime"]?.stringValue ?? "") >= "2026-06-01"
                        && ($0["eventTime"]?.stringValue ?? "") < "2026-07-01"
                }
            )

            let unsupported = try ProblemDocument(try await fixture.get("/epcis/events?EQ_action=ADD"))
            #expect(unsupported.status == 400 && unsupported.code == "query-parameter-not-supported")
            let badToken = try ProblemDocument(try await fixture.get("/epcis/events?nextPageToken=zz"))
            #expect(badToken.status == 400)
        }

        @Test("/insights is an HTML page with SVG charts and no script")
        func page() async throws {
            let fixture = try await ServerFixture.shared.value
            let response = try await fixture.get("/insights?retailer=fabrikam")
            #expect(response.status == 200)
            #expect(response.header("content-type")?.hasPrefix("text/html") == true)
            let html = response.text
            #expect(html.contains("<svg") && html.contains("Return rate by product"))
            #expect(!html.lowercased().contains("<script"))
            #expect(html.contains("value=\"fabrikam\""), "the filter form keeps the filter")
        }
    }
}

extension ServerTests.BrowserTests {
    @Test("The insights page renders in Chromium at a phone's width, charts drawn")
    func insightsPage() async throws {
        let fixture = try await ServerFixture.shared.value
        let page = try await Chromium.render(port: fixture.port, path: "/insights")
        #expect(page.text.contains("Return insights"))
        #expect(page.text.contains("Why items come back"))
        #expect(page.text.contains("Recalls by lot"))
        #expect(page.screenshot.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(page.screenshot.count > 20_000, "the screenshot has content")
    }
}

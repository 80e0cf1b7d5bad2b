import CanonicalJSON
import LoopbackHTTP
import MerkleLog
import RetraceCrypto
import RetraceSimulation
import RetraceVerification
import Testing

extension ServerTests {
    /// The transparency-log routes: what a mirror or an auditor needs to check the log without
    /// trusting the server.
    @Suite("Log routes over HTTP")
    struct LogRouteTests {
        @Test("/checkpoint is a C2SP signed note that opens under the log key, matching /v1/log")
        func checkpoint() async throws {
            let fixture = try await ServerFixture.shared.value
            let response = try await fixture.get("/checkpoint")
            #expect(response.header("content-type") == "text/plain; charset=utf-8")
            let checkpoint = try Checkpoint.open(
                response.text,
                verifiers: [fixture.parties.log.verifier],
                origin: TestParties.origin
            )
            let log = try CanonicalJSON.decode(try await fixture.get("/v1/log").body)
            #expect(log["origin"]?.stringValue == TestParties.origin)
            #expect(log["logKey"]?.stringValue == fixture.parties.log.verifier.description)
            #expect(UInt64(try #require(log["treeSize"]?.integerValue)) >= checkpoint.size)
            #expect(try await fixture.get("/v1/log/key").text == fixture.parties.log.verifier.description + "\n")
        }

        @Test("/v1/classes/{gtin} is a class bundle that verifies to the class in force; a non-GTIN-14 is 400")
        func productClass() async throws {
            let fixture = try await ServerFixture.shared.value
            let gtin = SimulatedModel.phoneX.gtin.digits
            let response = try await fixture.get("/v1/classes/\(gtin)")
            #expect(response.status == 200)
            let bundle = try ProofBundle(parsing: response.body)
            let verifier = EvidenceVerifier(
                anchors: TrustAnchors(
                    governance: [fixture.parties.governance.verifier],
                    logKey: fixture.parties.log.verifier,
                    origin: TestParties.origin
                )
            )
            let verified = try verifier.verifyClass(bundle, gtin: gtin)
            #expect(verified.productClass?.details.name == "Northwind Phone X")
            #expect(verified.productClass?.details.model == "NX-26")
            // A GTIN with no class statement: the chain is proven empty, not just missing.
            let none = try await fixture.get("/v1/classes/09506000999999")
            #expect(
                try verifier.verifyClass(ProofBundle(parsing: none.body), gtin: "09506000999999").productClass == nil
            )
            // Someone else's GTIN passed off: refused.
            #expect(throws: VerificationError.self) { try verifier.verifyClass(bundle, gtin: "09506000999999") }
            #expect(try await fixture.get("/v1/classes/9506000134352").status == 400)
        }

        @Test("Consistency proofs between two sizes verify; entries reproduce the tree's root")
        func consistencyAndEntries() async throws {
            let fixture = try await ServerFixture.shared.value
            let note = try await fixture.get("/checkpoint").text
            let head = try Checkpoint.open(note, verifiers: [fixture.parties.log.verifier], origin: TestParties.origin)
            let old: UInt64 = 100
            let proof = try CanonicalJSON.decode(
                try await fixture.get("/v1/proofs/consistency?from=\(old)&to=\(head.size)").body
            )
            let hashes = try #require(proof["proof"]?.arrayValue).compactMap { $0.stringValue.flatMap(Hex.decode) }

            // The old root, recomputed from the raw entries a mirror would fetch page by page.
            var range = CompactRange()
            var start: UInt64 = 0
            while start < old {
                let page = try CanonicalJSON.decode(try await fixture.get("/v1/entries?start=\(start)&end=\(old)").body)
                let entries = try #require(page["entries"]?.arrayValue)
                #expect(!entries.isEmpty)
                for entry in entries {
                    let bytes = try #require(entry["entry"]?.stringValue.flatMap { Base64.decode($0) })
                    try range.append(entry: bytes)
                }
                start = UInt64(try #require(page["end"]?.integerValue))
            }
            let oldRoot = range.rootHash
            #expect(Hex.encode(oldRoot) == proof["fromRoot"]?.stringValue)
            try MerkleProof.verifyConsistency(
                size1: old,
                size2: head.size,
                proof: hashes,
                root1: oldRoot,
                root2: head.rootHash
            )
        }

        @Test("/health answers ok with the tree size; /metrics is Prometheus text with the service's counters")
        func operations() async throws {
            let fixture = try await ServerFixture.shared.value
            let health = try await fixture.get("/health")
            #expect(health.status == 200)
            let head = try await fixture.request("HEAD", "/health")
            #expect(head.status == 200)
            #expect(head.body.isEmpty)
            #expect(try CanonicalJSON.decode(health.body)["status"]?.stringValue == "ok")
            _ = try await fixture.get("/v1/log")
            _ = try await fixture.get("/no/such/route")
            let metrics = try await fixture.get("/metrics")
            #expect(metrics.header("content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            for name in [
                "retrace_http_requests_total{", "retrace_http_request_duration_seconds_bucket{",
                "retrace_tree_size_entries ",
                "# TYPE retrace_appended_statements_total counter",
            ] {
                #expect(metrics.text.contains(name), "missing \(name)")
            }
            #expect(metrics.text.contains(#"route="/v1/log""#))
            #expect(metrics.text.contains(#"route="unmatched",method="GET",status="404""#))
            #expect(!metrics.text.contains(#"route="NotFound""#))
        }
    }
}

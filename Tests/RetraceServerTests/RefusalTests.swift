import CanonicalJSON
import LoopbackHTTP
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceSimulation
import Testing

extension ServerTests {
    /// Every kind of bad input gets the right status and an RFC 9457 problem document, and leaves the
    /// ledger exactly as it was.
    @Suite("Refusals over HTTP")
    struct RefusalTests {
        /// Sends `request`, checks its problem and that the tree did not grow.
        func refused(
            _ fixture: ServerFixture,
            status: Int,
            code: String,
            _ request: () async throws -> LoopbackResponse
        ) async throws -> ProblemDocument {
            let before = try fixture.treeSize()
            let response = try await request()
            let problem = try ProblemDocument(response)
            #expect(problem.status == status, "\(problem.detail)")
            #expect(problem.code == code, "\(problem.detail)")
            #expect(try fixture.treeSize() == before)
            #expect(!response.text.contains("/work/") && !response.text.contains("Swift/"), "nothing internal leaks")
            return problem
        }

        @Test("Malformed JSON is 400 malformed-request")
        func malformedJSON() async throws {
            let fixture = try await ServerFixture.shared.value
            _ = try await refused(fixture, status: 400, code: "malformed-request") {
                try await fixture.post("/v1/events", raw: Array(#"{"statement": {"type": "commission","#.utf8))
            }
            _ = try await refused(fixture, status: 400, code: "malformed-request") {
                try await fixture.post("/v1/events", raw: Array(#"{"n": 1.5}"#.utf8))  // floats are outside the profile
            }
            _ = try await refused(fixture, status: 400, code: "malformed-request") {
                try await fixture.post("/v1/events", raw: [])
            }
        }

        @Test("A JSON document that is not a signed statement is 400 malformed-statement")
        func notAStatement() async throws {
            let fixture = try await ServerFixture.shared.value
            _ = try await refused(fixture, status: 400, code: "malformed-statement") {
                try await fixture.post("/v1/events", json: ["statement": ["type": "commission"], "signature": "AA=="])
            }
            let problem = try await refused(fixture, status: 400, code: "malformed-statement") {
                let (_, good) = try fixture.commission("SRVR0001")
                return try await fixture.post("/v1/batches", json: [good.json, .integer(7)])
            }
            #expect(problem.json["statementIndex"]?.integerValue == 1)
            _ = try await refused(fixture, status: 400, code: "malformed-request") {
                try await fixture.post("/v1/batches", json: ["not": "an array"])
            }
            _ = try await refused(fixture, status: 400, code: "empty-batch") {
                try await fixture.post("/v1/batches", json: [])
            }
        }

        @Test("A body shorter than its Content-Length is refused and nothing is written")
        func truncatedBody() async throws {
            let fixture = try await ServerFixture.shared.value
            let (_, commission) = try fixture.commission("SRVR0002")
            let bytes = try CanonicalJSON.encode(commission.json)
            let before = try fixture.treeSize()
            let port = fixture.port
            let outcome: LoopbackResponse? = try await ServerFixture.offPool {
                let connection = try LoopbackConnection(port: port)
                try connection.send(
                    Array("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: \(bytes.count)\r\n\r\n".utf8)
                        + bytes.prefix(bytes.count / 2)
                )
                connection.finishSending()
                return try? connection.readResponse()  // the server may answer 400 or just close
            }
            if let outcome { #expect(try ProblemDocument(outcome).status == 400) }
            // The connection is gone either way; the server is still fine and wrote nothing.
            #expect(try fixture.treeSize() == before)
            #expect(try !fixture.contains(commission.id))
            #expect(try await fixture.get("/health").status == 200)
        }

        @Test("A stalled body is 408 after the body timeout, nothing written")
        func stalledBody() async throws {
            let fixture = try await ServerFixture.shared.value
            let before = try fixture.treeSize()
            let port = fixture.port
            let response = try await ServerFixture.offPool {
                let connection = try LoopbackConnection(port: port)
                try connection.send(
                    Array("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"a\"".utf8)
                )
                return try connection.readResponse()
            }
            let problem = try ProblemDocument(response)
            #expect(problem.status == 408)
            #expect(problem.code == "body-timeout")
            #expect(try fixture.treeSize() == before)
        }

        @Test("A wrong signature is 401 bad-signature")
        func wrongSignature() async throws {
            let fixture = try await ServerFixture.shared.value
            let (_, commission) = try fixture.commission("SRVR0003")
            var signature = commission.signature
            signature[5] ^= 0x01
            let forged = SignedStatement(statement: commission.statement, signature: signature)
            let problem = try await refused(fixture, status: 401, code: "bad-signature") {
                try await fixture.post("/v1/events", json: forged.json)
            }
            #expect(problem.json["rule"]?.stringValue == "T9 signature")
        }

        @Test("A key that is not in the roster is 403 untrusted-signer")
        func unknownKey() async throws {
            let fixture = try await ServerFixture.shared.value
            let stranger = try Ed25519PrivateKey.generate()
            let (_, commission) = try fixture.commission("SRVR0004")
            let original = commission.statement
            let statement = try Statement(
                type: original.type,
                product: original.product,
                previous: nil,
                batch: nil,
                signer: Digest(bytes: stranger.publicKey.fingerprint),
                time: original.time,
                location: nil,
                details: original.details
            )
            let signed = try SignedStatement.sign(statement, with: stranger)
            let problem = try await refused(fixture, status: 403, code: "untrusted-signer") {
                try await fixture.post("/v1/events", json: signed.json)
            }
            #expect(problem.json["rule"]?.stringValue == "T6 known-key")
        }

        @Test("An illegal transition is 422 rule-violation naming the rule")
        func illegalTransition() async throws {
            let fixture = try await ServerFixture.shared.value
            let (product, commission) = try fixture.commission("SRVR0005")
            #expect(try await fixture.post("/v1/events", json: commission.json).status == 201)
            // Recycling is the recycler's to record, and only after the item came back: refused twice over.
            let recycle = try fixture.parties.sign(
                .recycle,
                product: product,
                previous: commission.id,
                by: "northwind",
                at: ServerFixture.now,
                details: ["certificate": "X-1", "recoveredGrams": .object(["aluminium": 10])]
            )
            let problem = try await refused(fixture, status: 422, code: "rule-violation") {
                try await fixture.post("/v1/events", json: recycle.json)
            }
            #expect(problem.json["rule"] != nil)
            #expect(problem.json["product"]?.stringValue == product.digitalLink)
        }

        @Test(
            "An append that is not on the product's head is 409 chain-conflict (retryable); a replay is 409 duplicate"
        )
        func conflicts() async throws {
            let fixture = try await ServerFixture.shared.value
            let (product, commission) = try fixture.commission("SRVR0006")
            #expect(try await fixture.post("/v1/events", json: commission.json).status == 201)
            let first = try fixture.ship(product, after: commission.id, to: "fabrikam")
            let rival = try fixture.ship(product, after: commission.id, to: "tailspin")
            #expect(try await fixture.post("/v1/events", json: first.json).status == 201)
            let problem = try await refused(fixture, status: 409, code: "chain-conflict") {
                try await fixture.post("/v1/events", json: rival.json)
            }
            #expect(problem.json["retryable"] == .bool(true))
            _ = try await refused(fixture, status: 409, code: "duplicate") {
                try await fixture.post("/v1/events", json: first.json)
            }
            // Issue 16 point 19: the signature is checked before the duplicate test, so a replay
            // with one signature bit flipped is 401 bad-signature, not a harmless 409 retry.
            var flipped = first.signature
            flipped[0] ^= 0x01
            _ = try await refused(fixture, status: 401, code: "bad-signature") {
                try await fixture.post(
                    "/v1/events",
                    json: SignedStatement(statement: first.statement, signature: flipped).json
                )
            }
            // In a batch, a conflict found while committing names the statement that caused it.
            let (other, otherCommission) = try fixture.commission("SRVR0007")
            let inBatch = try await refused(fixture, status: 409, code: "chain-conflict") {
                try await fixture.post(
                    "/v1/batches",
                    json: [otherCommission.json, try fixture.ship(other, after: otherCommission.id).json, rival.json]
                )
            }
            #expect(inBatch.json["statementIndex"]?.integerValue == 2)
        }

        @Test("An oversized body is 413 too-large; a batch over the statement limit is 413 batch-too-large")
        func oversized() async throws {
            let fixture = try await ServerFixture.shared.value
            let big = [UInt8](repeating: 0x20, count: 70 * 1024) + Array("{}".utf8)
            _ = try await refused(fixture, status: 413, code: "too-large") {
                try await fixture.post("/v1/batches", raw: big)
            }
            let statements = try (0..<51).map { try fixture.commission("SRVO\(1000 + $0)").1 }
            _ = try await refused(fixture, status: 413, code: "batch-too-large") {
                try await fixture.post("/v1/batches", json: .array(statements.map(\.json)))
            }
        }

        @Test("Unknown products, routes and methods are 404 and 405 problems")
        func unknowns() async throws {
            let fixture = try await ServerFixture.shared.value
            _ = try await refused(fixture, status: 404, code: "not-found") {
                try await fixture.get("/v1/products/09506000134352/NOSUCHSERIAL")
            }
            _ = try await refused(fixture, status: 404, code: "not-found") {
                try await fixture.get("/v1/products/09506000134352/NOSUCHSERIAL/bundle")
            }
            _ = try await refused(fixture, status: 404, code: "not-found") { try await fixture.get("/v2/anything") }
            _ = try await refused(fixture, status: 405, code: "method-not-allowed") {
                try await fixture.request("DELETE", "/v1/events")
            }
            _ = try await refused(fixture, status: 400, code: "invalid-scan") {
                try await fixture.get("/v1/products/09506000134353/ABC")  // wrong check digit
            }
            _ = try await refused(fixture, status: 404, code: "not-found") {
                try await fixture.get("/v1/proofs/inclusion?event=" + String(repeating: "0", count: 64))
            }
            _ = try await refused(fixture, status: 400, code: "malformed-request") {
                try await fixture.get("/v1/proofs/inclusion?index=abc")
            }
            // Issue 16 point 18: only canonical decimal integers name an index.
            for spelling in ["+1", "%2B1", "01", "-0", "1%20", "%201", "0x1", ""] {
                _ = try await refused(fixture, status: 400, code: "malformed-request") {
                    try await fixture.get("/v1/proofs/inclusion?index=\(spelling)")
                }
            }
            #expect(try await fixture.get("/v1/proofs/inclusion?index=1").status == 200)
            _ = try await refused(fixture, status: 400, code: "malformed-request") {
                try await fixture.get("/v1/proofs/consistency?from=0")
            }
            // Found by the spec review: this start once overflowed and killed the server.
            _ = try await refused(fixture, status: 404, code: "not-found") {
                try await fixture.get("/v1/entries?start=\(UInt64.max)")
            }
            #expect(try await fixture.get("/health").status == 200)
        }

        @Test("A dock request that is not a scan, or has unknown members, is 400")
        func badDockRequests() async throws {
            let fixture = try await ServerFixture.shared.value
            _ = try await refused(fixture, status: 400, code: "invalid-scan") {
                try await fixture.post("/v1/verdicts", json: ["scan": "hello"])
            }
            _ = try await refused(fixture, status: 400, code: "malformed-request") {
                try await fixture.post("/v1/verdicts", json: ["scan": "(01)09506000134352(21)A1", "colour": "red"])
            }
            _ = try await refused(fixture, status: 400, code: "malformed-request") {
                try await fixture.post("/v1/verdicts", json: ["rma": "R-1"])
            }
        }
    }
}

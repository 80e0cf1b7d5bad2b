import CanonicalJSON
import LoopbackHTTP
import MerkleLog
import RetraceAudit
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceSimulation
import Testing

extension ServerTests {
    /// Appends over HTTP: accepted statements are in the file when the client hears 201, and every
    /// bad input gets its problem document with nothing written.
    @Suite("Appends over HTTP")
    struct AppendRouteTests {
        @Test("One signed statement is appended, and the receipt's inclusion proof verifies under /checkpoint")
        func appendOne() async throws {
            let fixture = try await ServerFixture.shared.value
            let (_, commission) = try fixture.commission("SRVA0001")
            let response = try await fixture.post("/v1/events", json: commission.json)
            #expect(response.status == 201, "\(response.text)")
            let receipt = try CanonicalJSON.decode(response.body)
            let appended = try #require(receipt["appended"]?.arrayValue?.first)
            #expect(appended["event"]?.stringValue == commission.id.hex)
            #expect(try fixture.contains(commission.id))

            let index = try #require(appended["index"]?.integerValue)
            let note = try await fixture.get("/checkpoint").text
            let checkpoint = try Checkpoint.open(
                note,
                verifiers: [fixture.parties.log.verifier],
                origin: TestParties.origin
            )
            #expect(checkpoint.size > UInt64(index))
            let proof = try CanonicalJSON.decode(
                try await fixture.get("/v1/proofs/inclusion?event=\(commission.id.hex)&treeSize=\(checkpoint.size)")
                    .body
            )
            #expect(proof["index"]?.integerValue == index)
            let path = try #require(proof["proof"]?.arrayValue).compactMap { $0.stringValue.flatMap(Hex.decode) }
            let leaf = try #require(proof["leafHash"]?.stringValue.flatMap(Hex.decode))
            try MerkleProof.verifyInclusion(
                leafHash: leaf,
                leafIndex: UInt64(index),
                treeSize: checkpoint.size,
                proof: path,
                rootHash: checkpoint.rootHash
            )
        }

        @Test("A statement in another JSON spelling is appended as the same event, stored in canonical form")
        func otherSpelling() async throws {
            let fixture = try await ServerFixture.shared.value
            let (_, commission) = try fixture.commission("SRVS0001")
            let statement = String(decoding: try CanonicalJSON.encode(commission.statement.json), as: UTF8.self)
            // Members out of order, with white space: not canonical, so the lenient reader takes it.
            let spelled =
                "{\n  \"signature\" : \"\(Base64.encode(commission.signature))\",\n  \"statement\" : "
                + statement.replacingOccurrences(of: "\":", with: "\" : ") + "\n}\n"
            #expect((try? SignedStatement(parsing: Array(spelled.utf8))) == nil)
            let response = try await fixture.post("/v1/events", raw: Array(spelled.utf8))
            #expect(response.status == 201, "\(response.text)")
            let receipt = try CanonicalJSON.decode(response.body)
            let appended = try #require(receipt["appended"]?.arrayValue?.first)
            #expect(appended["event"]?.stringValue == commission.id.hex)
            let index = UInt64(try #require(appended["index"]?.integerValue))
            let stored = try #require(try fixture.ledger.store.read { try $0.entry(at: index) })
            #expect(try LogEntry(parsing: stored.bytes).signed == commission)
            #expect(
                stored.bytes
                    == LogEntry(received: Timestamp(secondsSinceEpoch: stored.received), signed: commission)
                    .canonicalBytes
            )
        }

        @Test("A batch is all-or-nothing: one illegal statement refuses it with 422 naming the statement and rule")
        func batchAllOrNothing() async throws {
            let fixture = try await ServerFixture.shared.value
            let (product, commission) = try fixture.commission("SRVB0001")
            let ship = try fixture.ship(product, after: commission.id)
            // Selling a product that is in transit, not in the retailer's stock, breaks the state table.
            let sell = try fixture.parties.sign(
                .sell,
                product: product,
                previous: ship.id,
                by: "fabrikam",
                at: ServerFixture.now,
                details: ["orderDigest": .string(String(repeating: "ab", count: 32))]
            )
            let before = try fixture.treeSize()
            let response = try await fixture.post("/v1/batches", json: .array([commission.json, ship.json, sell.json]))
            let problem = try ProblemDocument(response)
            #expect(problem.status == 422)
            #expect(problem.code == "rule-violation")
            #expect(problem.json["statementIndex"]?.integerValue == 2)
            #expect(problem.json["rule"]?.stringValue?.hasPrefix("L") == true)
            #expect(try fixture.treeSize() == before)
            #expect(try !fixture.contains(commission.id))

            let accepted = try await fixture.post("/v1/batches", json: .array([commission.json, ship.json]))
            #expect(accepted.status == 201, "\(accepted.text)")
            #expect(try fixture.treeSize() == before + 2)
        }

        @Test("Concurrent appends from many clients: all acknowledged, none lost or duplicated")
        func concurrentAppends() async throws {
            let fixture = try await ServerFixture.shared.value
            let statements = try (0..<40).map { try fixture.commission("SRVC\(1000 + $0)").1 }
            let before = try fixture.treeSize()
            let responses = try await withThrowingTaskGroup(of: LoopbackResponse.self) { group in
                for statement in statements {
                    group.addTask { try await fixture.post("/v1/events", json: statement.json) }
                }
                var all: [LoopbackResponse] = []
                for try await response in group { all.append(response) }
                return all
            }
            #expect(responses.allSatisfy { $0.status == 201 })
            let indexes = try responses.map {
                try #require(CanonicalJSON.decode($0.body)["appended"]?.arrayValue?.first?["index"]?.integerValue)
            }
            #expect(Set(indexes).count == statements.count)
            for statement in statements { #expect(try fixture.contains(statement.id)) }
            #expect(try fixture.treeSize() >= before + UInt64(statements.count))
        }

        @Test("The ledger the server wrote passes a full audit")
        func auditAfterServing() async throws {
            let fixture = try await ServerFixture.shared.value
            let (_, commission) = try fixture.commission("SRVD0001")
            #expect(try await fixture.post("/v1/events", json: commission.json).status == 201)
            let report = try Auditor(
                trustRoots: [fixture.parties.governance.verifier],
                logKey: fixture.parties.log.verifier,
                origin: TestParties.origin
            ).audit(store: fixture.ledger.store)
            #expect(report.passed, "\(report)")
        }
    }
}

import CanonicalJSON
import LoopbackHTTP
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceSimulation
import RetraceVerification
import Testing

extension ServerTests {
    /// Dock verdicts, histories, bundles and recycling claims over HTTP give the same answers as the
    /// library (and so as the CLI), and the bundle a buyer downloads verifies with the root keys alone.
    @Suite("Verification over HTTP")
    struct VerificationRouteTests {
        @Test("Every planted demo scan gets its planted verdict from POST /v1/verdicts")
        func demoVerdicts() async throws {
            let fixture = try await ServerFixture.shared.value
            #expect(fixture.script.scans.count == 11)
            for scan in fixture.script.scans {
                var request: [String: JSONValue] = [
                    "scan": .string(scan.scan), "dock": .string(scan.dock), "now": .string(scan.time.description),
                ]
                if let rma = scan.claimedRMA { request["rma"] = .string(rma) }
                if let digest = scan.claimedOrderDigest { request["orderDigest"] = .string(digest.hex) }
                let response = try await fixture.post("/v1/verdicts", json: .object(JSONObject(request)))
                #expect(response.status == 200, "\(response.text)")
                let verdict = try CanonicalJSON.decode(response.body)
                #expect(verdict["verdict"]?.stringValue == scan.expectedVerdict, "\(scan.story): \(response.text)")
                #expect(verdict["returnable"]?.boolValue == (scan.expectedVerdict == "genuine-returnable"))
            }
        }

        @Test("History JSON is the library's ProductHistory document, byte for byte")
        func history() async throws {
            let fixture = try await ServerFixture.shared.value
            let showcase = fixture.script.showcase
            let response = try await fixture.get("/v1/products/\(showcase.gtin.digits)/\(showcase.serial.value)")
            #expect(response.status == 200)
            #expect(response.header("content-type") == "application/json")
            let verifier = Verifier(
                store: fixture.ledger.store,
                anchors: TrustAnchors(
                    governance: [fixture.parties.governance.verifier],
                    logKey: fixture.parties.log.verifier,
                    origin: TestParties.origin
                ),
                clock: { ServerFixture.now }
            )
            let expected = try verifier.history(scan: showcase.digitalLink)
            #expect(response.body == (try CanonicalJSON.encode(expected.json)))
            #expect(expected.events.count > 5)
        }

        @Test("The downloaded bundle verifies offline with only the governance and log keys")
        func bundleDownload() async throws {
            let fixture = try await ServerFixture.shared.value
            let showcase = fixture.script.showcase
            let response = try await fixture.get("/v1/products/\(showcase.gtin.digits)/\(showcase.serial.value)/bundle")
            #expect(response.status == 200)
            #expect(response.header("content-disposition")?.hasPrefix("attachment; filename=\"retrace-bundle-") == true)
            let evidence = EvidenceVerifier(
                anchors: TrustAnchors(
                    governance: [fixture.parties.governance.verifier],
                    logKey: fixture.parties.log.verifier
                )
            )
            let verified = try evidence.verify(bytes: response.body)
            #expect(verified.products.contains { $0.product == showcase })

            var tampered = response.body
            tampered[tampered.count / 2] ^= 0x01
            #expect(throws: VerificationError.self) { try evidence.verify(bytes: tampered) }
        }

        @Test(
            "Recycling: by product, by certificate, and a claim with an uploaded bundle (tampered → not verified, not a bundle → 400)"
        )
        func recycling() async throws {
            let fixture = try await ServerFixture.shared.value
            let recycled = try #require(fixture.script.recycledProducts.first)
            let path = "/v1/products/\(recycled.gtin.digits)/\(recycled.serial.value)"
            let byProduct = try CanonicalJSON.decode(try await fixture.get(path + "/recycling").body)
            #expect(byProduct["status"]?.stringValue == "verified", "\(byProduct)")

            let certificate = fixture.script.recyclingCertificate
            let encoded = certificate.addingPercentEncodingForPath()
            let byCertificate = try await fixture.get("/v1/recycling/certificates/\(encoded)")
            #expect(byCertificate.status == 200, "\(byCertificate.text)")
            let proofs = try #require(CanonicalJSON.decode(byCertificate.body)["proofs"]?.arrayValue)
            #expect(proofs.count == fixture.script.recycledProducts.count)
            #expect(proofs.allSatisfy { $0["status"]?.stringValue == "verified" })

            let bundle = try CanonicalJSON.decode(try await fixture.get(path + "/bundle").body, options: .lenient)
            let claim = try await fixture.post(
                "/v1/recycling/verify",
                json: ["scan": .string(recycled.digitalLink), "bundle": bundle]
            )
            #expect(claim.status == 200, "\(claim.text)")
            #expect(try CanonicalJSON.decode(claim.body)["verified"] == .bool(true))

            // Change one signed field of the bundle: the claim no longer verifies.
            let text = String(decoding: try CanonicalJSON.encode(bundle), as: UTF8.self)
            let forged = try CanonicalJSON.decode(Array(text.replacingFirst("\"recycle\"", with: "\"dispose\"").utf8))
            let refused = try await fixture.post(
                "/v1/recycling/verify",
                json: ["scan": .string(recycled.digitalLink), "bundle": forged]
            )
            #expect(refused.status == 200, "\(refused.text)")
            let answer = try CanonicalJSON.decode(refused.body)
            #expect(answer["verified"] == .bool(false))
            #expect(answer["status"]?.stringValue == "integrity-failure")
            let notABundle = try ProblemDocument(
                try await fixture.post(
                    "/v1/recycling/verify",
                    json: ["scan": .string(recycled.digitalLink), "bundle": ["format": "x"]]
                )
            )
            #expect(notABundle.status == 400)
            #expect(notABundle.code == "malformed-bundle")

            _ = try ProblemDocument(try await fixture.get("/v1/recycling/certificates/NO-SUCH-CERT"))
        }

        @Test("The certificate index is built in the background after start: the first lookup reads no entry")
        func certificateIndexAhead() async throws {
            let fixture = try await ServerFixture(maxBodyBytes: 64 * 1024)  // its own ledger: nothing else appends
            defer { Task { await fixture.server.stop() } }
            let verifier = fixture.service.verifier
            let size = Int(try fixture.treeSize())
            let deadline = ContinuousClock.now + .seconds(20)
            while verifier.certificateIndexEntriesRead < size, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(verifier.certificateIndexEntriesRead == size, "the background build did not finish")
            let encoded = fixture.script.recyclingCertificate.addingPercentEncodingForPath()
            let answer = try await fixture.get("/v1/recycling/certificates/\(encoded)")
            #expect(answer.status == 200, "\(answer.text)")
            #expect(verifier.certificateIndexEntriesRead == size, "the lookup read the log again")
        }
    }

}

extension String {
    fileprivate func addingPercentEncodingForPath() -> String {
        var out = ""
        for byte in utf8 {
            let c = Character(UnicodeScalar(byte))
            if c.isLetter || c.isNumber || "-._~".contains(c) {
                out.append(c)
            } else {
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }

    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }

    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}

import CanonicalJSON
import Foundation
import LoopbackHTTP
import MerkleLog
import RetraceCrypto
import RetraceEvents
import RetraceIdentity
import RetraceLedger
import RetraceSimulation
import RetraceStorage
import RetraceWitness
import Testing

/// `retrace serve` and three `retrace witness` processes talking C2SP tlog-witness over loopback,
/// with a 2-of-3 policy: every claim here is checked on what separate processes answered.
@Suite("Witness network: serve + 3 witnesses over loopback", .serialized)
struct WitnessNetworkTests {
    /// A scratch folder with a new ledger whose log key is named after its origin, the key files,
    /// and the three witnesses' cosigner keys.
    struct Setup {
        let directory: URL
        let db: String
        let parties: TestParties
        let logSigner: NoteSigner
        let witnessKeys: [CosignerSigner]

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "retrace-witness-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            db = directory.appendingPathComponent("ledger.sqlite").path
            parties = try TestParties()
            logSigner = try NoteSigner(name: TestParties.origin, privateKey: parties.log.privateKey)
            do {
                _ = try Ledger.create(
                    store: try SQLiteLedgerStore.create(path: db),
                    origin: TestParties.origin,
                    logSigner: logSigner,
                    governance: [parties.governance.verifier],
                    roster: parties.signedRoster(time: DemoStory.start)
                )
            }
            witnessKeys = try (1...3).map { try CosignerSigner.generate(name: "witness\($0).test") }
            try write("log.key", logSigner.privateKeyText + "\n")
            try write("log.pub", logSigner.verifier.description + "\n")
            try write("governance.pub", parties.governance.verifier.description + "\n")
            for (n, key) in witnessKeys.enumerated() { try write("w\(n + 1).key", key.privateKeyText + "\n") }
        }

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path(name)))
        }

        func startWitness(_ n: Int, port: Int = 0) async throws -> ChildProcess {
            try await ChildProcess(
                [
                    "witness", "--key", path("w\(n).key"), "--log", path("log.pub"), "--state", path("w\(n).state"),
                    "--port", "\(port)", "--log-level", "error",
                ],
                stderr: path("w\(n).log")
            )
        }

        /// A C2SP policy naming the three witnesses at `ports` and the quorum line given.
        func writePolicy(ports: [Int], group: String) throws -> WitnessPolicy {
            var text = "log \(logSigner.verifier.description)\n"
            for (n, key) in witnessKeys.enumerated() {
                text += "witness W\(n + 1) \(key.verifier.description) http://127.0.0.1:\(ports[n])/\n"
            }
            text += "group quorum-group \(group) W1 W2 W3\nquorum quorum-group\n"
            try write("policy.txt", text)
            return try WitnessPolicy(parsing: text)
        }

        func startServe(_ extra: [String] = [], witnessed: Bool = true) async throws -> ChildProcess {
            try await ChildProcess(
                ["serve", "--db", db, "--port", "0", "--log-key", path("log.key"), "--log-level", "error"]
                    + (witnessed ? ["--witness-policy", path("policy.txt")] : []) + extra,
                stderr: path("serve.log")
            )
        }

        /// A commission of a fresh serial, posted to the log; returns the product.
        func commission(_ serial: String, via serve: ChildProcess) async throws -> SGTIN {
            let model = SimulatedModel.phoneX
            let product = try model.product(serial: serial)
            let signed = try parties.sign(
                .commission,
                product: product,
                previous: nil,
                by: model.brand,
                at: DemoStory.start.adding(seconds: 86_400),
                details: [
                    "massGrams": .integer(model.massGrams),
                    "materials": .object(JSONObject(model.materials.mapValues { JSONValue.integer($0) })),
                ]
            )
            let response = try await serve.request(
                "POST",
                "/v1/events",
                body: try CanonicalJSON.encode(signed.json),
                contentType: "application/json"
            )
            #expect(response.status == 201, "\(response.text)")
            return product
        }

        /// Polls `/checkpoint` until it is cosigned at `size` by every witness in `witnesses`.
        func awaitCosigned(
            _ serve: ChildProcess,
            policy: WitnessPolicy,
            size: UInt64,
            by witnesses: Set<String>
        ) async throws
            -> WitnessedCheckpoint
        {
            var last = ""
            for _ in 0..<600 {
                last = try await serve.request("GET", "/checkpoint").text
                if let witnessed = try? WitnessedCheckpoint(note: last, policy: policy),
                    witnessed.checkpoint.size == size, witnesses.isSubset(of: Set(witnessed.witnessings.map(\.witness)))
                {
                    return witnessed
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw ChildFailure(
                description: "checkpoint \(size) was never cosigned by \(witnesses.sorted()); last: \(last)"
            )
        }

        func treeSize(_ serve: ChildProcess) async throws -> UInt64 {
            UInt64(
                try CanonicalJSON.decode(try await serve.request("GET", "/v1/log").body)["treeSize"]?.integerValue ?? -1
            )
        }

        /// A checkpoint the log key signs but the log never made (the test plays a dishonest operator).
        func forged(size: UInt64, seed: UInt8) throws -> String {
            try Checkpoint(origin: TestParties.origin, size: size, rootHash: SHA256.hash([seed]))
                .sign(with: logSigner).serialized
        }
    }

    static func addCheckpoint(
        _ witness: ChildProcess,
        old: UInt64,
        proof: [[UInt8]] = [],
        note: String
    ) async throws
        -> LoopbackResponse
    {
        try await witness.request(
            "POST",
            "/add-checkpoint",
            body: Array(AddCheckpointRequest(oldSize: old, proof: proof, checkpoint: note).body.utf8)
        )
    }

    @Test(
        "2 of 3: a quorum forms; split view and rollback are refused by every witness; a restarted witness keeps its state; stale evidence is refused"
    )
    func network() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        var witnesses = [
            try await setup.startWitness(1), try await setup.startWitness(2), try await setup.startWitness(3),
        ]
        let policy = try setup.writePolicy(ports: witnesses.map(\.port), group: "2")
        let serve = try await setup.startServe()

        // 1. A commission: its checkpoint is sent to the three witnesses; all cosign.
        let product = try await setup.commission("WITN0001", via: serve)
        let size = try await setup.treeSize(serve)
        let cosigned = try await setup.awaitCosigned(serve, policy: policy, size: size, by: ["W1", "W2", "W3"])
        #expect(cosigned.quorumMet)
        #expect(cosigned.summary.hasSuffix("by 3 of 3"))

        // 2. Split view: the log key signs a second, different tree of the same size. Every
        //    witness already holds that size with the true root: 422, and no cosignature exists.
        let fork = try setup.forged(size: size, seed: 1)
        for witness in witnesses {
            let answer = try await Self.addCheckpoint(witness, old: size, note: fork)
            #expect(answer.status == 422, "\(answer.text)")
            #expect(answer.text.contains("split view"))
        }
        // A forked tree one leaf larger, with a made-up proof, is no better.
        let grownFork = try setup.forged(size: size + 1, seed: 2)
        for witness in witnesses {
            let answer = try await Self.addCheckpoint(witness, old: size, proof: [SHA256.hash([3])], note: grownFork)
            #expect(answer.status == 422, "\(answer.text)")
        }
        #expect(try !WitnessedCheckpoint(note: fork, policy: policy).quorumMet)

        // 3. Rollback: a smaller tree is answered 409 with the size each witness holds.
        let rollback = try setup.forged(size: size - 1, seed: 4)
        for witness in witnesses {
            let answer = try await Self.addCheckpoint(witness, old: size - 1, note: rollback)
            #expect(answer.status == 409)
            #expect(answer.header("Content-Type") == "text/x.tlog.size")
            #expect(answer.text == "\(size)\n")
            let claimed = try await Self.addCheckpoint(witness, old: size, note: rollback)
            #expect(claimed.status == 400, "old size above the checkpoint's: \(claimed.text)")
        }

        // 4. Unknown log (404) and a checkpoint signed by another key under the log's name (403).
        let stranger = try NoteSigner.generate(name: "elsewhere.test/log")
        let foreign = try Checkpoint(origin: "elsewhere.test/log", size: 1, rootHash: SHA256.hash([5])).sign(
            with: stranger
        )
        #expect(try await Self.addCheckpoint(witnesses[0], old: 0, note: foreign.serialized).status == 404)
        let impostor = try NoteSigner.generate(name: TestParties.origin)
        let impostorNote = try Checkpoint(origin: TestParties.origin, size: size + 1, rootHash: SHA256.hash([6])).sign(
            with: impostor
        )
        #expect(try await Self.addCheckpoint(witnesses[0], old: size, note: impostorNote.serialized).status == 403)

        // 5. Restart witness 2 on the same port with the same state file: it still holds `size`.
        let port2 = witnesses[1].port
        #expect(await witnesses[1].stop() == 0)
        witnesses[1] = try await setup.startWitness(2, port: port2)
        let probe = try await Self.addCheckpoint(witnesses[1], old: 0, note: try setup.forged(size: size + 5, seed: 7))
        #expect(probe.status == 409)
        #expect(probe.text == "\(size)\n")
        // The log's next checkpoint is consistent with what it holds, so it cosigns again.
        _ = try await setup.commission("WITN0002", via: serve)
        let size2 = try await setup.treeSize(serve)
        let again = try await setup.awaitCosigned(serve, policy: policy, size: size2, by: ["W1", "W2", "W3"])
        #expect(again.quorumMet)

        // 6. Freshness: the product's bundle carries the cosigned checkpoint; judged 10 minutes
        //    after the witnesses signed it passes, 2 hours after with --max-age 1h it is refused.
        let bundle = try await serve.request(
            "GET",
            "/v1/products/\(product.gtin.digits)/\(product.serial.value)/bundle"
        )
        #expect(bundle.status == 200)
        try Data(bundle.body).write(to: URL(fileURLWithPath: setup.path("bundle.json")))
        let note = try #require(try CanonicalJSON.decode(Array(bundle.body.dropLast()))["checkpoint"]?.stringValue)
        let witnessedAt = try #require(try WitnessedCheckpoint(note: note, policy: policy).witnessedAt)
        func at(_ seconds: UInt64) -> String { Timestamp(secondsSinceEpoch: Int64(seconds)).description }
        let verify = [
            "verify-bundle", setup.path("bundle.json"), "--governance-key", setup.path("governance.pub"), "--log-key",
            setup.path("log.pub"), "--witness-policy", setup.path("policy.txt"), "--max-age", "1h",
        ]
        let fresh = try await runCLI(verify + ["--now", at(witnessedAt + 600)])
        #expect(fresh.status == 0, "\(fresh.output)")
        #expect(
            fresh.output.contains("witnessed \(WitnessedCheckpoint.minuteUTC(witnessedAt)) by 3 of 3"),
            "\(fresh.output)"
        )
        let stale = try await runCLI(verify + ["--now", at(witnessedAt + 7_200)])
        #expect(stale.status == 1, "\(stale.output)")
        #expect(stale.output.contains("STALE"), "\(stale.output)")

        // The product page says who witnessed the log's checkpoint.
        let page = try await serve.request("GET", "/01/\(product.gtin.digits)/21/\(product.serial.value)")
        #expect(page.status == 200)
        #expect(page.text.contains("Independent witnesses: witnessed "), "\(page.text)")
        #expect(page.text.contains("by 3 of 3 (checkpoint \(size2))"))

        // 7. One entry as a C2SP tlog-proof with the cosigned checkpoint, verified offline.
        let proofPath = setup.path("entry.tlog-proof")
        let prove = try await runCLI(["prove", "--db", setup.db, "--index", "1", "--tlog-proof", proofPath])
        #expect(prove.status == 0, "\(prove.output)")
        let checked = try await runCLI(["verify-tlog-proof", proofPath, "--witness-policy", setup.path("policy.txt")])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.contains("by 3 of 3"), "\(checked.output)")

        for witness in witnesses { #expect(await witness.stop() == 0) }
        #expect(await serve.stop() == 0)
    }

    @Test(
        "--require-quorum: with one of three witnesses up and a policy needing all, /checkpoint is never published (503)"
    )
    func requireQuorum() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        let witness = try await setup.startWitness(1)
        // Ports 1 and 2: nothing listens there, so W2 and W3 never answer.
        let policy = try setup.writePolicy(ports: [witness.port, 1, 2], group: "all")
        let serve = try await setup.startServe(["--require-quorum"])
        _ = try await setup.commission("WITQ0001", via: serve)
        let size = try await setup.treeSize(serve)
        // Wait until W1 has cosigned the newest checkpoint (its monitoring endpoint shows it) …
        let originHash = Hex.encode(SHA256.hash(Array(TestParties.origin.utf8)))
        var held = ""
        for _ in 0..<600 {
            held = try await witness.request("GET", "/\(originHash)/checkpoint").text
            if (try? Checkpoint(parsing: SignedNote(parsing: held).text))?.size == size { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try Checkpoint(parsing: SignedNote(parsing: held).text).size == size)
        #expect(try WitnessedCheckpoint(note: held, policy: policy).witnessings.map(\.witness) == ["W1"])
        // … yet the log publishes nothing: one cosignature is not the quorum "all of 3".
        let published = try await serve.request("GET", "/checkpoint")
        #expect(published.status == 503)
        #expect(published.text.contains("no-witnessed-checkpoint"))
        // Appends are still acknowledged: gathering never blocks the commit path.
        _ = try await setup.commission("WITQ0002", via: serve)
        #expect(try await setup.treeSize(serve) == size + 1)
        #expect(await witness.stop() == 0)
        #expect(await serve.stop() == 0)
    }

    @Test("A witness whose state file is damaged refuses to start (exit 2) rather than forget what it cosigned")
    func damagedState() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        try setup.write("w1.state", "{\"retrace.test/demo\": {\"size\": ")
        let started = try await runCLI(
            [
                "witness", "--key", setup.path("w1.key"), "--log", setup.path("log.pub"), "--state",
                setup.path("w1.state"),
                "--port", "0",
            ])
        #expect(started.status == 2, "\(started.output)")
        #expect(started.output.contains("w1.state"), "\(started.output)")
        // A log key given as the witness's own key is refused with the reason.
        let wrongKey = try await runCLI(
            [
                "witness", "--key", setup.path("log.key"), "--log", setup.path("log.pub"), "--state",
                setup.path("w2.state"),
                "--port", "0",
            ])
        #expect(wrongKey.status == 2 && wrongKey.output.contains("keygen --cosigner"), "\(wrongKey.output)")
    }

    @Test(
        "An auditing witness (--audit-url) cosigns after checking the entries it fetched, and refuses a checkpoint whose entries the log serves differently"
    )
    func auditingWitness() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        // A read-only mirror of the ledger file is where the auditing witness fetches entries.
        let mirror = try await ChildProcess(
            ["serve", "--db", setup.db, "--port", "0", "--read-only", "--log-level", "error"],
            stderr: setup.path("mirror.log")
        )
        let auditing = try await ChildProcess(
            [
                "witness", "--key", setup.path("w1.key"), "--log", setup.path("log.pub"), "--state",
                setup.path("w1.state"),
                "--port", "0", "--log-level", "error", "--audit-url", "http://127.0.0.1:\(mirror.port)",
            ],
            stderr: setup.path("w1.log")
        )
        let others = [try await setup.startWitness(2), try await setup.startWitness(3)]
        let policy = try setup.writePolicy(ports: [auditing.port] + others.map(\.port), group: "all")
        let serve = try await setup.startServe()
        _ = try await setup.commission("AUDT0001", via: serve)
        _ = try await setup.commission("AUDT0002", via: serve)
        let size = try await setup.treeSize(serve)
        let cosigned = try await setup.awaitCosigned(serve, policy: policy, size: size, by: ["W1", "W2", "W3"])
        #expect(cosigned.quorumMet)
        let audited = try String(contentsOfFile: setup.path("w1.state.audited"), encoding: .utf8)
        #expect(audited.contains("\"size\":\(size)"), "\(audited)")

        // The same log key signs a forked ledger; an auditing witness reading the fork's entries
        // refuses the honest checkpoint (its entries do not hash to that root) and takes the fork's.
        let forkPath = setup.path("fork.sqlite")
        let fork = try Ledger.create(
            store: try SQLiteLedgerStore.create(path: forkPath),
            origin: TestParties.origin,
            logSigner: setup.logSigner,
            governance: [setup.parties.governance.verifier],
            roster: setup.parties.signedRoster(time: DemoStory.start)
        )
        let model = SimulatedModel.phoneX
        for serial in ["FORK0001", "FORK0002"] {
            _ = try fork.append([
                try setup.parties.sign(
                    .commission,
                    product: try model.product(serial: serial),
                    previous: nil,
                    by: model.brand,
                    at: DemoStory.start.adding(seconds: 86_400),
                    details: [
                        "massGrams": .integer(model.massGrams),
                        "materials": .object(JSONObject(model.materials.mapValues { JSONValue.integer($0) })),
                    ]
                )
            ])
        }
        let forkMirror = try await ChildProcess(
            ["serve", "--db", forkPath, "--port", "0", "--read-only", "--log-level", "error"],
            stderr: setup.path("fork.log")
        )
        let fooled = try await ChildProcess(
            [
                "witness", "--key", setup.path("w2.key"), "--log", setup.path("log.pub"), "--state",
                setup.path("w4.state"),
                "--port", "0", "--log-level", "error", "--audit-url", "http://127.0.0.1:\(forkMirror.port)",
            ],
            stderr: setup.path("w4.log")
        )
        let honest = try await serve.request("GET", "/checkpoint").text
        let refused = try await Self.addCheckpoint(fooled, old: 0, note: honest)
        #expect(refused.status == 422, "\(refused.text)")
        #expect(refused.text.contains("do not check out"), "\(refused.text)")
        let forkNote = try #require(try fork.store.read { try $0.latestCheckpoint()?.note })
        let accepted = try await Self.addCheckpoint(fooled, old: 0, note: forkNote)
        #expect(accepted.status == 200, "\(accepted.text)")

        for process in [fooled, forkMirror, serve, auditing, mirror] + others { #expect(await process.stop() == 0) }
    }

    @Test(
        "A witness that was down when the log committed cosigns the newest checkpoint once it is back, with no new commit"
    )
    func lateWitness() async throws {
        let setup = try Setup()
        defer { try? FileManager.default.removeItem(at: setup.directory) }
        var witnesses = [
            try await setup.startWitness(1), try await setup.startWitness(2), try await setup.startWitness(3),
        ]
        let policy = try setup.writePolicy(ports: witnesses.map(\.port), group: "all")
        let port3 = witnesses[2].port
        #expect(await witnesses[2].stop() == 0)
        let serve = try await setup.startServe(["--require-quorum"])
        _ = try await setup.commission("LATE0001", via: serve)
        let size = try await setup.treeSize(serve)
        // Wait until W1 holds the new size: the round for it has asked every witness, W3 in vain.
        let originHash = Hex.encode(SHA256.hash(Array(TestParties.origin.utf8)))
        for _ in 0..<600 {
            let held = try await witnesses[0].request("GET", "/\(originHash)/checkpoint").text
            if (try? Checkpoint(parsing: SignedNote(parsing: held).text))?.size == size { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await serve.request("GET", "/checkpoint").status == 503)
        witnesses[2] = try await setup.startWitness(3, port: port3)
        let cosigned = try await setup.awaitCosigned(serve, policy: policy, size: size, by: ["W1", "W2", "W3"])
        #expect(cosigned.quorumMet)
        for process in witnesses + [serve] { #expect(await process.stop() == 0) }
    }
}

import Foundation
import RetraceCrypto
import Testing

/// `spec/vectors/ed25519-edge-cases.json`: which Ed25519 signatures Retrace accepts (spec/format.md
/// §1.3). Every verifier of Retrace evidence must give the file's `valid` answer for every case, so
/// this suite fails as soon as the wrapper (or the libcrypto under it) answers differently for any
/// of them: the "Taming the many EdDSAs" cases, the ZIP 215 small-order set, unreduced scalars,
/// undecodable points, wrong lengths and the RFC 8032 §7.1 vectors.
@Suite("Ed25519 acceptance rules (spec/vectors/ed25519-edge-cases.json)")
struct Ed25519EdgeCaseTests {
    struct EdgeCase: Decodable, Sendable, CustomTestStringConvertible {
        let name, group, source, message, publicKey, signature, reason: String
        let valid: Bool
        let goCryptoEd25519: Bool
        let zip215: Bool?
        var testDescription: String { name }
    }

    struct File: Decodable { let cases: [EdgeCase] }

    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../spec/vectors/ed25519-edge-cases.json").standardized

    static func load() throws -> [EdgeCase] {
        try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }

    /// Loaded once for the parameterised test; ``theFileHoldsEveryGroup()`` fails if it is empty.
    static let cases: [EdgeCase] = (try? load()) ?? []

    /// The wrapper's answer: a key it refuses to parse (only a length other than 32 bytes) is
    /// "not valid", like a signature that does not verify.
    static func wrapperAccepts(_ item: EdgeCase) throws -> Bool {
        let message = try #require(Hex.decode(item.message), "message of \(item.name) is not hex")
        let key = try #require(Hex.decode(item.publicKey), "public key of \(item.name) is not hex")
        let signature = try #require(Hex.decode(item.signature), "signature of \(item.name) is not hex")
        guard let verifier = try? Ed25519PublicKey(rawRepresentation: key) else {
            #expect(key.count != Ed25519.publicKeyByteCount, "a 32-byte key was refused: \(item.name)")
            return false
        }
        return verifier.isValidSignature(signature, for: message)
    }

    @Test("the wrapper gives the pinned answer for every case", arguments: cases)
    func pinnedAnswer(item: EdgeCase) throws {
        #expect(try Self.wrapperAccepts(item) == item.valid, "\(item.name): \(item.reason)")
    }

    @Test("the file holds every group, the 12 speccheck cases, the 5 RFC 8032 vectors and 196 small-order pairs")
    func theFileHoldsEveryGroup() throws {
        let cases = try Self.load()
        let count = Dictionary(grouping: cases, by: \.group).mapValues(\.count)
        #expect(count["speccheck"] == 12)
        #expect(count["rfc8032"] == 5)
        #expect(count["zip215-small-order"] == 196)
        #expect(count["scalar"] == 4)
        #expect(count["encoding"] == 2)
        #expect(count["length"] == 5)
        #expect(cases.count == Self.cases.count)
        #expect(Set(cases.map(\.name)).count == cases.count, "case names are unique")
    }

    /// A key of small order is refused where it would be trusted (spec/format.md §1.3): the 14
    /// small-order encodings are exactly the `A` values of the ZIP 215 set, built there from the
    /// curve's torsion points, independently of the list in the wrapper.
    @Test("exactly the 14 small-order encodings of the ZIP 215 set are of small order; no other key of the file is")
    func smallOrderKeys() throws {
        let cases = try Self.load()
        let torsion = Set(cases.filter { $0.group == "zip215-small-order" }.map(\.publicKey))
        #expect(torsion.count == 14)
        for text in Set(cases.map(\.publicKey)) {
            guard let bytes = Hex.decode(text), let key = try? Ed25519PublicKey(rawRepresentation: bytes) else {
                continue
            }
            #expect(key.hasSmallOrder == torsion.contains(text), "\(text)")
        }
        for _ in 0..<64 {
            #expect(!(try Ed25519PrivateKey.generate().publicKey.hasSmallOrder))
        }
    }

    @Test("a verifier-key text carrying any of the 14 small-order encodings is refused, saying why")
    func smallOrderKeyTexts() throws {
        for text in Set(try Self.load().filter { $0.group == "zip215-small-order" }.map(\.publicKey)) {
            let bytes = try #require(Hex.decode(text))
            let key = try Ed25519PublicKey(rawRepresentation: bytes)
            let id = NoteKey.hex8(NoteKey.keyID(name: "forger", publicKey: key))
            let line = "forger+\(id)+" + Base64.encode([NoteKey.ed25519Algorithm] + bytes)
            #expect {
                _ = try NoteVerifier(parsing: line)
            } throws: { error in
                "\(error)".contains("small order")
            }
        }
    }

    /// The speccheck row of OpenSSL 3.0 in "Taming the many EdDSAs" (and of Go): cases 0–3 and 11
    /// accepted; 4 and 5 (cofactored-only), 6 and 7 (S ≥ L), 8 and 9 (non-canonical R) and 10
    /// (non-canonical A hashed reduced) refused.
    @Test("speccheck cases: V V V V X X X X X X X V, the row the paper gives for OpenSSL 3.0")
    func speccheckRow() throws {
        let row = try Self.load().filter { $0.group == "speccheck" }
            .map { try Self.wrapperAccepts($0) ? "V" : "X" }.joined(separator: " ")
        #expect(row == "V V V V X X X X X X X V")
    }

    /// Go's crypto/ed25519 is the independent verifier this file was checked against; the spec
    /// says they agree on every case. The file records Go's answer, and Go itself is run on the
    /// file (GoEd25519/main.go) so that the claim is checked, not copied: under CI the Go
    /// toolchain must be there (`.ci/run` installs it) and the test fails rather than skip.
    @Test("Go's crypto/ed25519, run on the file, gives the pinned answer for every case")
    func goAgrees() throws {
        let cases = try Self.load()
        for item in cases { #expect(item.goCryptoEd25519 == item.valid, "\(item.name)") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/go") else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "CI needs /usr/bin/go (apt golang-go)")
            print("SKIPPED Go's crypto/ed25519: /usr/bin/go is not installed")
            return
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-goed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/go")
        let program = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "GoEd25519/main.go"
        )
        process.arguments = ["run", program.path, Self.url.path]
        var environment = ProcessInfo.processInfo.environment
        environment["GO111MODULE"] = "off"
        environment["GOFLAGS"] = ""
        environment["GOCACHE"] = scratch.appendingPathComponent("gocache").path
        environment["CGO_ENABLED"] = "0"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        var answers: [String: Bool] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count == 2 { answers[String(fields[0])] = fields[1] == "V" }
        }
        #expect(answers.count == cases.count, "Go answered \(answers.count) of \(cases.count) cases")
        for item in cases { #expect(answers[item.name] == item.valid, "Go on \(item.name)") }
    }

    @Test("RFC 8032 §7.1 TEST 1024: the seed signs the 1023-byte message to the RFC's signature")
    func test1024KnownAnswer() throws {
        let item = try #require(try Self.load().first { $0.name == "rfc8032 TEST 1024" })
        let message = try #require(Hex.decode(item.message))
        #expect(message.count == 1023)
        let key = try Ed25519PrivateKey(
            seed: Hex.decode("f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5")!
        )
        #expect(Hex.encode(key.publicKey.rawRepresentation) == item.publicKey)
        #expect(Hex.encode(try key.sign(message)) == item.signature)
    }

    /// Keys are shared by every thread of an audit or a server; each check copies the key's
    /// context template, which must stay usable from many threads at once.
    @Test("one key verifies and signs from many threads at once with the right answers")
    func concurrentUse() async throws {
        let key = try Ed25519PrivateKey(seed: [UInt8](repeating: 3, count: 32))
        let message = Array("retrace/v1/event\n{}".utf8)
        let signature = try key.sign(message)
        var forged = signature
        forged[0] ^= 1
        let verifier = key.publicKey
        let tamperedForged = forged
        let results = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for round in 0..<50 {
                        let bytes = message + [UInt8(truncatingIfNeeded: task), UInt8(truncatingIfNeeded: round)]
                        guard let mine = try? key.sign(bytes), verifier.isValidSignature(mine, for: bytes),
                            verifier.isValidSignature(signature, for: message),
                            !verifier.isValidSignature(tamperedForged, for: message),
                            !verifier.isValidSignature(mine, for: message)
                        else { return false }
                    }
                    return true
                }
            }
            var all: [Bool] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results == Array(repeating: true, count: 8))
    }
}

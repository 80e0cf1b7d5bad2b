import CanonicalJSON
import Foundation
import LoopbackHTTP
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerTests {
    /// `retrace serve` as an operator runs it: a child process that seeds the demo, announces its
    /// address on standard output, answers, and exits cleanly on SIGTERM.
    @Suite("retrace serve")
    struct ServeCommandTests {
        @Test("--demo --port 0 serves the demo ledger on jemalloc, answers /health, and exits 0 on SIGTERM")
        func serveAndStop() async throws {
            let binary = try CLIBinary.locate()
            let directory = try Self.scratchDirectory("retrace-serve")
            defer { try? FileManager.default.removeItem(at: directory) }
            let db = directory.appendingPathComponent("demo.sqlite").path
            let process = Process()
            process.executableURL = binary
            // Answers verified under keys pinned from files (the repository's test keys), as a
            // mirror would run it, rather than under the keys the file records.
            process.arguments = [
                "serve", "--demo", "--db", db, "--port", "0", "--log-level", "info",
                "--trust-governance", Self.keys.appendingPathComponent("governance.pub").path,
                "--trust-log", Self.keys.appendingPathComponent("log.pub").path,
            ]
            let output = Pipe()
            process.standardOutput = output
            let logPath = directory.appendingPathComponent("serve.log").path
            FileManager.default.createFile(atPath: logPath, contents: nil)
            process.standardError = try #require(FileHandle(forWritingAtPath: logPath))
            try process.run()
            defer { if process.isRunning { process.terminate() } }

            // "retrace: serving PATH at http://127.0.0.1:PORT/"
            let line = try await ServerFixture.offPool { () -> String in
                var bytes: [UInt8] = []
                while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0a {
                    bytes.append(byte)
                }
                return String(decoding: bytes, as: UTF8.self)
            }
            #expect(line.hasPrefix("retrace: serving \(db) at http://127.0.0.1:"))
            let port = try #require(Int(line.split(separator: ":").last?.dropLast() ?? ""))
            let health = try await ServerFixture.offPool { try loopbackRequest(port: port, "GET", "/health") }
            #expect(health.status == 200)
            #expect(try CanonicalJSON.decode(health.body)["treeSize"]?.integerValue ?? 0 > 200)
            let product = try #require(try await ServerFixture.shared.value.script.products.first)
            let history = try await ServerFixture.offPool {
                try loopbackRequest(port: port, "GET", "/v1/products/\(product.gtin.digits)/\(product.serial.value)")
            }
            #expect(history.status == 200, "\(String(decoding: history.body, as: UTF8.self))")

            kill(process.processIdentifier, SIGTERM)
            let status = try await ServerFixture.offPool { () -> Int32 in
                process.waitUntilExit()
                return process.terminationStatus
            }
            #expect(status == 0)
            #expect(process.terminationReason == .exit)
            // The server allocates with jemalloc, as the executables are linked to (ProcessAllocator).
            let log = try String(contentsOfFile: logPath, encoding: .utf8)
            #expect(log.contains("allocator=jemalloc"), "\(log.prefix(2_000))")
            #expect(!log.contains("idle"), "jemalloc is linked but glibc's malloc serves Swift")
        }

        @Test(
            "--scan-journal: /v1/insights counts the docks' signed scans; an unreadable journal is reported, not skipped"
        )
        func insightsCountJournals() async throws {
            let binary = try CLIBinary.locate()
            let directory = try Self.scratchDirectory("retrace-journal")
            defer { try? FileManager.default.removeItem(at: directory) }
            let db = directory.appendingPathComponent("demo.sqlite").path
            let (made, madeText) = try CLIBinary.run(binary, ["demo", "--db", db])
            #expect(made == 0, "\(madeText)")
            let journal = directory.appendingPathComponent("demo-scans.jsonl").path
            let (counted, countedText) = try CLIBinary.run(
                binary,
                ["insights", "--db", db, "--scans", journal, "--scans", journal + ".missing", "--json"]
            )
            #expect(counted == 2, "the command refuses an unreadable journal: \(countedText)")
            let (local, localText) = try CLIBinary.run(binary, ["insights", "--db", db, "--scans", journal, "--json"])
            #expect(local == 0, "\(localText)")
            let expected = try #require(try CanonicalJSON.decode(Array(localText.utf8.dropLast()))["dockScans"])

            let process = Process()
            process.executableURL = binary
            process.arguments = [
                "serve", "--demo", "--db", db, "--port", "0", "--log-level", "error", "--scan-journal", journal,
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            let line = try await ServerFixture.offPool { () -> String in
                var bytes: [UInt8] = []
                while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0a {
                    bytes.append(byte)
                }
                return String(decoding: bytes, as: UTF8.self)
            }
            let port = try #require(Int(line.split(separator: ":").last?.dropLast() ?? ""))
            let answer = try await ServerFixture.offPool { try loopbackRequest(port: port, "GET", "/v1/insights") }
            #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
            let served = try #require(try CanonicalJSON.decode(answer.body)["dockScans"])
            #expect(served == expected, "the server counts the journal as retrace insights --scans does")
            #expect(served["observations"]?.integerValue == 11)
            let page = try await ServerFixture.offPool { try loopbackRequest(port: port, "GET", "/insights") }
            #expect(page.status == 200)

            // A journal that disappears is named among the rejections, the rest still counted.
            try FileManager.default.moveItem(atPath: journal, toPath: journal + ".moved")
            let gone = try await ServerFixture.offPool { try loopbackRequest(port: port, "GET", "/v1/insights") }
            let scans = try #require(try CanonicalJSON.decode(gone.body)["dockScans"])
            #expect(scans["observations"]?.integerValue == 0)
            #expect(
                scans["rejected"]?.arrayValue?.first?.stringValue?.contains("cannot be read") == true,
                "\(String(decoding: gone.body, as: UTF8.self))"
            )
        }

        /// A new empty folder for one test's ledger; the caller removes it.
        static func scratchDirectory(_ prefix: String) throws -> URL {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "\(prefix)-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return directory
        }

        /// The repository's test keys (keys/), which the demo ledger is made with.
        static let keys = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("keys")

        @Test("Pinned keys that are not the ledger's: serve refuses to start, exit 1, naming the key")
        func refusesOtherLog() async throws {
            let binary = try CLIBinary.locate()
            let directory = try Self.scratchDirectory("retrace-pin")
            defer { try? FileManager.default.removeItem(at: directory) }
            let db = directory.appendingPathComponent("demo.sqlite").path
            let governance = Self.keys.appendingPathComponent("governance.pub").path
            let log = Self.keys.appendingPathComponent("log.pub").path
            let other = Self.keys.appendingPathComponent("contoso.pub").path
            for (pinnedGovernance, pinnedLog, named) in [(governance, other, "log key"), (other, log, "governed by")] {
                let (status, text) = try CLIBinary.run(
                    binary,
                    [
                        "serve", "--demo", "--db", db, "--port", "0", "--log-level", "error", "--trust-governance",
                        pinnedGovernance,
                        "--trust-log", pinnedLog,
                    ]
                )
                #expect(status == 1, "\(text)")
                #expect(text.hasPrefix("retrace: ") && text.contains(named) && text.contains("contoso"), "\(text)")
            }
            let (status, text) = try CLIBinary.run(binary, ["serve", "--db", db, "--trust-log", log])
            #expect(status == 2 && text.contains("--trust-governance"), "\(text)")
        }

        @Test("--demo on a ledger that is not the demo's is refused, and the embedded test key is never implied for it")
        func demoOnlyForTheDemo() async throws {
            let binary = try CLIBinary.locate()
            let directory = try Self.scratchDirectory("retrace-notdemo")
            defer { try? FileManager.default.removeItem(at: directory) }
            let db = directory.appendingPathComponent("other.sqlite").path
            let (created, output) = try CLIBinary.run(
                binary,
                [
                    "init", "--db", db, "--origin", "example.com/other", "--log-key",
                    Self.keys.appendingPathComponent("log.key").path, "--governance-key",
                    Self.keys.appendingPathComponent("governance.key").path, "--roster",
                    Self.keys.appendingPathComponent("roster.json").path, "--time", "2026-03-02T09:00:00Z",
                ]
            )
            #expect(created == 0, "\(output)")
            let before = try Data(contentsOf: URL(fileURLWithPath: db))
            let (status, text) = try CLIBinary.run(binary, ["serve", "--demo", "--db", db, "--port", "0"])
            #expect(status == 2, "\(text)")
            #expect(text.contains("is not the demo ledger") && text.contains("example.com/other"), "\(text)")
            let (plain, plainText) = try CLIBinary.run(binary, ["serve", "--db", db, "--port", "0"])
            #expect(plain == 2 && plainText.contains("--log-key"), "\(plainText)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before, "refusing leaves the file as it was")
        }

        @Test("A missing ledger file: serve refuses to start with exit 2 and a one-line reason")
        func refusesMissingLedger() async throws {
            let binary = try CLIBinary.locate()
            let (status, text) = try CLIBinary.run(
                binary,
                ["serve", "--db", "/nonexistent/ledger.sqlite", "--port", "0"]
            )
            #expect(status == 2)
            #expect(text.hasPrefix("retrace: ") && text.contains("no ledger at"))
        }
    }
}

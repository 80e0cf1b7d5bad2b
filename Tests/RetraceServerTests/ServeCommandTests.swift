#if canImport(Glibc)
import Glibc
#endif
import CanonicalJSON
import Foundation
import LoopbackHTTP
import Testing

extension ServerTests {
    /// `retrace serve` as an operator runs it: a child process that seeds the demo, announces its
    /// address on standard output, answers, and exits cleanly on SIGTERM.
    @Suite("retrace serve")
    struct ServeCommandTests {
        @Test("--demo --port 0 serves the demo ledger, answers /health, and exits 0 on SIGTERM")
        func serveAndStop() async throws {
            let binary = try CLIBinary.locate()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-serve-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let db = directory.appendingPathComponent("demo.sqlite").path
            let process = Process()
            process.executableURL = binary
            process.arguments = ["serve", "--demo", "--db", db, "--port", "0", "--log-level", "error"]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
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

            kill(process.processIdentifier, SIGTERM)
            let status = try await ServerFixture.offPool { () -> Int32 in
                process.waitUntilExit()
                return process.terminationStatus
            }
            #expect(status == 0)
            #expect(process.terminationReason == .exit)
        }

        @Test("A missing ledger file: serve refuses to start with exit 2 and a one-line reason")
        func refusesMissingLedger() async throws {
            let binary = try CLIBinary.locate()
            let (status, text) = try CLIBinary.run(binary, ["serve", "--db", "/nonexistent/ledger.sqlite", "--port", "0"])
            #expect(status == 2)
            #expect(text.hasPrefix("retrace: ") && text.contains("no ledger at"))
        }
    }
}

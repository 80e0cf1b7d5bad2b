import CanonicalJSON
import Foundation
import GRDB
import LoopbackHTTP
import RetraceIdentity
import Testing

#if canImport(Glibc)
import Glibc
#endif

extension ServerTests {
    /// `retrace serve` over a demo ledger whose derived rows someone edited by hand: every answer
    /// about the edited products is a `ledger-integrity-failure` (a 500 problem document, a
    /// verdict, the product page's "could not be verified"), with the ledger's own keys and with
    /// pinned keys, never a shorter history.
    @Suite("derived rows edited, over HTTP")
    struct DerivedRowTamperHTTPTests {
        @Test("a deleted newest chain row of a recycled item: problem document, verdict and page all say so")
        func tampered() async throws {
            let binary = try CLIBinary.locate()
            let directory = try ServeCommandTests.scratchDirectory("retrace-tamper-http")
            defer { try? FileManager.default.removeItem(at: directory) }
            let db = directory.appendingPathComponent("demo.sqlite").path
            let (code, output) = try CLIBinary.run(binary, ["demo", "--db", db, "--json"])
            #expect(code == 0, "\(output.prefix(500))")
            let demo = try CanonicalJSON.decode(Array(output.utf8), options: .lenient)
            let scans = demo["scans"]?.arrayValue ?? []
            let recycled = try #require(scans.first { $0["expected"]?.stringValue == "end-of-life" })
            let scan = try #require(recycled["scan"]?.stringValue)
            let product = try IdentityParser.parse(scan).sgtin
            let link = product.digitalLink

            try Self.deleteNewestLink(of: link, in: db)

            let keys = ServeCommandTests.keys
            let pinned = [
                "--trust-governance", keys.appendingPathComponent("governance.pub").path,
                "--trust-log", keys.appendingPathComponent("log.pub").path,
            ]
            for trust in [[], pinned] {
                let process = Process()
                process.executableURL = binary
                process.arguments = ["serve", "--db", db, "--port", "0", "--read-only", "--log-level", "error"] + trust
                let out = Pipe()
                process.standardOutput = out
                process.standardError = FileHandle.nullDevice
                try process.run()
                defer {
                    if process.isRunning {
                        process.terminate()
                        process.waitUntilExit()
                    }
                }
                let line = try await ServerFixture.offPool { () -> String in
                    var bytes: [UInt8] = []
                    while let byte = try out.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0a {
                        bytes.append(byte)
                    }
                    return String(decoding: bytes, as: UTF8.self)
                }
                let port = try #require(Int(line.split(separator: ":").last?.dropLast() ?? ""), "\(line)")
                let path = "/v1/products/\(product.gtin.digits)/\(product.serial.value)"

                let history = try await ServerFixture.offPool { try loopbackRequest(port: port, "GET", path) }
                #expect(history.status == 500)
                #expect(history.header("content-type")?.hasPrefix("application/problem+json") == true)
                let problem = try CanonicalJSON.decode(history.body, options: .lenient)
                #expect(
                    problem["code"]?.stringValue == "ledger-integrity-failure",
                    "\(String(decoding: history.body, as: UTF8.self))"
                )

                let bundle = try await ServerFixture.offPool {
                    try loopbackRequest(port: port, "GET", path + "/bundle")
                }
                // The bundle is gathered, not verified, when served; a client verifying it is refused.
                if bundle.status == 200 {
                    let (verifyCode, verifyOutput) = try Self.verifyBundle(binary, bundle.body, directory: directory)
                    #expect(verifyCode == 1 && verifyOutput.contains("incomplete-history"), "\(verifyOutput)")
                }

                let verdict = try await ServerFixture.offPool {
                    try loopbackRequest(
                        port: port,
                        "POST",
                        "/v1/verdicts",
                        headers: [("Content-Type", "application/json")],
                        body: Array("{\"scan\":\"\(link)\",\"dock\":\"litware\"}".utf8)
                    )
                }
                let answer = try CanonicalJSON.decode(verdict.body, options: .lenient)
                #expect(
                    answer["verdict"]?.stringValue == "ledger-integrity-failure",
                    "\(String(decoding: verdict.body, as: UTF8.self))"
                )

                let page = try await ServerFixture.offPool {
                    try loopbackRequest(
                        port: port,
                        "GET",
                        "/01/\(product.gtin.digits)/21/\(product.serial.value)",
                        headers: [("Accept", "text/html")]
                    )
                }
                #expect(page.status == 500)
                #expect(String(decoding: page.body, as: UTF8.self).contains("This history could not be verified"))

                let recycling = try await ServerFixture.offPool {
                    try loopbackRequest(port: port, "GET", path + "/recycling")
                }
                #expect(!String(decoding: recycling.body, as: UTF8.self).contains("\"status\":\"verified\""))
            }
        }

        /// What an attacker with the file does: drops the trigger, deletes the chain's newest row.
        static func deleteNewestLink(of link: String, in path: String) throws {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: "DROP TRIGGER IF EXISTS chain_links_no_delete")
                try db.execute(
                    sql:
                        "DELETE FROM chain_links WHERE chain = ? AND seq = (SELECT MAX(seq) FROM chain_links WHERE chain = ?)",
                    arguments: [link, link]
                )
            }
            try queue.close()
        }

        /// `retrace verify-bundle` on bytes served, with the repository's test keys.
        static func verifyBundle(_ binary: URL, _ bytes: [UInt8], directory: URL) throws -> (Int32, String) {
            let file = directory.appendingPathComponent("served-bundle.json")
            try Data(bytes).write(to: file)
            let keys = ServeCommandTests.keys
            return try CLIBinary.run(
                binary,
                [
                    "verify-bundle", file.path, "--governance-key", keys.appendingPathComponent("governance.pub").path,
                    "--log-key", keys.appendingPathComponent("log.pub").path,
                ]
            )
        }
    }
}

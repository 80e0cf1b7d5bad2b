import Foundation
import RetraceLedger
import RetraceSimulation
import RetraceTestSupport
import Testing

/// `retrace serve` on a PostgreSQL ledger with witnesses: the cosigned checkpoint needs a file
/// named with `--witness-state`, since a `postgres://` URL is no path to put a suffix on.
@Suite("retrace serve on PostgreSQL", .serialized)
struct ServeOnPostgresTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test("--witness-policy without --witness-state is refused with exit 2, naming the option")
    func witnessStateRequired() throws {
        guard Backend.postgres.available else { return }
        let location = try ScratchLocation(.postgres)
        defer { location.remove() }
        _ = try LedgerStoreConformanceTests.ledger(on: try location.create())
        let witness = try String(
            contentsOf: Self.root.appendingPathComponent("Tests/RetraceWitnessTests/Vectors/witness1.vkey"),
            encoding: .utf8
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        let logKey = try String(contentsOf: Self.root.appendingPathComponent("keys/log.pub"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let policy = location.directory.appendingPathComponent("policy.txt")
        try Data("log \(logKey)\nwitness W1 \(witness) http://127.0.0.1:9/\nquorum W1\n".utf8).write(to: policy)

        let process = Process()
        process.executableURL = try BuiltExecutable.locate("retrace", override: "RETRACE_BIN")
        process.arguments = [
            "serve", "--db", location.db, "--port", "0", "--log-key",
            Self.root.appendingPathComponent("keys/log.key").path,
            "--witness-policy", policy.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2, "\(text)")
        #expect(text.contains("--witness-state"), "\(text)")
    }
}

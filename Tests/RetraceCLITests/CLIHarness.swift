import CanonicalJSON
import Foundation
import RetraceCrypto
import RetraceSimulation
import RetraceTestSupport
import Testing

/// Runs the built `retrace` binary, as a user would, and captures what it printed.
struct CLIResult {
    let code: Int32
    let stdout: String
    let stderr: String

    var json: JSONObject? {
        guard case .object(let object)? = try? CanonicalJSON.decode(Array(stdout.utf8.filter { $0 != 0x0a }))
        else { return nil }
        return object
    }

    /// The error contract: one line on stderr, `retrace: …`, nothing on stdout.
    var isOneLineError: Bool {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.count == 2 && lines[1].isEmpty && stderr.hasPrefix("retrace: ") && stdout.isEmpty
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
}

/// A temporary working directory with the test parties' key files and roster, and a way to run
/// `retrace` in it.
struct Workspace {
    let directory: URL
    static let parties: TestParties? = try? TestParties()

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard let parties = Self.parties else { throw HarnessError(description: "the embedded test keys do not load") }
        let keys = directory.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        var all = parties.signers
        all["governance"] = parties.governance
        all["log"] = parties.log
        for (id, signer) in all {
            try Data((signer.privateKeyText + "\n").utf8).write(to: keys.appendingPathComponent("\(id).key"))
            try Data((signer.verifier.description + "\n").utf8).write(to: keys.appendingPathComponent("\(id).pub"))
        }
        try Data(CanonicalJSON.encode(parties.roster.json)).write(to: keys.appendingPathComponent("roster.json"))
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: directory.appendingPathComponent(name))
    }

    func bytes(_ name: String) -> [UInt8]? { FileManager.default.contents(atPath: path(name)).map(Array.init) }

    /// The SHA-256 of a file's bytes (hex), or "absent": compares files byte for byte without
    /// printing megabytes when an expectation fails.
    func digest(_ name: String) -> String { bytes(name).map { Hex.encode(SHA256.hash($0)) } ?? "absent" }

    /// Runs `retrace args…` in this directory, with `input` on standard input.
    @discardableResult
    func run(_ arguments: [String], input: [UInt8] = []) throws -> CLIResult {
        let process = Process()
        process.executableURL = try Self.binary()
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let id = UUID().uuidString
        let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-out-\(id)")
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-err-\(id)")
        let inURL = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-in-\(id)")
        try Data(input).write(to: inURL)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)
        let inHandle = try FileHandle(forReadingFrom: inURL)
        defer {
            try? out.close()
            try? err.close()
            try? inHandle.close()
            for url in [outURL, errURL, inURL] { try? FileManager.default.removeItem(at: url) }
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inHandle
        try process.run()
        process.waitUntilExit()
        let stdout = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
        let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        return CLIResult(code: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// Creates `ledger.sqlite` with the test parties (log key keys/log.key, roster keys/roster.json).
    func initLedger(_ name: String = "ledger.sqlite") throws {
        let result = try run([
            "init", "--db", name, "--origin", "retrace.test/cli", "--log-key", "keys/log.key", "--governance-key",
            "keys/governance.key", "--roster", "keys/roster.json", "--time", "2026-03-02T09:00:00Z",
        ])
        guard result.code == 0 else { throw HarnessError(description: "init failed: \(result.stderr)") }
    }

    /// The built binary: next to the test bundle (`.build/<config>/retrace`), or `RETRACE_BIN`.
    static func binary() throws -> URL { try BuiltExecutable.locate("retrace", override: "RETRACE_BIN") }
}

extension JSONObject {
    func string(_ key: String) -> String? { self[key]?.stringValue }
    func integer(_ key: String) -> Int64? { self[key]?.integerValue }
    func bool(_ key: String) -> Bool? { self[key]?.boolValue }
    func array(_ key: String) -> [JSONValue]? { self[key]?.arrayValue }
    func object(_ key: String) -> JSONObject? { self[key]?.objectValue }
}

import CanonicalJSON
import Foundation
import RetraceTestSupport

/// One party on its own machine: a folder holding only its own private key (if it signs), the
/// ledger's two public keys and the CA certificate, and the `retrace` executable run from there.
/// No party folder ever holds the ledger file or the log's private key.
struct Party: Sendable {
    let name: String
    let folder: URL
    let server: String

    static let keysFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("keys")

    /// A new folder for `name` under `root` with `name.key` (when it signs), the public trust roots and the CA.
    static func make(_ name: String, signs: Bool, root: URL, server: String, ca: URL) throws -> Party {
        let folder = root.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var files = ["governance.pub", "log.pub"]
        if signs { files.append("\(name).key") }
        for file in files {
            try FileManager.default.copyItem(
                at: keysFolder.appendingPathComponent(file),
                to: folder.appendingPathComponent(file)
            )
        }
        try FileManager.default.copyItem(at: ca, to: folder.appendingPathComponent("ca.pem"))
        return Party(name: name, folder: folder, server: server)
    }

    struct Run: Sendable {
        let code: Int32
        let stdout: String
        let stderr: String
        var json: JSONObject? {
            let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
            return (try? CanonicalJSON.decode(Array(line.utf8), options: .lenient))?.objectValue
        }
    }

    /// `retrace ARGS --server URL --ca-cert ca.pem [--governance-key … --log-key …]` in the party's folder.
    func run(_ arguments: [String], trust: Bool = true, extra: [String] = []) async throws -> Run {
        var all = arguments + ["--server", server, "--ca-cert", "ca.pem"] + extra
        if trust { all += ["--governance-key", "governance.pub", "--log-key", "log.pub"] }
        return try await Self.execute(all, in: folder)
    }

    /// Runs the child off the concurrency pool: waiting on a process must not hold a pool thread
    /// that an in-process server (the lying proxy) needs to answer that very process.
    static func execute(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) async throws -> Run
    {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result { try executeBlocking(arguments, in: folder, environment: environment) }
                )
            }
        }
    }

    static func executeBlocking(_ arguments: [String], in folder: URL, environment: [String: String]) throws -> Run {
        let process = Process()
        process.executableURL = try BuiltExecutable.locate("retrace", override: "RETRACE_CLI")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "RETRACE_SERVER")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            code: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }
}

/// `retrace serve --demo` over HTTPS with a certificate of a CA made for the test, as its own process.
final class ServedLedger: @unchecked Sendable {
    let process: Process
    let port: Int
    let folder: URL
    let ca: URL

    /// Serves `db` (the demo ledger, created when absent) in the operator folder under `root`, on
    /// `port` (0: any free one); a restart in the same folder keeps the certificates, so the
    /// parties' CA still holds, and `port` lets it come back at the same address.
    init(root: URL, port: Int = 0, db: String = "ledger.sqlite", extra: [String] = []) throws {
        folder = root.appendingPathComponent("operator")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        ca = folder.appendingPathComponent("ca.pem")
        if !FileManager.default.fileExists(atPath: ca.path) { try Self.makeCertificates(in: folder) }
        process = Process()
        process.executableURL = try BuiltExecutable.locate("retrace", override: "RETRACE_CLI")
        process.arguments =
            [
                "serve", "--demo", "--db", db, "--port", "\(port)", "--log-level", "error",
                "--tls-cert", "server.pem", "--tls-key", "server.key",
            ] + extra
        process.currentDirectoryURL = folder
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var bytes: [UInt8] = []
        while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0a { bytes.append(byte) }
        let line = String(decoding: bytes, as: UTF8.self)
        guard line.contains("at https://127.0.0.1:"), let port = Int(line.split(separator: ":").last?.dropLast() ?? "")
        else {
            process.terminate()
            throw TestFailure("retrace serve did not announce an https address: \(line)")
        }
        self.port = port
    }

    var address: String { "https://127.0.0.1:\(port)" }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    /// A CA, and a server certificate it signs for 127.0.0.1 and localhost, with the openssl CLI.
    static func makeCertificates(in folder: URL) throws {
        let steps: [[String]] = [
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=Retrace Test CA",
            ],
            [
                "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                "-subj", "/CN=127.0.0.1",
            ],
            [
                "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.pem", "-days", "2", "-extfile", "san.cnf",
            ],
        ]
        try Data("subjectAltName=IP:127.0.0.1,DNS:localhost\n".utf8).write(to: folder.appendingPathComponent("san.cnf"))
        for step in steps {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = step
            process.currentDirectoryURL = folder
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw TestFailure("openssl \(step[0]) failed") }
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

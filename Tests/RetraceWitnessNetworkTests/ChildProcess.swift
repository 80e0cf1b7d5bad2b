import Foundation
import LoopbackHTTP
import RetraceTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A `retrace` subcommand running as a separate process that announces its address on standard
/// output ("… at http://127.0.0.1:PORT/ …"), as `serve` and `witness` do.
final class ChildProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let stderrPath: String

    static func binary() throws -> URL { try BuiltExecutable.locate("retrace", override: "RETRACE_BIN") }

    init(_ arguments: [String], stderr: String) async throws {
        process.executableURL = try Self.binary()
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        _ = FileManager.default.createFile(atPath: stderr, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        stderrPath = stderr
        try process.run()
        let line = try await offPool { () -> String in
            var bytes: [UInt8] = []
            while let byte = try output.fileHandleForReading.read(upToCount: 1)?.first, byte != 0x0a {
                bytes.append(byte)
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        guard let range = line.range(of: "http://127.0.0.1:"),
            let port = Int(line[range.upperBound...].prefix { $0.isNumber })
        else {
            process.terminate()
            let log = (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""
            throw ChildFailure(description: "\(arguments.first ?? "") did not announce a port: \"\(line)\" \(log)")
        }
        self.port = port
    }

    /// SIGTERM, then the exit status.
    func stop() async -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        return
            (try? await offPool { [process] () -> Int32 in
                process.waitUntilExit()
                return process.terminationStatus
            }) ?? -1
    }

    func request(
        _ method: String,
        _ path: String,
        body: [UInt8]? = nil,
        contentType: String? = nil
    ) async throws
        -> LoopbackResponse
    {
        let port = self.port
        return try await offPool {
            try loopbackRequest(
                port: port,
                method,
                path,
                headers: contentType.map { [("Content-Type", $0)] } ?? [],
                body: body
            )
        }
    }

    deinit { if process.isRunning { process.terminate() } }
}

struct ChildFailure: Error, CustomStringConvertible {
    let description: String
}

/// Blocking socket and pipe reads on a thread of their own, never on Swift's cooperative pool.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

/// Runs the CLI to completion; returns its exit status and standard output and error together.
func runCLI(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    let binary = try ChildProcess.binary()
    return try await offPool {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

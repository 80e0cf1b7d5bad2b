import Foundation
import RetraceTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One run of the `retrace-appender` child process, its stdout captured in a file.
///
/// A file rather than a pipe: a child killed with SIGKILL or one that writes more than a pipe holds
/// can never block or lose lines that `write(2)` already accepted.
final class AppenderProcess {
    let process: Process
    let outputURL: URL

    /// Where `swift test` put the appender: beside the test bundle, or `RETRACE_APPENDER` if set.
    static func executable() throws -> URL {
        try BuiltExecutable.locate("retrace-appender", override: "RETRACE_APPENDER")
    }

    init(_ arguments: [String], in directory: URL, name: String) throws {
        let executable = try Self.executable()
        outputURL = directory.appendingPathComponent("\(name).out")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL)
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try output.close()
    }

    /// Runs to the end and returns what it printed.
    static func run(_ arguments: [String], in directory: URL, name: String) throws -> AppenderOutput {
        let child = try AppenderProcess(arguments, in: directory, name: name)
        return try child.finish()
    }

    func killHard() {
        _ = kill(process.processIdentifier, SIGKILL)
    }

    func finish() throws -> AppenderOutput {
        process.waitUntilExit()
        let text = try String(contentsOf: outputURL, encoding: .utf8)
        return AppenderOutput(
            text: text,
            status: process.terminationStatus,
            killed: process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
        )
    }
}

/// What an appender printed: only whole lines count (a line is complete once its newline is out).
struct AppenderOutput {
    let text: String
    let status: Int32
    let killed: Bool

    var lines: [Substring] {
        var all = text.split(separator: "\n", omittingEmptySubsequences: false)
        all.removeLast()  // after the last newline: empty, or a line cut short
        return all
    }

    /// Event ids (hex) the appender was told were durable.
    var acknowledged: [String] { lines.filter { $0.hasPrefix("ACK ") }.map { String($0.split(separator: " ")[2]) } }
    /// Ids of a batch whose append failed: never to be found in the ledger.
    var lost: [String] { lines.filter { $0.hasPrefix("LOST ") }.map { String($0.dropFirst(5)) } }
    /// `code storage rule` of each lost race the appender retried.
    var retries: [Substring] { lines.filter { $0.hasPrefix("RETRY ") } }
    var errors: [Substring] { lines.filter { $0.hasPrefix("ERR ") } }
}

struct ReliabilityFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A scratch folder per test, removed at the end.
struct ScratchFolder {
    let url: URL
    init(_ name: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("retrace-rel-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var ledger: String { url.appendingPathComponent("ledger.sqlite").path }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

import Foundation

/// Runs `retrace-load` (the HTTP service under loopback clients) as a child process for the HTTP
/// target, so its figure lands in the same JSON document as the rest of the run.
enum LoadRun {
    private struct Document: Decodable {
        struct Appends: Decodable {
            let clients: Int
            let appendsPerSecond: Double
        }
        let appends: [Appends]
    }

    static func run() -> BenchReport.HTTPFigures {
        let directory = (try? InstructionCounts.executable()).map { ($0 as NSString).deletingLastPathComponent } ?? "."
        let executable = (directory as NSString).appendingPathComponent("retrace-load")
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            return BenchReport.HTTPFigures(
                appendsPerSecondAt64Clients: nil,
                load: nil,
                note: "retrace-load is not built beside retrace-bench (swift build -c release --product retrace-load)"
            )
        }
        FileHandle.standardError.write(Data("HTTP load: retrace-load --clients 64 --json …\n".utf8))
        guard let output = try? InstructionCounts.run(executable, ["--clients", "64", "--json"]), output.status == 0
        else {
            return BenchReport.HTTPFigures(appendsPerSecondAt64Clients: nil, load: nil, note: "retrace-load failed")
        }
        FileHandle.standardError.write(Data(output.stderr.utf8))
        let document = try? JSONDecoder().decode(Document.self, from: Data(output.stdout.utf8))
        let rate = document?.appends.first { $0.clients == 64 }?.appendsPerSecond
        return BenchReport.HTTPFigures(
            appendsPerSecondAt64Clients: rate,
            load: BenchReport.JSONText(output.stdout),
            note: rate == nil ? "retrace-load's JSON had no 64-client row" : "retrace-load --clients 64, same run"
        )
    }
}

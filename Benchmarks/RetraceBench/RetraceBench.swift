import ArgumentParser
import Foundation
import RetraceLedger

/// Prints Retrace's performance figures beside the machine's own OpenSSL limits.
///
/// Run it in release mode: `swift run -c release retrace-bench` (`--quick` for a smaller run).
@main
struct RetraceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrace-bench", abstract: "Measure Retrace's append, verdict and audit rates on this machine.")

    @Flag(help: "Smaller sizes, for a quick look (about a minute).")
    var quick = false

    mutating func run() throws {
        print("Retrace benchmarks — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Date())")
        let baseline = try Baseline.measure()
        print("\n## Machine limits (same run)")
        print("Ed25519 verify, 1 core (libcrypto via Retrace's wrapper): \(Measure.format(baseline.verifyPerSecond)) /s")
        if let speed = Baseline.opensslSpeedVerify() {
            print("Ed25519 verify, 1 core (`openssl speed ed25519`):        \(Measure.format(speed)) /s")
        }
        print("SHA-256, 1 core: \(Measure.format(baseline.sha256MBPerSecond)) MB/s")
        let ceiling = Double(baseline.cores) * baseline.verifyPerSecond
        print("Ceiling for signature-checked work: cores × verify = \(Measure.format(ceiling)) /s")

        try AppendBenchmark.run(quick: quick, ceiling: ceiling)
        try VerdictBenchmark.run(quick: quick, baseline: baseline)
    }
}

import Foundation

/// Wall-clock sampling helpers for the benchmark command. Figures are printed, never asserted:
/// a shared 2-core machine makes timed assertions flaky, while printed medians, p99s and ratios
/// against the machine's own OpenSSL rates in the same run stay comparable.
enum Measure {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = now()
        try body()
        return Double(now() - start) / 1e9
    }

    /// Median and 99th percentile of samples in nanoseconds, reported in milliseconds.
    static func percentiles(_ samples: [UInt64]) -> (p50: Double, p99: Double) {
        guard !samples.isEmpty else { return (0, 0) }
        let sorted = samples.sorted()
        func at(_ q: Double) -> Double {
            Double(sorted[min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1)]) / 1e6
        }
        return (at(0.5), at(0.99))
    }

    static func format(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }

    /// Peak resident set size of this process so far (Linux `VmHWM`), in MiB.
    static func peakMemoryMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kb = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kb / 1024
        }
        return 0
    }
}

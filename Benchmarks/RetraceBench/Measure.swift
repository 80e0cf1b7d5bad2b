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

    /// CPU time of this process so far, every thread, in nanoseconds.
    static func cpuNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Peak resident set size of this process so far (Linux `VmHWM`), in KiB.
    static func peakKiB() -> Int { status("VmHWM:") }

    /// Resident set size of this process now (Linux `VmRSS`), in KiB.
    static func residentKiB() -> Int { status("VmRSS:") }

    /// `getrusage(RUSAGE_SELF).ru_maxrss` (KiB on Linux), a cross-check of `VmHWM`.
    static func maxRSSKiB() -> Int {
        var usage = rusage()
        return getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 ? Int(usage.ru_maxrss) : 0
    }

    private static func status(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            return line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        }
        return 0
    }

    /// Percentile `q` (0…1) of samples in nanoseconds, in microseconds.
    static func micros(_ samples: [UInt64], _ q: Double) -> Double {
        guard !samples.isEmpty else { return 0 }
        let sorted = samples.sorted()
        return Double(sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * q).rounded(.up)) - 1))]) / 1e3
    }
}

import Foundation

/// Wall-clock sampling helpers for the benchmark command. Figures are printed, never asserted:
/// a shared 2-core machine makes timed assertions flaky, while printed medians, p99s and ratios
/// against the machine's own OpenSSL rates in the same run stay comparable.
enum Measure {
    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// `value`, adding the nanoseconds it took to produce to `total` (a wait on another thread).
    static func waiting<Value>(_ total: inout UInt64, _ value: @autoclosure () -> Value) -> Value {
        let start = now()
        defer { total += now() - start }
        return value()
    }

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

    /// The middle of rounds of one rate (the upper one of an even count; 0 for none): a round caught
    /// in a slow or fast moment of the shared VM moves a mean but not this.
    static func median(_ values: [Double]) -> Double { values.isEmpty ? 0 : values.sorted()[values.count / 2] }

    static func format(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }

    /// CPU time of this process so far, every thread, in nanoseconds.
    static func cpuNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Bytes this process has passed to write system calls so far (Linux `/proc/self/io` `wchar`;
    /// 0 where it cannot be read).
    static func bytesWritten() -> Int { status("wchar:", file: "/proc/self/io") }

    /// Peak resident set size of this process so far (Linux `VmHWM`), in KiB.
    static func peakKiB() -> Int { status("VmHWM:") }

    /// Resident set size of this process now (Linux `VmRSS`), in KiB.
    static func residentKiB() -> Int { status("VmRSS:") }

    /// `getrusage(RUSAGE_SELF).ru_maxrss` (KiB on Linux), a cross-check of `VmHWM`.
    static func maxRSSKiB() -> Int {
        var usage = rusage()
        return getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 ? Int(usage.ru_maxrss) : 0
    }

    private static func status(_ field: String, file: String = "/proc/self/status") -> Int {
        guard let status = try? String(contentsOfFile: file, encoding: .utf8) else { return 0 }
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

extension Measure {
    /// User and system CPU time of this process so far, every thread, in nanoseconds (`getrusage`):
    /// the work a phase did, which unlike wall time does not grow when other processes share the cores.
    static func cpuTimes() -> (user: UInt64, system: UInt64) {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return (0, 0) }
        func nanos(_ time: timeval) -> UInt64 { UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_usec) * 1_000 }
        return (nanos(usage.ru_utime), nanos(usage.ru_stime))
    }

    /// CPU time (user + system, all threads) spent in `body`, in nanoseconds, beside its wall time.
    static func cpu(_ body: () throws -> Void) rethrows -> (wall: Double, user: UInt64, system: UInt64) {
        let before = cpuTimes()
        let wall = try seconds(body)
        let after = cpuTimes()
        return (wall, after.user - before.user, after.system - before.system)
    }
}

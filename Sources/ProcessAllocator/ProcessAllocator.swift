import CJemalloc

/// The memory allocator of Retrace's executables: jemalloc, linked in place of glibc's malloc.
///
/// The audit parses and checks entries on worker threads and judges them in log order on another,
/// which releases them: with glibc, that thread freed tens of allocations per entry into the
/// workers' arenas, and the workers' arenas coalesced their free chunks again and again. The same
/// audit of 10^6 entries on two threads took 12–14 % less CPU and 14–16 % less time on jemalloc,
/// run back to back (BENCHMARKS.md, issue 15, "jemalloc"). jemalloc keeps a cache per thread that
/// takes any thread's frees and returns them in batches.
///
/// Only executables link it (a library must not choose its host's allocator): each depends on
/// this module and reports ``description`` where it describes its own run, which also keeps the
/// linker from dropping a library nothing else names.
public enum ProcessAllocator {
    /// jemalloc's version (`mallctl("version")`), or `nil` when it does not answer.
    public static var version: String? {
        var text: UnsafePointer<CChar>?
        var length = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &text, &length, nil, 0) == 0, let text else { return nil }
        return String(cString: text)
    }

    /// Whether the calling thread's Swift allocations are served by jemalloc: its count of bytes
    /// this thread allocated grows across a fresh Swift array. False when glibc's malloc resolved
    /// first (a build that links libraries in another order, or an LD_PRELOAD of another
    /// allocator), in which case jemalloc is loaded but idle.
    public static func servesSwiftAllocations() -> Bool {
        guard let before = allocatedByThisThread() else { return false }
        let probe = [UInt64](repeating: 1, count: 4096)
        guard let after = allocatedByThisThread() else { return false }
        return withExtendedLifetime(probe) { after &- before >= UInt64(probe.count * 8) }
    }

    /// One line for reports and logs, e.g. `jemalloc 5.3.0-0-g54ea…`.
    public static var description: String {
        guard let version else { return "glibc malloc (jemalloc does not answer)" }
        let short = version.split(separator: "-").first.map(String.init) ?? version
        return servesSwiftAllocations() ? "jemalloc \(short)" : "jemalloc \(short) linked but idle"
    }

    private static func allocatedByThisThread() -> UInt64? {
        var value: UInt64 = 0
        var length = MemoryLayout<UInt64>.size
        guard mallctl("thread.allocated", &value, &length, nil, 0) == 0 else { return nil }
        return value
    }
}

import Foundation

/// How many cores the CPU-bound work (signature checks, evidence verification) spreads over.
///
/// Read once per process: on Linux, Foundation's `activeProcessorCount` reads the cgroup's CPU
/// quota from files on every call, and asked once per dock scan that was about 4 % of a warm
/// verdict's instructions. A quota changed while the process runs is seen at its next start.
public enum Parallelism {
    public static let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
}

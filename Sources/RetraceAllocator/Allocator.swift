import CJemalloc

#if canImport(Glibc)
import Glibc
#endif

/// The allocator Retrace's executables run on: jemalloc, linked in place of glibc's `malloc`.
///
/// Every parsed statement, signature check and judged event allocates dozens of short-lived
/// objects (the JSON tree, strings, arrays, prepared entries), and they are freed on another thread
/// than the one that made them whenever the audit or the append hands a batch between threads.
/// glibc's allocator spent about a fifth of the audit's own CPU in `malloc`, `free` and their
/// consolidation; with jemalloc an audit of 10^5 entries on two threads ran 11 % faster in wall
/// time and 9 % in CPU, alternated against the same code on glibc (BENCHMARKS.md, issue 15). Linking it is
/// enough: the dynamic linker resolves every library's `malloc` to the first definition in load
/// order, and an executable's own libraries load before libc.
public enum Allocator {
    /// jemalloc's version, when jemalloc is the allocator serving this process's `malloc`; `nil`
    /// otherwise (a binary whose `malloc` resolved to glibc's after all, as under a preload).
    ///
    /// The `malloc` every library calls is the first definition in the process's global symbol
    /// scope; jemalloc serves it exactly when that is the definition in jemalloc's own library.
    public static var jemallocInUse: String? {
        guard let library = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_NOLOAD) else { return nil }
        defer { dlclose(library) }
        guard let served = dlsym(nil, "malloc"), let own = dlsym(library, "malloc"), served == own else {
            return nil
        }
        return version()
    }

    /// jemalloc's `version` string, read through `mallctl`.
    static func version() -> String? {
        var pointer: UnsafePointer<CChar>?
        var size = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &pointer, &size, nil, 0) == 0, let pointer else { return nil }
        return String(cString: pointer)
    }

    /// How `retrace-bench` and the server name the allocator in their reports.
    public static var name: String {
        jemallocInUse.map { "jemalloc \($0)" } ?? "system malloc"
    }
}

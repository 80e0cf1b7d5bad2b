import CLibFuzzer

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Starts libFuzzer with a target's `LLVMFuzzerTestOneInput`, and what the targets share.
///
/// SwiftPM binds an executable's `main` to the target's own entry point (`main.swift`), so libFuzzer's
/// `main` is never linked; each target's `main.swift` calls ``run(_:)``, which passes the command line
/// to `LLVMFuzzerRunDriver`: every libFuzzer flag (`-max_total_time`, `-merge=1`, a crash file to replay)
/// works as usual.
public enum FuzzDriver {
    /// The C signature of `LLVMFuzzerTestOneInput`.
    public typealias TestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// Runs libFuzzer and exits with its status.
    public static func run(_ testOneInput: TestOneInput) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
    }

    /// The input as bytes (libFuzzer may pass a null pointer for an empty input).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}

/// Stops the run when a property every accepted input must have does not hold.
///
/// Refusing bad input is the code under test's job (it throws); a failed invariant is a bug in that
/// code, so the fuzzer must record the input as a crash rather than carry on.
public func invariant(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #fileID,
    line: UInt = #line
) {
    guard condition() else { fatalError("invariant failed: \(message())", file: file, line: line) }
}

/// Byte-exact string comparison: Swift's `==` treats canonically equivalent strings as equal
/// (precomposed "é" and "e\u{301}", "K" and the Kelvin sign), which is exactly what must not hide here.
public func sameBytes(_ a: String, _ b: String) -> Bool { Array(a.utf8) == Array(b.utf8) }

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A child process for the reliability tests: appends valid statements to a ledger and prints
// `ACK <index> <event id>` for each one only after `Ledger.append` returned (durable), flushing
// each line, so the parent knows exactly what was acknowledged when it kills this process.
// Exit codes: 0 done, 2 usage, 3 a storage failure ended the run (printed as `ERR ...`), 4 other.
do {
    let options = try AppenderOptions(arguments: Array(CommandLine.arguments.dropFirst()))
    if let limit = options.maxFileSize {
        // A write past the limit must fail with EFBIG (as a full disk fails with ENOSPC), not kill us.
        signal(SIGXFSZ, SIG_IGN)
        var cap = rlimit(rlim_cur: rlim_t(limit), rlim_max: rlim_t(limit))
        guard setrlimit(Int32(RLIMIT_FSIZE.rawValue), &cap) == 0 else { throw AppenderFailure("setrlimit failed") }
    }
    exit(try Appender.opening(options: options).run())
} catch let failure as AppenderFailure {
    Appender.emit("USAGE \(failure.description)")
    exit(2)
} catch {
    Appender.emit("SETUP \(error)")
    exit(4)
}

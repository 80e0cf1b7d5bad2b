import ArgumentParser
import Dispatch
import Foundation
import RetraceCrypto
import RetraceKit
import RetraceWitness
import Synchronization

/// `--server URL` (or `RETRACE_SERVER`) and `--ca-cert`: the command talks to a remote
/// `retrace serve` instead of opening a ledger file. An explicit `--db` always wins over the
/// environment, so a script that names its file is never redirected by a variable it did not set.
struct RemoteOptions: ParsableArguments {
    @Option(
        help:
            "A remote ledger: the address of `retrace serve`, e.g. https://ledger.example:8443 (default: $RETRACE_SERVER)."
    )
    var server: String?
    @Option(
        name: .customLong("ca-cert"),
        help: "A PEM CA certificate to trust for the server's TLS certificate, besides the system's."
    )
    var caCert: String?
    @Option(
        help: """
            The origin of the log you trust (the first line of its checkpoints, e.g. retrace.test/demo): a checkpoint \
            with another origin is refused. audit requires it with --log-key.
            """
    )
    var origin: String?

    /// The server to use: `--server`, else `RETRACE_SERVER` unless a ledger file was named.
    func address(db: String?) throws -> String? {
        if let server {
            guard db == nil else { throw CLIError.usage("give --db FILE or --server URL, not both") }
            return server
        }
        guard db == nil, let variable = ProcessInfo.processInfo.environment["RETRACE_SERVER"], !variable.isEmpty else {
            return nil
        }
        return variable
    }

    /// The ledger file of a local command, or the usage error that says both ways.
    static func requireDB(_ db: String?) throws -> String {
        guard let db else { throw CLIError.usage("give the ledger: --db FILE, or --server URL for a remote ledger") }
        return db
    }
}

/// Runs a remote operation to completion from a synchronous command, and maps its errors.
enum Remote {
    /// The trust roots a client holds: never taken from the server it checks.
    static func anchors(_ trust: TrustOptions) throws -> TrustAnchors {
        try anchors(governance: trust.governanceKey, log: trust.logKey)
    }

    static func anchors(governance: String?, log: String?) throws -> TrustAnchors {
        guard let governance, let log else {
            throw CLIError.usage(
                "a client of a remote ledger verifies every answer under trust roots it holds: "
                    + "pass --governance-key GOV.pub and --log-key LOG.pub (obtained from the ledger's governance, "
                    + "not from the server)"
            )
        }
        return TrustAnchors(
            governance: [try readVerifier(governance, what: "governance key")],
            logKey: try readVerifier(log, what: "log key"),
            origin: nil
        )
    }

    /// A public key file; a private key given where a public one belongs is refused by name.
    static func readVerifier(_ path: String, what: String) throws -> NoteVerifier {
        let text = try LedgerAccess.readText(path, what: what).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("PRIVATE+KEY+") {
            throw CLIError.usage(
                "\(what) \(path) is a private key; with --server give the public key (NAME.pub): "
                    + "a client never needs the log's or the governance's private key"
            )
        }
        return try LedgerAccess.readPublicKey(path, what: what)
    }

    /// Opens a client, runs `body` against the remote ledger, closes the client, and turns any
    /// failure into the CLI's one-line error with its exit code.
    ///
    /// The pins of `options` (`--origin`) and `freshness` (`--witness-policy`, `--max-age`, `--now`)
    /// apply to every checkpoint the server shows (``RemoteLedger/admit(_:what:)``).
    static func run<T: Sendable>(
        _ options: RemoteOptions,
        server: String,
        anchors: TrustAnchors,
        freshness: FreshnessOptions,
        _ body: @escaping @Sendable (RemoteLedger) async throws -> T
    ) throws -> T {
        let requirement = try freshness.requirement()
        let client: LedgerClient
        do { client = try LedgerClient(server: server, caCertificateFile: options.caCert) } catch {
            throw cliError(error)
        }
        let pinned = TrustAnchors(
            governance: anchors.governance,
            logKey: anchors.logKey,
            origin: options.origin ?? anchors.origin
        )
        let ledger = RemoteLedger(client: client, anchors: pinned, witnessing: requirement)
        let outcome = blocking {
            let result: Result<T, any Error>
            do { result = .success(try await body(ledger)) } catch { result = .failure(error) }
            await client.shutdown()
            return result
        }
        switch outcome {
        case .success(let value):
            if let seen = ledger.witnessed.witnessed { witnessed.withLock { $0 = seen } }
            return value
        case .failure(let error): throw cliError(error)
        }
    }

    /// The newest witnessed checkpoint the last remote operation relied on (with `--witness-policy`).
    static let witnessed = Mutex<WitnessedCheckpoint?>(nil)

    /// Prints `witnessed … by N of M (checkpoint S)` after a remote command's text output.
    static func printWitnessed(json: Bool) {
        guard !json, let seen = witnessed.withLock({ $0 }) else { return }
        Output.print(FreshnessOptions.line(seen))
    }

    /// Waits on this thread for `body`, which runs on the concurrency pool: the commands are
    /// synchronous, the HTTP client is not.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let box = Box<T>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let value = await body()
            box.value.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return box.value.withLock { $0! }
    }

    final class Box<T: Sendable>: Sendable {
        let value = Mutex<T?>(nil)
    }

    static func cliError(_ error: any Error) -> CLIError {
        switch error {
        case let error as CLIError: return error
        case let error as ClientError:
            switch error.kind {
            case .refused:
                // A refusal of the request itself (4xx but malformed input) cannot be checked; a rule's,
                // a chain's or a signer's refusal, or an absent product, is an answer: no.
                let cannot: Set<String> = [
                    "malformed-request", "malformed-statement", "empty-batch", "invalid-scan", "malformed-bundle",
                    "too-large", "batch-too-large", "bad-request",
                ]
                let code = error.code.map { cannot.contains($0) } ?? true
                let serverTrouble = (error.status ?? 500) >= 500
                var text = error.description
                if error.request.hasPrefix("POST"), !text.contains("nothing was appended") {
                    text += "; nothing was appended"
                }
                return CLIError(code || serverTrouble ? CLIError.cannotCheck : CLIError.refused, text)
            case .transport, .malformedAnswer:
                return CLIError(CLIError.cannotCheck, error.description)
            }
        case let error as VerificationError:
            return VerificationMapping.cliError(error)
        case let error as WitnessError:
            return FreshnessOptions.cliError(error)
        case let error as LedgerMirror.Inconsistency:
            return CLIError(CLIError.refused, "the mirror refuses the server's log: \(error.description)")
        default:
            return CLIError.from(error)
        }
    }
}

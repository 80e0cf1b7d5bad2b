import ArgumentParser
import Foundation
import Logging
import NIOSSL
import ProcessAllocator
import RetraceEvents
import RetraceLedger
import RetracePostgres
import RetraceServer
import RetraceSimulation
import RetraceStorage
import RetraceVerification
import RetraceWitness
import RetraceWitnessService

/// `retrace serve`: the ledger as an HTTP service (spec/server.md, spec/openapi.yaml).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a ledger over HTTP: the /v1 API, /checkpoint, and product pages at /01/{gtin}/21/{serial}."
    )

    @Option(name: .long, help: "The ledger file (SQLite).")
    var db: String = "retrace.sqlite"
    @Option(help: "Address to bind; loopback unless you mean to expose the service.")
    var host: String = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one and prints it).")
    var port: Int = 8080
    @Flag(help: "Create the demo ledger at --db first when it does not exist, so there is something to see.")
    var demo = false
    @Option(
        name: .customLong("log-key"),
        help: "The log's private key, to accept appends (default: the embedded test key for test ledgers)."
    )
    var logKey: String?
    @Flag(name: .customLong("read-only"), help: "Serve reads only; refuse appends with 503.")
    var readOnly = false
    @Option(name: .customLong("max-body"), help: "The largest request body accepted, in bytes.")
    var maxBody: Int = 4 << 20
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"
    @Option(
        name: .customLong("trust-governance"),
        help: "Verify answers under this governance public key (NAME.pub), not the one the ledger file records."
    )
    var trustGovernance: String?
    @Option(
        name: .customLong("trust-log"),
        help: "Verify answers under this log public key (NAME.pub), not the one the ledger file records."
    )
    var trustLog: String?
    @Option(
        name: .customLong("witness-policy"),
        help: """
            The log's side of witnessing: a C2SP tlog-policy file with witness URLs; each new checkpoint is sent to \
            them and served with the cosignatures gathered. It demands nothing of readers: a verifier brings its own \
            policy (--witness-policy of scan, history, verify-bundle and every --server command).
            """
    )
    var witnessPolicy: String?
    @Flag(
        name: .customLong("require-quorum"),
        help: "Publish at /checkpoint only checkpoints cosigned by the policy's quorum (503 until one is)."
    )
    var requireQuorum = false
    @Option(
        name: .customLong("witness-state"),
        help: "Where the newest cosigned checkpoint is kept (default: DB.witnessed; required for postgres://)."
    )
    var witnessState: String?

    @Option(name: .customLong("tls-cert"), help: "Serve HTTPS with this PEM certificate chain (the server's first).")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.")
    var tlsKey: String?
    @Option(
        name: .customLong("scan-journal"),
        help: ArgumentHelp(
            "A dock's signed scan journal (retrace scan --journal), counted into /v1/insights and /insights at "
                + "each request; repeatable.",
            valueName: "FILE"
        )
    )
    var scanJournals: [String] = []

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("give both --tls-cert and --tls-key, or neither")
        }
        guard !requireQuorum || witnessPolicy != nil else {
            throw ValidationError("--require-quorum needs --witness-policy")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0…65535, found \(port)") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard maxBody >= 1_024 else { throw ValidationError("--max-body must be at least 1024 bytes") }
        guard (trustGovernance == nil) == (trustLog == nil) else {
            throw ValidationError("give both --trust-governance and --trust-log, or neither")
        }
    }

    /// The anchors every verdict, history and recycling answer is verified under.
    ///
    /// By default they are the keys the ledger file records, which trusts the file being served.
    /// A mirror or a dock's own server pins them from key files obtained out of band instead; a file
    /// that records other keys is then not the log its operator means to serve, and the service
    /// refuses to start rather than answer every scan with an integrity failure.
    func anchors(for ledger: Ledger) throws -> TrustAnchors {
        guard let trustGovernance, let trustLog else {
            return TrustAnchors(governance: ledger.trustRoots, logKey: ledger.logKey, origin: ledger.origin)
        }
        let governance = try LedgerAccess.readPublicKey(trustGovernance, what: "governance key")
        let log = try LedgerAccess.readPublicKey(trustLog, what: "log key")
        guard ledger.logKey == log else {
            throw CLIError(
                CLIError.refused,
                "\(db) is signed by log key \(ledger.logKey.name), not by the pinned \(log.name) (\(trustLog)): "
                    + "refusing to serve a log other than the one trusted"
            )
        }
        guard ledger.trustRoots.contains(governance) else {
            throw CLIError(
                CLIError.refused,
                "\(db) is governed by \(ledger.trustRoots.map(\.name).joined(separator: ", ")), not by the pinned "
                    + "\(governance.name) (\(trustGovernance)): refusing to serve a log other than the one trusted"
            )
        }
        return TrustAnchors(governance: [governance], logKey: log, origin: ledger.origin)
    }

    /// The server side of HTTPS, from PEM files; unreadable files stop the start with their names.
    func tlsConfiguration() throws -> TLSConfiguration? {
        guard let tlsCert, let tlsKey else { return nil }
        let chain: [NIOSSLCertificate]
        do { chain = try NIOSSLCertificate.fromPEMFile(tlsCert) } catch {
            throw CLIError.usage("--tls-cert \(tlsCert) is not a PEM certificate chain (\(error)); check the file")
        }
        guard !chain.isEmpty else { throw CLIError.usage("--tls-cert \(tlsCert) holds no certificate") }
        let key: NIOSSLPrivateKey
        do { key = try NIOSSLPrivateKey(file: tlsKey, format: .pem) } catch {
            throw CLIError.usage("--tls-key \(tlsKey) is not a PEM private key (\(error)); check the file")
        }
        return TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(key)
        )
    }

    /// The file beside an SQLite ledger, or the one `--witness-state` names: a `postgres://` URL is
    /// not a file path to put a suffix on.
    func witnessStatePath() throws -> String {
        if let witnessState { return witnessState }
        guard !PostgresLedgerStore.isURL(db) else {
            throw CLIError.usage(
                "--witness-policy on a postgres:// ledger needs --witness-state FILE for its cosigned checkpoint"
            )
        }
        return db + ".witnessed"
    }

    /// The witnesses to gather cosignatures from, read from `--witness-policy`.
    func witnesses(for ledger: Ledger, logger: Logger) throws -> WitnessPublication? {
        guard let witnessPolicy else { return nil }
        let policy = try FreshnessOptions.readPolicy(witnessPolicy)
        guard ledger.logKey.name == ledger.origin else {
            throw CLIError.usage(
                "witnesses identify a log by its origin, and this ledger's log key is named \(ledger.logKey.name), "
                    + "not \(ledger.origin); witnessing needs a ledger whose log key name is its origin"
            )
        }
        let gatherer: CosignatureGatherer
        do {
            gatherer = try CosignatureGatherer(
                policy: policy,
                log: WitnessPublication.log(store: ledger.store, logKey: ledger.logKey),
                path: try witnessStatePath(),
                logger: logger
            )
        } catch let error as WitnessError {
            throw CLIError.usage("\(witnessPolicy): \(error.reason)")
        }
        return WitnessPublication(gatherer: gatherer, requireQuorum: requireQuorum)
    }

    /// `--demo` conveniences (a clock that never runs behind the story, the public test log key)
    /// apply only to the demo's own ledger: its origin and the public test log key. Any other
    /// ledger at `--db` is refused rather than served with a clock or key that is not its own.
    static func requireDemoLedger(_ db: String) throws {
        let ledger = try LedgerAccess.openReadOnly(db)
        let test = try TestParties()
        guard ledger.origin == TestParties.origin, ledger.logKey == test.log.verifier else {
            throw CLIError.usage(
                "\(db) is not the demo ledger (origin \(ledger.origin), log key \(ledger.logKey.name)); --demo applies "
                    + "only to the demo's own ledger: serve it without --demo"
            )
        }
    }

    func run() async throws {
        var logger = Logger(label: "retrace.server")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var clock: @Sendable () -> Timestamp = Ledger.systemClock
        if demo {
            if !FileManager.default.fileExists(atPath: db) {
                let (_, script) = try DemoCommand.seed(db: db, parties: try TestParties())
                logger.info(
                    "seeded the demo ledger",
                    metadata: [
                        "db": "\(db)", "products": "\(script.products.count)", "statements": "\(script.statementCount)",
                    ]
                )
            }
            try Self.requireDemoLedger(db)
            clock = DemoCommand.clock
            logger.notice(
                "demo conveniences on: the demo's clock (never before the story's end) and the public test log key",
                metadata: ["db": "\(db)"]
            )
        }
        let ledger: Ledger
        if readOnly {
            ledger = try Ledger.open(store: try StoreLocation.open(db, readOnly: true), clock: clock)
        } else {
            // The embedded test log key is a demo convenience: any other ledger needs its key given.
            if logKey == nil, !demo {
                guard (try? Self.requireDemoLedger(db)) != nil else {
                    _ = try LedgerAccess.openReadOnly(db)  // a missing or foreign file is named first
                    throw CLIError.usage(
                        "serving \(db) for appends needs its log key: pass --log-key FILE, or --read-only "
                            + "(the embedded test key is used only for the demo's own ledger)"
                    )
                }
                logger.notice("appending with the embedded public test log key: this is the demo's ledger")
            }
            let signer = try LedgerAccess.appendSigner(db, logKeyFile: logKey)
            ledger = try Ledger.open(
                store: try StoreLocation.open(db, readOnly: false),
                logSigner: signer,
                clock: clock
            )
        }
        let verifier = Verifier(store: ledger.store, anchors: try anchors(for: ledger), clock: clock)
        let service = LedgerService(
            ledger: ledger,
            verifier: verifier,
            canAppend: !readOnly,
            witnesses: try witnesses(for: ledger, logger: logger),
            scanJournals: scanJournals,
            logger: logger
        )
        var configuration = ServerConfiguration(host: host, port: port, maxBodyBytes: maxBody)
        configuration.tls = try tlsConfiguration()
        let server = RetraceServer(service: service, configuration: configuration, logger: logger)
        let host = self.host
        let scheme = configuration.tls == nil ? "http" : "https"
        logger.info("starting", metadata: ["db": "\(db)", "allocator": "\(ProcessAllocator.description)"])
        do {
            try await server.run { port in
                // One line on standard output a script can wait for; the logs go to standard error.
                FileHandle.standardOutput.write(Data("retrace: serving \(db) at \(scheme)://\(host):\(port)/\n".utf8))
            }
        } catch  where "\(error)".contains("Address already in use") {
            throw CLIError.usage(
                "port \(port) on \(host) is already in use; choose another with --port (0 picks a free one)"
            )
        } catch  where "\(error)".contains("bind") {
            throw CLIError.usage("cannot listen on \(host):\(port) (\(error)); check --host and --port")
        }
    }
}
